"""A seed ensemble against its own members: is averaging the seeds worth serving?"""

from __future__ import annotations

import numpy as np

from pipeline.evaluation import metrics

BY_ROW = {"log_loss": metrics.log_loss_by_row, "roc_auc": metrics.roc_auc_by_row, "brier": metrics.brier_by_row}


def single_vs_ensemble(
    y: np.ndarray, p_seeds: np.ndarray, indices: np.ndarray, confidence: float
) -> dict[str, dict[str, float]]:
    """Raw (uncalibrated) probabilities of K seed models ([K, rows]): per metric the mean and
    standard deviation over the single models, the ensemble's value (the mean probability), and
    the ensemble minus the mean single model with a paired percentile bootstrap interval over
    ``indices`` (the resamples every other test interval uses)."""
    p_seeds = np.asarray(p_seeds, "float64")
    stacked = np.vstack([p_seeds, p_seeds.mean(axis=0, keepdims=True)])
    alpha = (1 - confidence) / 2
    result = {}
    for metric, by_row in BY_ROW.items():
        values = by_row(y, stacked)
        singles, ensemble = values[:-1], values[-1]
        diffs = np.array([(lambda v: v[-1] - v[:-1].mean())(by_row(y[r], stacked[:, r])) for r in indices])
        low, high = np.nanquantile(diffs, [alpha, 1 - alpha])
        result[metric] = {
            "single_mean": float(singles.mean()),
            "single_std": float(singles.std(ddof=1)) if len(singles) > 1 else 0.0,
            "ensemble": float(ensemble),
            "diff": float(ensemble - singles.mean()),
            "low": float(low),
            "high": float(high),
        }
    return result
