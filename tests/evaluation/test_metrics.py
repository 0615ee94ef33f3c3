"""The hand-written metrics equal scikit-learn's on random data, ties and edge cases included.

They exist because scikit-learn's input checks cost more than a training epoch when called once
per epoch; these tests are what lets them claim the same numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as sk

from pipeline.evaluation import metrics

CASES = [(seed, rounding) for seed in range(5) for rounding in (None, 2)]  # rounding to 2 decimals makes ties


def _data(seed: int, rounding: int | None, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1)
    return y, (np.round(p, rounding) if rounding is not None else p)


@pytest.mark.parametrize(("seed", "rounding"), CASES)
def test_ranking_metrics_equal_sklearn(seed: int, rounding: int | None) -> None:
    y, p = _data(seed, rounding)
    assert metrics.roc_auc(y, p) == pytest.approx(sk.roc_auc_score(y, p), abs=1e-12)
    assert metrics.average_precision(y, p) == pytest.approx(sk.average_precision_score(y, p), abs=1e-12)


@pytest.mark.parametrize(("seed", "rounding"), CASES)
def test_probability_metrics_equal_sklearn(seed: int, rounding: int | None) -> None:
    y, p = _data(seed, rounding)
    p[:3] = [0.0, 1.0, 1e-9]  # clipped as Keras clips: to [1e-7, 1 - 1e-7]
    clipped = np.clip(p, metrics.EPSILON, 1 - metrics.EPSILON)
    assert metrics.log_loss(y, p) == pytest.approx(sk.log_loss(y, clipped), rel=1e-12)
    assert metrics.brier(y, p) == pytest.approx(sk.brier_score_loss(y, p), abs=1e-12)


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.77, 1.0])
def test_threshold_metrics_equal_sklearn(threshold: float) -> None:
    y, p = _data(7, 2)
    predicted = (p >= threshold).astype(int)
    ours = metrics.threshold_metrics(y, p, threshold)
    assert ours["accuracy"] == pytest.approx(sk.accuracy_score(y, predicted))
    assert ours["precision"] == pytest.approx(sk.precision_score(y, predicted, zero_division=0))
    assert ours["recall"] == pytest.approx(sk.recall_score(y, predicted, zero_division=0))
    assert ours["f1"] == pytest.approx(sk.f1_score(y, predicted, zero_division=0))
    assert ours["macro_f1"] == pytest.approx(sk.f1_score(y, predicted, average="macro", zero_division=0))
    np.testing.assert_array_equal(metrics.confusion(y, p, threshold), sk.confusion_matrix(y, predicted, labels=[0, 1]))


def test_one_class_has_no_ranking() -> None:
    y = np.zeros(10)
    assert np.isnan(metrics.roc_auc(y, np.linspace(0, 1, 10)))
    assert np.isnan(metrics.average_precision(y, np.linspace(0, 1, 10)))


def test_expected_calibration_error_by_hand() -> None:
    # bin [0.1, 0.2): predicted 0.15 x 2 = 0.3, observed 1 -> gap 0.7; bin [0.9, 1.0]: 0.95 x 2 = 1.9 vs 2 -> 0.1
    y = np.array([0, 1, 1, 1])
    p = np.array([0.15, 0.15, 0.95, 0.95])
    assert metrics.expected_calibration_error(y, p, bins=10) == pytest.approx((0.7 + 0.1) / 4)
