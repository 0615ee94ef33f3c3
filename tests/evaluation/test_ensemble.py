"""A seed ensemble against its members: values by hand, and an interval that pairs the rows."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score

from pipeline.evaluation.bootstrap import resample_indices
from pipeline.evaluation.ensemble import single_vs_ensemble


def test_values_match_scikit_learn_and_the_interval_contains_the_difference() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400).astype("float64")
    signal = np.clip(0.5 + 0.3 * (y - 0.5) + rng.normal(0, 0.15, 400), 0.02, 0.98)
    seeds = np.stack([np.clip(signal + rng.normal(0, 0.1, 400), 0.01, 0.99) for _ in range(3)])
    result = single_vs_ensemble(y, seeds, resample_indices(400, 300, 1), confidence=0.95)

    mean = seeds.mean(axis=0)
    for metric, fn in (("log_loss", log_loss), ("roc_auc", roc_auc_score), ("brier", brier_score_loss)):
        singles = [fn(y, p) for p in seeds]
        r = result[metric]
        assert r["single_mean"] == pytest.approx(np.mean(singles), rel=1e-6)
        assert r["single_std"] == pytest.approx(np.std(singles, ddof=1), rel=1e-5)
        assert r["ensemble"] == pytest.approx(fn(y, mean), rel=1e-6)
        assert r["diff"] == pytest.approx(fn(y, mean) - np.mean(singles), rel=1e-6)
        assert r["low"] <= r["diff"] <= r["high"]
    # averaging independent noise helps every proper score here, clearly
    assert result["log_loss"]["high"] < 0 and result["brier"]["high"] < 0


def test_one_seed_is_its_own_ensemble() -> None:
    y = np.array([0, 1, 0, 1, 1, 0], "float64")
    p = np.array([[0.2, 0.7, 0.4, 0.6, 0.9, 0.1]])
    result = single_vs_ensemble(y, p, resample_indices(6, 50, 0), confidence=0.9)
    for r in result.values():
        assert r["diff"] == 0 and r["single_std"] == 0 and r["low"] == r["high"] == 0
