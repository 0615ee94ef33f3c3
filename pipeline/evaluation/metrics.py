"""Classification metrics for a churn probability, all from (labels, probabilities)."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata
from sklearn import metrics as skm

EPSILON = 1e-7  # Keras clips probabilities the same way in binary cross-entropy


def log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """Binary cross-entropy exactly as Keras computes it, so training and reporting agree."""
    p = np.clip(np.asarray(p, dtype="float64"), EPSILON, 1 - EPSILON)
    y = np.asarray(y, dtype="float64")
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve as the Mann-Whitney statistic (ties count half).

    Equal to ``sklearn.metrics.roc_auc_score`` but without its input checks, which cost
    more than a training epoch when called once per epoch.
    """
    y = np.asarray(y) > 0.5
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(p)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def threshold_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """Metrics of the 0/1 decision at a threshold (churn is the positive class)."""
    predicted = (np.asarray(p) >= threshold).astype(int)
    y = np.asarray(y).astype(int)
    return {
        "accuracy": float(skm.accuracy_score(y, predicted)),
        "precision": float(skm.precision_score(y, predicted, zero_division=0)),
        "recall": float(skm.recall_score(y, predicted, zero_division=0)),
        "f1": float(skm.f1_score(y, predicted, zero_division=0)),
        "macro_f1": float(skm.f1_score(y, predicted, average="macro", zero_division=0)),
    }


def confusion(y: np.ndarray, p: np.ndarray, threshold: float) -> np.ndarray:
    """2x2 counts: rows actual (stay, churn), columns predicted (stay, churn)."""
    return skm.confusion_matrix(np.asarray(y).astype(int), (np.asarray(p) >= threshold).astype(int), labels=[0, 1])


def summary(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """The validation summary every trained model gets."""
    return {
        "log_loss": log_loss(y, p),
        "roc_auc": roc_auc(y, p),
        "pr_auc": float(skm.average_precision_score(y, p)) if 0 < np.mean(y) < 1 else float("nan"),
        **threshold_metrics(y, p, threshold),
    }
