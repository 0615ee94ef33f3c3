"""Decision thresholds chosen on validation data: best F1, or best expected campaign profit."""

from __future__ import annotations

import numpy as np


def _candidates(p: np.ndarray) -> np.ndarray:
    return np.unique(np.round(np.asarray(p, "float64"), 4))


def max_f1(y: np.ndarray, p: np.ndarray) -> float:
    """The threshold with the highest F1 for the churn class (ties: the lowest threshold)."""
    y = np.asarray(y).astype(bool)
    thresholds = _candidates(p)
    predicted = np.asarray(p)[None, :] >= thresholds[:, None]
    tp = (predicted & y).sum(axis=1)
    fp = (predicted & ~y).sum(axis=1)
    fn = (~predicted & y).sum(axis=1)
    f1 = 2 * tp / np.maximum(2 * tp + fp + fn, 1)
    return float(thresholds[int(np.argmax(f1))])


def max_profit(p: np.ndarray, contact_value: np.ndarray) -> float:
    """The threshold that maximizes the campaign's net value: everyone at or above it is contacted,
    and contacting customer i is worth ``contact_value[i]`` (realized: outcome known, value model
    in ``pipeline.segmentation.campaign``). Ties: the lowest threshold."""
    thresholds = _candidates(p)
    predicted = np.asarray(p)[None, :] >= thresholds[:, None]
    value = predicted @ np.asarray(contact_value, "float64")
    return float(thresholds[int(np.argmax(value))])
