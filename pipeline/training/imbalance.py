"""Class-imbalance handling for the training split (the other splits are never touched)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from imblearn.over_sampling import SMOTENC
from sklearn.utils.class_weight import compute_sample_weight

from pipeline.data.schema import DataSchema


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """Per-row weights n / (2 n_class): both classes carry the same total weight."""
    return compute_sample_weight("balanced", np.asarray(y).astype(int)).astype("float32")


def smote(train: pd.DataFrame, schema: DataSchema, seed: int) -> pd.DataFrame:
    """Oversample churners with SMOTE-NC on the raw columns.

    SMOTE-NC interpolates numeric columns and takes the most frequent category among
    neighbours, so synthetic customers keep valid categories (plain SMOTE on one-hot
    inputs would invent half-a-contract customers).
    """
    features = schema.feature_columns
    categorical = [*schema.binary, *schema.categorical]  # a 0/1 column is a category, not interpolated
    sampler = SMOTENC(categorical_features=categorical, random_state=seed)
    x, y = sampler.fit_resample(train[features], train[schema.target.column])
    resampled = pd.DataFrame(x, columns=features)
    for col in schema.numeric_inputs:
        resampled[col] = resampled[col].astype("float64")
    resampled[schema.target.column] = np.asarray(y).astype("int8")
    return resampled
