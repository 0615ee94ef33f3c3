"""SHAP explanations of the churn probability, per original column, in plain words.

Explainer: SHAP's permutation explainer over the *raw* columns (each categorical column is
one feature, its values as integer codes decoded inside the model function), with an
independent masker on a small background sample from the training split. It is
model-agnostic, so it needs nothing from Keras or TensorFlow internals (DeepExplainer and
GradientExplainer follow TensorFlow's gradient APIs, which move between releases), and it
is exact in the SHAP sense: a row's values plus the base value equal the model's output.
Explaining raw columns rather than one-hot inputs gives one reason per attribute a
marketer knows ("Contract"), not one per encoded level.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shap

from pipeline.data.schema import DataSchema

Probability = Callable[[dict[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class Codec:
    """Raw columns <-> a numeric matrix (categorical values as their index in the contract)."""

    schema: DataSchema

    @property
    def columns(self) -> list[str]:
        return self.schema.feature_columns

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        out = np.empty((len(frame), len(self.columns)))
        for j, col in enumerate(self.columns):
            if col in self.schema.numeric_inputs:
                out[:, j] = np.asarray(frame[col], dtype="float64")
            else:
                out[:, j] = pd.Categorical(np.asarray(frame[col], dtype=object), self.schema.categorical[col]).codes
        return out

    def decode(self, z: np.ndarray) -> dict[str, np.ndarray]:
        columns = {}
        for j, col in enumerate(self.columns):
            if col in self.schema.numeric_inputs:
                columns[col] = z[:, j]
            else:
                columns[col] = np.asarray(self.schema.categorical[col], dtype=object)[z[:, j].astype(int)]
        return columns


@dataclass(frozen=True)
class Explanations:
    columns: list[str]
    values: np.ndarray  # [rows, columns]: contribution of each column to the churn probability
    base_value: float  # mean probability over the background sample

    def global_importance(self) -> pd.Series:
        """Mean absolute contribution per column, largest first."""
        return pd.Series(np.abs(self.values).mean(axis=0), index=self.columns).sort_values(ascending=False)


def explain(
    probability: Probability, codec: Codec, background: pd.DataFrame, rows: pd.DataFrame, seed: int
) -> Explanations:
    """SHAP values of ``probability`` (raw columns -> churn probability) for ``rows``."""
    masker = shap.maskers.Independent(codec.encode(background), max_samples=len(background))
    explainer = shap.explainers.Permutation(
        lambda z: probability(codec.decode(z)), masker, feature_names=codec.columns, seed=seed
    )
    result = explainer(codec.encode(rows), max_evals=2 * len(codec.columns) + 1, silent=True)
    return Explanations(codec.columns, np.asarray(result.values), float(np.mean(result.base_values)))


def reasons(explanations: Explanations, rows: pd.DataFrame, schema: DataSchema, top: int = 3) -> list[list[str]]:
    """Each row's ``top`` strongest contributions as sentences, e.g.
    "Contract is Month-to-month: raises churn risk" or "tenure of 2: raises churn risk"."""
    sentences = []
    for i in range(len(rows)):
        row_values = explanations.values[i]
        order = np.argsort(-np.abs(row_values))[:top]
        said = []
        for j in order:
            col = explanations.columns[j]
            value = rows[col].iloc[i]
            effect = "raises" if row_values[j] > 0 else "lowers"
            subject = f"{col} of {float(value):g}" if col in schema.numeric_inputs else f"{col} is {value}"
            said.append(f"{subject}: {effect} churn risk")
        sentences.append(said)
    return sentences


def permutation_importance(
    probability: Probability, codec: Codec, rows: pd.DataFrame, y: np.ndarray, repeats: int, seed: int
) -> pd.Series:
    """Mean drop in ROC-AUC when one raw column is shuffled (a model-agnostic cross-check of SHAP)."""
    from pipeline.evaluation.metrics import roc_auc

    rng = np.random.default_rng(seed)
    z = codec.encode(rows)
    reference = roc_auc(y, probability(codec.decode(z)))
    drops = {}
    for j, col in enumerate(codec.columns):
        losses = []
        for _ in range(repeats):
            shuffled = z.copy()
            shuffled[:, j] = rng.permutation(shuffled[:, j])
            losses.append(reference - roc_auc(y, probability(codec.decode(shuffled))))
        drops[col] = float(np.mean(losses))
    return pd.Series(drops).sort_values(ascending=False)


def drivers_by_segment(explanations: Explanations, segment: pd.Series | np.ndarray, top: int = 3) -> pd.DataFrame:
    """Per segment, the ``top`` columns that push its risk up the most (mean SHAP value in the segment,
    signed): why a segment is risky, rather than why one customer is."""
    frame = pd.DataFrame(explanations.values, columns=explanations.columns)
    rows = []
    for name, group in frame.groupby(np.asarray(segment)):
        means = group.mean().sort_values(ascending=False)
        drivers = {f"driver_{i + 1}": f"{c} ({v:+.3f})" for i, (c, v) in enumerate(means[:top].items())}
        rows.append({"segment": name, **drivers})
    return pd.DataFrame(rows)
