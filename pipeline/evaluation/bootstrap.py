"""Bootstrap confidence intervals on the test split, and paired differences between models.

One matrix of resampled row indices is drawn per evaluation and shared by all models,
so the difference between two models is computed on the same resamples (paired).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pipeline.evaluation import metrics

Metric = Callable[[np.ndarray, np.ndarray], float]


def resample_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def metric_functions(threshold: float, bins: int) -> dict[str, Metric]:
    def at_threshold(name: str) -> Metric:
        return lambda y, p: metrics.threshold_metrics(y, p, threshold)[name]

    functions: dict[str, Metric] = {n: at_threshold(n) for n in ("accuracy", "precision", "recall", "f1", "macro_f1")}
    functions.update(
        roc_auc=metrics.roc_auc,
        pr_auc=metrics.average_precision,
        log_loss=metrics.log_loss,
        brier=metrics.brier,
        ece=lambda y, p: metrics.expected_calibration_error(y, p, bins),
    )
    return functions


def intervals(
    y: np.ndarray, p: np.ndarray, threshold: float, indices: np.ndarray, confidence: float, bins: int = 10
) -> dict[str, dict[str, float]]:
    """Point estimate and percentile interval of every metric, except the ECE.

    The plug-in ECE is biased upward (binning noise only adds to the gaps), and an ECE computed on
    a bootstrap resample is biased further, so its percentile interval can exclude the estimate
    itself. For "ece" only, the value is the bootstrap bias-corrected estimate
    max(0, 2 ece - mean(ece*)) and the interval the basic bootstrap one,
    [max(0, 2 ece - q_high), max(0, 2 ece - q_low)] (Efron & Tibshirani, 1993), which contains it
    whenever mean(ece*) lies between the two quantiles, as it does in practice.
    """
    alpha = (1 - confidence) / 2
    result = {}
    for name, fn in metric_functions(threshold, bins).items():
        samples = np.array([fn(y[rows], p[rows]) for rows in indices])
        low, high = np.nanquantile(samples, [alpha, 1 - alpha])
        value = fn(y, p)
        if name == "ece":
            twice = 2 * value
            value, low, high = max(0.0, twice - np.nanmean(samples)), max(0.0, twice - high), max(0.0, twice - low)
        result[name] = {"value": float(value), "low": float(low), "high": float(high)}
    return result


def paired_difference(
    y: np.ndarray,
    model: tuple[np.ndarray, float],
    reference: tuple[np.ndarray, float],
    metric: str,
    indices: np.ndarray,
    confidence: float,
) -> dict[str, float]:
    """``metric(model) - metric(reference)`` with a percentile interval over shared resamples."""
    (p_a, t_a), (p_b, t_b) = model, reference
    fn_a, fn_b = metric_functions(t_a, 10)[metric], metric_functions(t_b, 10)[metric]
    diffs = np.array([fn_a(y[r], p_a[r]) - fn_b(y[r], p_b[r]) for r in indices])
    alpha = (1 - confidence) / 2
    low, high = np.nanquantile(diffs, [alpha, 1 - alpha])
    return {"value": fn_a(y, p_a) - fn_b(y, p_b), "low": float(low), "high": float(high)}
