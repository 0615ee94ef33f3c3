"""Stratified train / validation / test split."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

SPLITS = ("train", "validation", "test")


def stratified_split(
    frame: pd.DataFrame, target: str, fractions: dict[str, float], seed: int
) -> dict[str, pd.DataFrame]:
    """Split so that every part keeps the churn rate of the whole; same seed, same split."""
    test_size = fractions["test"]
    validation_size = fractions["validation"] / (1.0 - test_size)
    rest, test = train_test_split(frame, test_size=test_size, stratify=frame[target], random_state=seed)
    train, validation = train_test_split(rest, test_size=validation_size, stratify=rest[target], random_state=seed)
    return {
        "train": train.reset_index(drop=True),
        "validation": validation.reset_index(drop=True),
        "test": test.reset_index(drop=True),
    }
