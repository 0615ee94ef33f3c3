"""Who the errors are: false negatives and false positives broken down by customer attributes."""

from __future__ import annotations

import numpy as np
import pandas as pd


def segment_labels(frame: pd.DataFrame, columns: list[str], bands: dict[str, list[float]]) -> dict[str, pd.Series]:
    """Categorical columns as they are; numeric ones cut into bands such as ``12-24``."""
    labels = {col: frame[col].astype(str) for col in columns}
    for col, edges in bands.items():
        names = [f"{edges[i]:g}-{edges[i + 1]:g}" for i in range(len(edges) - 1)]
        banded = pd.cut(frame[col], bins=edges, labels=names, include_lowest=True)
        outside = f"outside {edges[0]:g}-{edges[-1]:g}"
        labels[f"{col} band"] = banded.astype(object).where(banded.notna(), outside).astype(str)
    return labels


def error_breakdown(
    frame: pd.DataFrame,
    y: np.ndarray,
    predictions: dict[str, np.ndarray],
    columns: list[str],
    bands: dict[str, list[float]],
) -> pd.DataFrame:
    """One row per (attribute, value): customers, churners, and each model's false negatives
    (churners it missed) and false positives (loyal customers it flagged)."""
    actual = np.asarray(y) > 0.5
    rows = []
    for attribute, labels in segment_labels(frame, columns, bands).items():
        for value in sorted(labels.unique()):
            mask = (labels == value).to_numpy()
            row = {"attribute": attribute, "value": value, "customers": int(mask.sum()),
                   "churners": int((mask & actual).sum())}  # fmt: skip
            for name, predicted in predictions.items():
                row[f"{name}_false_negatives"] = int((mask & actual & ~predicted).sum())
                row[f"{name}_false_positives"] = int((mask & ~actual & predicted).sum())
            rows.append(row)
    return pd.DataFrame(rows)
