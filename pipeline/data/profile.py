"""A compact data profile: what the splits hold and what the training customers look like."""

from __future__ import annotations

from typing import TypedDict

import pandas as pd

from pipeline.data.schema import DataSchema


class SplitStats(TypedDict):
    rows: int
    churn_rate: float


class NumericStats(TypedDict):
    mean: float
    std: float
    min: float
    max: float
    churn_corr: float  # correlation with the target


class LevelStats(TypedDict):
    share: float  # of the training customers
    churn_rate: float


class DataProfile(TypedDict):
    """``summary/prepare.json``, and the prepare run's ``summary.json``."""

    splits: dict[str, SplitStats]
    numeric: dict[str, NumericStats]  # by column
    categorical: dict[str, dict[str, LevelStats]]  # by column, then level


def profile(splits: dict[str, pd.DataFrame], schema: DataSchema) -> DataProfile:
    """Rows and churn rate per split; feature summaries from the training split only."""
    target = schema.target.column
    train = splits["train"]
    summary: DataProfile = {
        "splits": {
            name: {"rows": len(part), "churn_rate": round(float(part[target].mean()), 4)}
            for name, part in splits.items()
        },
        "numeric": {},
        "categorical": {},
    }
    for col in schema.numeric_inputs:
        values = train[col]
        summary["numeric"][col] = {
            "mean": round(float(values.mean()), 4),
            "std": round(float(values.std(ddof=0)), 4),
            "min": float(values.min()),
            "max": float(values.max()),
            "churn_corr": round(float(values.corr(train[target].astype(float))), 4),
        }
    for col, levels in schema.categorical.items():
        grouped = train.groupby(col, observed=True)[target]
        shares, rates = grouped.size() / len(train), grouped.mean()
        summary["categorical"][col] = {
            level: {
                "share": round(float(shares.get(level, 0.0)), 4),
                "churn_rate": round(float(rates.get(level, float("nan"))), 4),
            }
            for level in levels
        }
    return summary
