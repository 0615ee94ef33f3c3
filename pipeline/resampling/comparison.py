"""Every candidate and reference refit and scored on the same resampling folds, then compared
with the baseline (corrected resampled t-test with Holm's adjustment, correlated Bayesian t-test)
and passed through the gate.

Each fold mirrors the main pipeline on fewer rows: preprocessing fitted on the fold's ``fit``
rows; each network trained there as the seed ensemble that would be served, with early stopping on
``tune`` (the studies' rule, so no epoch count is carried over from them); the decision layer
(calibration if it helps, threshold) fitted on ``tune``; every metric computed on ``held``, which
influences nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from pipeline import parallel
from pipeline.config import EvaluateConfig, ResampleConfig
from pipeline.data.schema import DataSchema
from pipeline.evaluation import calibration, compare, metrics, reference
from pipeline.evaluation.summary import BASELINE, BLEND
from pipeline.features.encoded import Split
from pipeline.features.preprocessing import Preprocessor
from pipeline.model.config import Candidate
from pipeline.resampling.folds import Fold
from pipeline.training.job import TrainingData, predict, train_members

Tuned = Mapping[str, Mapping[str, reference.Hyperparameter]]  # reference name -> its tuned hyperparameters
ContactValue = Callable[[pd.DataFrame, np.ndarray], np.ndarray]  # (frame, labels) -> value of contacting each
Probabilities = tuple[np.ndarray, np.ndarray]  # a model's raw probabilities on a fold's tune and held rows
NetworkRows = tuple[list[dict], list[Probabilities]]  # a network's score rows, and its raw probabilities, per fold


@dataclass(frozen=True)
class FoldData:
    training: TrainingData  # fit rows as "train", tune rows as "validation", the fold's own preprocessor
    held: Split
    contact_value: np.ndarray  # of the tune rows, for a max_profit threshold
    held_value: np.ndarray  # of the held rows: what contacting each would realize (the campaign's value model)


def fold_data(dev: pd.DataFrame, schema: DataSchema, fold: Fold, contact_value: ContactValue) -> FoldData:
    """The fold's splits, encoded by a preprocessor fitted on its ``fit`` rows only."""
    parts = {name: dev.iloc[rows].reset_index(drop=True) for name, rows in
             (("fit", fold.fit), ("tune", fold.tune), ("held", fold.held))}  # fmt: skip
    preprocessor = Preprocessor.fit(parts["fit"], schema)

    def encoded(name: str) -> Split:
        frame = parts[name]
        return Split(name, frame, preprocessor.transform(frame), frame[schema.target.column].to_numpy("float32"))

    tune, held = encoded("tune"), encoded("held")
    training = TrainingData(encoded("fit"), tune, schema, preprocessor)
    return FoldData(training, held, contact_value(tune.frame, tune.y), contact_value(held.frame, held.y))


def member_seeds(fold: Fold, seeds_per_fold: int) -> list[int]:
    """The training seeds of a fold's ensemble: 100 i + k for member k of fold i (distinct over folds)."""
    return [100 * fold.index + k for k in range(seeds_per_fold)]


def score_folds(
    folds: Sequence[Fold],
    data: Sequence[FoldData],
    candidates: Mapping[str, Candidate],
    tuned: Tuned,
    cfg: ResampleConfig,
    decision: EvaluateConfig,
    reference_seed: int,
    processes: int = 1,
) -> pd.DataFrame:
    """One row per fold and model: its held-out metrics, campaign value, threshold, calibration and,
    for networks, the parameter updates it took. ``candidates`` must include the baseline (for the blend).

    Each network's pack (its folds x seeds in one packed training) and each fold's reference models are
    independent units, run on ``processes`` processes; the rows come in the same order with any number."""
    networks = [
        functools.partial(_network_rows, name, c, folds, data, cfg.seeds_per_fold, decision)
        for name, c in candidates.items()
    ]
    references = [functools.partial(reference_probabilities, d, tuned, reference_seed) for d in data]
    units: list[Callable[[], object]] = [*networks, *references]
    done = parallel.run_all(units, processes)
    trained = dict(zip(candidates, cast(list[NetworkRows], done[: len(networks)]), strict=True))
    rows = [row for name in candidates for row in trained[name][0]]
    baseline_raw = trained[BASELINE][1]
    raws = cast(list[dict[str, Probabilities]], done[len(networks) :])
    for fold, d, raw, baseline in zip(folds, data, raws, baseline_raw, strict=True):
        for name, (p_tune, p_held) in raw.items():
            rows.append(_score(name, "reference", fold, d, p_tune, p_held, decision))
        blend = _blend(d.training.validation.y, [baseline, raw["gradient_boosting"]])
        rows.append(_score(BLEND, "reference", fold, d, *blend, decision))
    return pd.DataFrame(rows)


def _network_rows(
    name: str,
    candidate: Candidate,
    folds: Sequence[Fold],
    data: Sequence[FoldData],
    seeds_per_fold: int,
    decision: EvaluateConfig,
) -> NetworkRows:
    """One unit: the network trained on every fold, ``seeds_per_fold`` seeds each, in one pack; its
    rows, and per fold its ensemble's raw probabilities (the mean over seeds) on the tune and held rows."""
    seeds = [seed for fold in folds for seed in member_seeds(fold, seeds_per_fold)]
    trained = train_members(candidate, [d.training for d in data for _ in range(seeds_per_fold)], seeds)
    rows, raw = [], []
    for i, (fold, d) in enumerate(zip(folds, data, strict=True)):
        members = trained[i * seeds_per_fold : (i + 1) * seeds_per_fold]
        p_tune = np.mean([m.val_probabilities for m in members], axis=0)
        p_held = np.mean([predict(m.model, d.held.x) for m in members], axis=0)
        updates = float(np.mean([m.val_metrics["updates"] for m in members]))
        rows.append(_score(name, "ann", fold, d, p_tune, p_held, decision) | {"updates": updates})
        raw.append((p_tune, p_held))
    return rows, raw


def reference_probabilities(d: FoldData, tuned: Tuned, seed: int) -> dict[str, Probabilities]:
    """One unit: the reference models, with their tuned hyperparameters, fitted on the fold's fit rows;
    their raw probabilities on its tune and held rows, by name."""
    fitted = reference.fit_reference_models(d.training.train.x, d.training.train.y, tuned, seed)
    return {name: (reference.probabilities(m, d.training.validation.x), reference.probabilities(m, d.held.x))
            for name, m in fitted.items()}  # fmt: skip


def _blend(y_tune: np.ndarray, models: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The mean of the models' probabilities, each Platt-calibrated on the tune rows first, so
    that neither model's scale dominates."""
    calibrators = [calibration.fit("platt", y_tune, p_tune) for p_tune, _ in models]
    tune = np.mean([c.apply(p) for c, (p, _) in zip(calibrators, models, strict=True)], axis=0)
    held = np.mean([c.apply(p) for c, (_, p) in zip(calibrators, models, strict=True)], axis=0)
    return tune, held


def _score(
    name: str, kind: str, fold: Fold, d: FoldData, p_tune: np.ndarray, p_held: np.ndarray, decision: EvaluateConfig
) -> dict:
    y_tune, y_held = d.training.validation.y, d.held.y
    result = compare.fit_decision(name, kind, decision, y_tune, p_tune, p_held, d.contact_value)
    p = result.p_test
    at_threshold = metrics.threshold_metrics(y_held, p, result.threshold)
    return {
        "index": fold.index,
        "repeat": fold.repeat,
        "fold": fold.fold,
        "model": name,
        "kind": kind,
        "training_rows": fold.training_rows,
        "held_rows": len(fold.held),
        "log_loss": metrics.log_loss(y_held, p),
        "roc_auc": metrics.roc_auc(y_held, p),
        "pr_auc": metrics.average_precision(y_held, p),
        "brier": metrics.brier(y_held, p),
        "f1": at_threshold["f1"],
        "macro_f1": at_threshold["macro_f1"],
        "value": float(d.held_value[p >= result.threshold].sum() / len(p)),  # per customer, contacting those >= t
        "threshold": result.threshold,
        "calibration": result.calibrator.kind if result.calibrator else "none",
        "updates": np.nan,
    }
