from __future__ import annotations

import numpy as np
import pytest

from pipeline.training.imbalance import balanced_weights, smote
from pipeline.training.job import TrainingData


def test_balanced_weights_give_each_class_half_the_weight() -> None:
    y = np.array([0] * 30 + [1] * 10)
    w = balanced_weights(y)
    assert w[y == 0].sum() == pytest.approx(len(y) / 2, rel=1e-6)
    assert w[y == 1].sum() == pytest.approx(len(y) / 2, rel=1e-6)


def test_smote_balances_classes_with_valid_categories(training_data: TrainingData) -> None:
    schema = training_data.schema
    resampled = smote(training_data.train.frame, schema, seed=0)
    assert resampled[schema.target.column].mean() == 0.5
    for col, levels in schema.categorical.items():
        assert set(resampled[col]) <= set(levels)
    original = training_data.train.frame
    assert len(resampled) > len(original)
