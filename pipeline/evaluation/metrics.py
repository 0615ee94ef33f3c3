"""Classification metrics for a churn probability, all from (labels, probabilities)."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

EPSILON = 1e-7  # Keras clips probabilities the same way in binary cross-entropy


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Binary cross-entropy exactly as Keras computes it, so training and reporting agree."""
    return float(log_loss_by_row(y, np.asarray(p)[None, :])[0])


def log_loss_by_row(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``log_loss`` of each row of ``p`` ([models, rows]) against the same labels, in one pass."""
    p = np.clip(np.asarray(p, dtype="float64"), EPSILON, 1 - EPSILON)
    y = np.asarray(y, dtype="float64")
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=1)


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve as the Mann-Whitney statistic (ties count half).

    Equal to ``sklearn.metrics.roc_auc_score`` but without its input checks, which cost
    more than a training epoch when called once per epoch.
    """
    return float(roc_auc_by_row(y, np.asarray(p)[None, :])[0])


def roc_auc_by_row(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``roc_auc`` of each row of ``p`` ([models, rows]) against the same labels, in one pass."""
    y = np.asarray(y) > 0.5
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return np.full(len(p), np.nan)
    ranks = rankdata(p, axis=1)
    return (ranks[:, y].sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def threshold_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Metrics of the 0/1 decision at a threshold (churn is the positive class), from counts."""
    tn, fp, fn, tp = confusion(y, p, threshold).ravel().astype("float64")
    n = tn + fp + fn + tp
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    f1_stay = 2 * tn / (2 * tn + fn + fp) if tn + fn + fp else 0.0
    return {
        "accuracy": float((tp + tn) / n),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "macro_f1": float((f1 + f1_stay) / 2),
    }


def confusion(y: np.ndarray, p: np.ndarray, threshold: float) -> np.ndarray:
    """2x2 counts: rows actual (stay, churn), columns predicted (stay, churn)."""
    actual = np.asarray(y) > 0.5
    predicted = np.asarray(p) >= threshold
    tp = int(np.sum(actual & predicted))
    fp = int(np.sum(~actual & predicted))
    fn = int(np.sum(actual & ~predicted))
    return np.array([[len(actual) - tp - fp - fn, fp], [fn, tp]])


def average_precision(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the precision-recall curve as sklearn defines it (step-wise, ties grouped)."""
    actual = np.asarray(y) > 0.5
    positives = int(actual.sum())
    if positives == 0 or positives == len(actual):
        return float("nan")
    order = np.argsort(-np.asarray(p, "float64"), kind="mergesort")
    scores, hits = np.asarray(p, "float64")[order], actual[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    tp = np.cumsum(hits)[last_of_tie]
    predicted = last_of_tie + 1
    recall_gain = np.diff(np.r_[0, tp]) / positives
    return float(np.sum(recall_gain * tp / predicted))


def summary(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """The validation summary every trained model gets."""
    return {
        "log_loss": log_loss(y, p),
        "roc_auc": roc_auc(y, p),
        "pr_auc": average_precision(y, p),
        **threshold_metrics(y, p, threshold),
    }


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(brier_by_row(y, np.asarray(p)[None, :])[0])


def brier_by_row(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """``brier`` of each row of ``p`` ([models, rows]) against the same labels, in one pass."""
    return np.mean((np.asarray(p, "float64") - np.asarray(y, "float64")[None, :]) ** 2, axis=1)


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Share-weighted gap between mean predicted and observed churn in equal-width bins."""
    p, y = np.asarray(p, "float64"), np.asarray(y, "float64")
    index = np.minimum((p * bins).astype(int), bins - 1)
    predicted = np.bincount(index, weights=p, minlength=bins)
    observed = np.bincount(index, weights=y, minlength=bins)
    return float(np.abs(predicted - observed).sum() / len(p))
