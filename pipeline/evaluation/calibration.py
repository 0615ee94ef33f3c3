"""Probability calibration fitted on validation data, stored as plain numbers (JSON, no pickle)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from pipeline.evaluation.metrics import EPSILON, log_loss
from pipeline.model import inference

Kind = Literal["platt", "isotonic"]


class CalibratorRecord(TypedDict):
    """A ``Calibrator`` as JSON."""

    kind: Kind
    params: list[float]


@dataclass(frozen=True)
class Calibrator:
    """``platt``: p' = sigmoid(a logit(p) + b), params [a, b]; ``isotonic``: a monotone step
    function through points (x, y), params [x..., y...]."""

    kind: Kind
    params: tuple[float, ...]

    def apply(self, p: np.ndarray) -> np.ndarray:
        """Calibrated probabilities, computed in XLA (``pipeline.model.inference.calibrate``): the same
        bits on every machine and in every process, the served model's included."""
        return inference.calibrate(self.kind, self.params, p, EPSILON)

    def to_dict(self) -> CalibratorRecord:
        return {"kind": self.kind, "params": list(self.params)}

    @classmethod
    def from_dict(cls, data: CalibratorRecord) -> Calibrator:
        return cls(kind=data["kind"], params=tuple(float(v) for v in data["params"]))


def fit(kind: Kind, y: np.ndarray, p: np.ndarray) -> Calibrator:
    p = np.clip(np.asarray(p, "float64"), EPSILON, 1 - EPSILON)
    if kind == "platt":
        logit = np.log(p / (1 - p))[:, None]
        model = LogisticRegression(C=1e6).fit(logit, y)
        return Calibrator("platt", (float(model.coef_[0, 0]), float(model.intercept_[0])))
    low, high = _succession_bounds(y, IsotonicRegression(out_of_bounds="clip").fit(p, y).predict(p))
    iso = IsotonicRegression(y_min=low, y_max=high, out_of_bounds="clip").fit(p, y)
    return Calibrator("isotonic", (*map(float, iso.X_thresholds_), *map(float, iso.y_thresholds_)))


def _succession_bounds(y: np.ndarray, fitted: np.ndarray) -> tuple[float, float]:
    """Bounds for an isotonic fit: its two end blocks at Laplace's rule of succession. Where k of n
    customers churned, the next churns with probability (k + 1)/(n + 2): never 0 where none did, never
    1 where all did. Without the bounds a churner scored in an all-stayer block costs -log(1e-7) = 16
    nats of log loss, which on one resampling fold moved a network's held-out log loss by 0.04."""
    low, high = fitted == fitted.min(), fitted == fitted.max()
    return float((y[low].sum() + 1) / (low.sum() + 2)), float((y[high].sum() + 1) / (high.sum() + 2))


def cross_fitted_log_loss(kind: Kind, y: np.ndarray, p: np.ndarray, folds: int, seed: int) -> float:
    """Validation log loss of a calibrator never scored on the rows it was fitted to."""
    calibrated = np.empty(len(p))
    for fit_rows, score_rows in StratifiedKFold(folds, shuffle=True, random_state=seed).split(p, y):
        calibrated[score_rows] = fit(kind, y[fit_rows], p[fit_rows]).apply(p[score_rows])
    return log_loss(y, calibrated)


def choose(
    y: np.ndarray, p: np.ndarray, kinds: list[Kind], folds: int, seed: int
) -> tuple[Calibrator | None, dict[str, float]]:
    """The calibration (or none) with the lowest cross-fitted validation log loss, refitted on
    all validation rows; also returns the log loss of each option."""
    losses = {"none": log_loss(y, p)}
    for kind in kinds:
        losses[kind] = cross_fitted_log_loss(kind, y, p, folds, seed)
    best = min(losses, key=losses.__getitem__)
    chosen = next((kind for kind in kinds if kind == best), None)  # the Kind, or None for "none"
    return (None if chosen is None else fit(chosen, y, p)), losses
