"""Before/after on test and the ladder: hand-built probabilities, no model and no registry."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.config import ThresholdConfig
from pipeline.evaluation import before_after, bootstrap, calibration, thresholds
from pipeline.evaluation.before_after import DecisionRule, Network, Served
from pipeline.metric_registry import VERSUS_ORIGINAL


def _outcomes(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Outcomes and a probability that carries signal about them."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    return y, np.clip(0.5 + 0.25 * (2 * y - 1) + rng.normal(0, 0.2, n), 0.01, 0.99)


def _served(p: np.ndarray, threshold: float = 0.5, label: str = "m") -> Served:
    return Served(label, label, 1, "none", p, threshold, 10)


def test_a_network_minus_itself_is_exactly_zero_and_a_better_one_is_measurably_better() -> None:
    y, p = _outcomes()
    noise = np.clip(p + np.random.default_rng(1).normal(0, 0.3, len(p)), 0.01, 0.99)
    indices = bootstrap.resample_indices(len(y), 200, 7)
    better, again = before_after.score(y, [_served(p), _served(p)], _served(noise), indices, 0.95)
    assert better.versus == again.versus  # one matrix of resamples for every model
    worse = before_after.score(y, [_served(noise)], _served(p), indices, 0.95)[0]
    assert all(v == {"value": 0.0, "low": 0.0, "high": 0.0} for v in
               before_after.score(y, [_served(p)], _served(p), indices, 0.95)[0].versus.values())  # fmt: skip
    assert worse.versus["roc_auc"]["high"] < 0 < better.versus["roc_auc"]["low"]
    assert worse.versus["log_loss"]["low"] > 0
    assert set(better.test) == set(VERSUS_ORIGINAL)


def test_ladder_steps_are_scored_against_the_step_before() -> None:
    y, p = _outcomes()
    indices = bootstrap.resample_indices(len(y), 100, 3)
    first, second = before_after.score(y, [_served(p, 0.5), _served(p, 0.3)], None, indices, 0.95)
    assert first.versus == {}
    recall = second.test["recall"]["value"] - first.test["recall"]["value"]
    assert second.versus["recall"]["value"] == pytest.approx(recall) and recall > 0
    assert second.versus["roc_auc"] == {"value": 0.0, "low": 0.0, "high": 0.0}  # a threshold moves no ranking


def test_the_ladder_adds_one_thing_per_step() -> None:
    y_val, p_val = _outcomes(seed=2)
    _, p_test = _outcomes(seed=3)
    seeds_val = np.stack([np.clip(p_val * f, 0.01, 0.99) for f in (0.5, 0.6, 0.7)])  # underconfident seeds
    seeds_test = np.stack([np.clip(p_test * f, 0.01, 0.99) for f in (0.5, 0.6, 0.7)])
    network = Network("adam", seeds_val, seeds_test, [100, 120, 80])
    start = before_after.original(Network("baseline", seeds_val, seeds_test, [900, 900, 900]), 0.5)
    decide = DecisionRule(ThresholdConfig(rule="max_f1"), y_val, np.zeros(len(y_val)))
    steps = before_after.ladder(start, network, decide, {"none": 0.6, "platt": 0.5, "isotonic": 0.55})

    assert [s.label for s in steps] == ["original", "+ early stopping and the best optimizer", "+ seed ensemble",
                                        "+ threshold chosen on validation", "+ calibration"]  # fmt: skip
    assert (steps[0].network, steps[0].updates, steps[0].threshold) == ("baseline", 900, 0.5)
    np.testing.assert_array_equal(steps[1].p_test, seeds_test[0])
    assert (steps[1].seeds, steps[1].updates, steps[1].threshold) == (1, 100, 0.5)
    np.testing.assert_allclose(steps[2].p_test, seeds_test.mean(axis=0))
    assert (steps[2].seeds, steps[2].updates, steps[2].threshold) == (3, 300, 0.5)
    assert steps[3].threshold == thresholds.max_f1(y_val, seeds_val.mean(axis=0)) != 0.5
    platt = calibration.fit("platt", y_val, seeds_val.mean(axis=0))
    np.testing.assert_allclose(steps[4].p_test, platt.apply(seeds_test.mean(axis=0)))
    assert steps[4].calibration == "platt"
    assert steps[4].threshold == thresholds.max_f1(y_val, platt.apply(seeds_val.mean(axis=0)))
    without = before_after.ladder(start, network, decide, {"none": 0.6})
    assert [s.label for s in without][-1] == "+ threshold chosen on validation"


@pytest.mark.parametrize(("lower", "expected"), [(True, "sgd"), (False, "adam")])
def test_the_best_optimizer_is_chosen_on_the_resampling_folds(lower: bool, expected: str) -> None:
    means = {"baseline": 0.1, "sgd": 0.40, "adam": 0.45, "search": 0.2}
    assert before_after.best_optimizer(means, ["sgd", "adam", "nadam"], lower) == expected
