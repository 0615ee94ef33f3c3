"""Before/after: each model's decision fitted on validation, then scored once on test."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from pipeline.config import EvaluateConfig, ThresholdConfig
from pipeline.evaluation import bootstrap, calibration, thresholds
from pipeline.evaluation.calibration import Calibrator
from pipeline.metric_registry import PAIRED


@dataclass
class ModelResult:
    name: str
    kind: str  # "ann" or "reference"
    threshold: float
    calibrator: Calibrator | None
    calibration_losses: dict[str, float]
    p_val: np.ndarray
    p_test: np.ndarray
    test: dict[str, dict[str, float]] = field(default_factory=dict)
    vs_baseline: dict[str, dict[str, float]] = field(default_factory=dict)


def choose_threshold(cfg: ThresholdConfig, y: np.ndarray, p: np.ndarray, contact_value: np.ndarray) -> float:
    if cfg.rule == "max_profit":
        return thresholds.max_profit(p, contact_value)
    return thresholds.max_f1(y, p)


def fit_decision(
    name: str,
    kind: str,
    cfg: EvaluateConfig,
    y_val: np.ndarray,
    p_val_raw: np.ndarray,
    p_test_raw: np.ndarray,
    contact_value: np.ndarray,
) -> ModelResult:
    """Calibration (if it helps on validation) and threshold, both from validation only.
    ``contact_value``: each validation customer's realized net value if contacted (for max_profit)."""
    calibrator: Calibrator | None = None
    losses: dict[str, float] = {}
    if cfg.calibration and kind == "ann":
        calibrator, losses = calibration.choose(y_val, p_val_raw, cfg.calibration, cfg.calibration_folds, seed=0)
    p_val = calibrator.apply(p_val_raw) if calibrator else p_val_raw
    p_test = calibrator.apply(p_test_raw) if calibrator else p_test_raw
    threshold = choose_threshold(cfg.threshold, y_val, p_val, contact_value)
    return ModelResult(name, kind, threshold, calibrator, losses, p_val, p_test)


def score_on_test(results: Mapping[str, ModelResult], y_test: np.ndarray, cfg: EvaluateConfig) -> None:
    """Metrics with bootstrap intervals, and paired differences against the baseline."""
    b = cfg.bootstrap
    indices = bootstrap.resample_indices(len(y_test), b.resamples, b.seed)
    base = results["baseline"]
    for result in results.values():
        result.test = bootstrap.intervals(y_test, result.p_test, result.threshold, indices, b.confidence, cfg.ece_bins)
        if result.name != "baseline":
            result.vs_baseline = {
                metric: bootstrap.paired_difference(
                    y_test,
                    (result.p_test, result.threshold),
                    (base.p_test, base.threshold),
                    metric,
                    indices,
                    b.confidence,
                )
                for metric in PAIRED
            }
