"""Reference models on the same features: context for the ANN, not candidates.

Logistic regression (the simplest model of this kind) and gradient-boosted trees (the usual strongest
tabular baseline), each with the hyperparameters its study in the ``references`` stage chose on
validation (``pipeline/tuning/references.py``), saved as ``models/references/<name>.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from pipeline.io import read_json

LOGISTIC_REGRESSION, GRADIENT_BOOSTING = "logistic_regression", "gradient_boosting"
NAMES = (LOGISTIC_REGRESSION, GRADIENT_BOOSTING)
HYPERPARAMETERS = {
    LOGISTIC_REGRESSION: ("C", "penalty", "class_weight"),
    GRADIENT_BOOSTING: (
        "learning_rate",
        "max_iter",
        "max_leaf_nodes",
        "min_samples_leaf",
        "l2_regularization",
        "max_features",
    ),
}
# the library's defaults: the references before they were tuned, for comparison
DEFAULTS: dict[str, dict[str, Hyperparameter]] = {
    LOGISTIC_REGRESSION: {"C": 1.0, "penalty": "l2", "class_weight": "none"},
    GRADIENT_BOOSTING: {"learning_rate": 0.1, "max_iter": 100, "max_leaf_nodes": 31, "min_samples_leaf": 20,
                        "l2_regularization": 0.0, "max_features": 1.0},
}  # fmt: skip
L1_RATIO = {"l2": 0.0, "l1": 1.0}  # scikit-learn 1.8 deprecated `penalty` for `l1_ratio`
CLASS_WEIGHT = {"none": None, "balanced": "balanced"}
Hyperparameter = float | int | str  # a value as an Optuna trial suggests it and JSON holds it
LIBLINEAR_MAX_ITER = 10_000  # liblinear's default, 100, stops short of convergence at a large C with l1


class Classifier(Protocol):
    """A fitted scikit-learn classifier, as ``probabilities`` uses it."""

    def predict_proba(self, x: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class TunedReference:
    """A reference's study result, as ``models/references/<name>.json`` holds it."""

    name: str
    hyperparameters: dict[str, Hyperparameter]  # the study's parameters, as ``build`` takes them
    val_log_loss: float  # of the best trial: fitted on train, scored on validation
    val_roc_auc: float
    trials: int
    best_trial: int  # its position in the study's budget (0-based)
    study: str  # the Optuna study's name

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def build(name: str, hyperparameters: Mapping[str, Hyperparameter], seed: int) -> ClassifierMixin:
    """The unfitted reference ``name`` with ``hyperparameters`` (exactly its keys in ``HYPERPARAMETERS``)."""
    _check(name, hyperparameters)
    if name == LOGISTIC_REGRESSION:
        return _logistic_regression(hyperparameters, seed)
    return HistGradientBoostingClassifier(**hyperparameters, early_stopping=False, random_state=seed)


def _check(name: str, hyperparameters: Mapping[str, Hyperparameter]) -> None:
    if name not in HYPERPARAMETERS:
        raise ValueError(f"unknown reference model {name!r}; known: {', '.join(NAMES)}")
    expected, given = set(HYPERPARAMETERS[name]), set(hyperparameters)
    if given != expected:
        missing, unknown = sorted(expected - given), sorted(given - expected)
        raise ValueError(f"{name}: hyperparameters missing {missing}, unknown {unknown}")


def _logistic_regression(h: Mapping[str, Hyperparameter], seed: int) -> LogisticRegression:
    return LogisticRegression(
        C=float(h["C"]),
        l1_ratio=L1_RATIO[str(h["penalty"])],
        class_weight=CLASS_WEIGHT[str(h["class_weight"])],
        solver="liblinear",
        max_iter=LIBLINEAR_MAX_ITER,
        random_state=seed,
    )


def fit_reference_models(
    x: np.ndarray, y: np.ndarray, tuned: Mapping[str, Mapping[str, Hyperparameter]], seed: int
) -> dict[str, Classifier]:
    """Each reference fitted on ``x``, ``y`` with its tuned hyperparameters (``load_tuned``), by name."""
    missing = [name for name in NAMES if name not in tuned]
    if missing:
        raise ValueError(f"no tuned hyperparameters for {missing}: run the `references` stage")
    return {name: build(name, tuned[name], seed).fit(x, y) for name in NAMES}


def probabilities(model: Classifier, x: np.ndarray) -> np.ndarray:
    return model.predict_proba(x)[:, 1].astype("float64")


def tuned_file(directory: Path, name: str) -> Path:
    return directory / f"{name}.json"


def read_tuned(directory: Path) -> dict[str, TunedReference]:
    """Every reference's study result in ``directory`` (``models/references``), by name."""
    found = {}
    for name in NAMES:
        path = tuned_file(directory, name)
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: run the `references` stage (`dvc repro references`)")
        found[name] = TunedReference(**read_json(path))
    return found


def load_tuned(directory: Path) -> dict[str, dict[str, Hyperparameter]]:
    """The tuned hyperparameters in ``directory`` (``models/references``) by reference name, as
    ``fit_reference_models`` takes them."""
    return {name: record.hyperparameters for name, record in read_tuned(directory).items()}
