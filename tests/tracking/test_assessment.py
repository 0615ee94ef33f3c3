"""The before/after numbers of the evaluate run, named from a hand-built ladder (no MLflow store)."""

from __future__ import annotations

import numpy as np

from pipeline.evaluation import before_after, bootstrap
from pipeline.evaluation.assessment import BeforeAfter
from pipeline.evaluation.before_after import Served
from pipeline.metric_registry import VERSUS_ORIGINAL
from pipeline.tracking.assessment import ladder_values


def _before_after() -> BeforeAfter:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.clip(0.5 + 0.2 * (2 * y - 1) + rng.normal(0, 0.2, len(y)), 0.01, 0.99)
    start = Served("original", "baseline", 1, "none", p, 0.5, 40)
    steps = [start, Served("+ seed ensemble", "adam", 3, "none", np.clip(p + 0.05, 0, 1), 0.5, 90),
             Served("+ calibration", "adam", 3, "platt", np.clip(p - 0.02, 0, 1), 0.42, 90)]  # fmt: skip
    indices = bootstrap.resample_indices(len(y), 30, 7)
    ladder = before_after.score(y, steps, None, indices, 0.9)
    return BeforeAfter(ladder[0], {"adam": before_after.score(y, [steps[2]], start, indices, 0.9)[0]}, ladder)


def test_the_original_and_each_ladder_step_are_named_by_their_place() -> None:
    assessed = _before_after()
    params, values = ladder_values(assessed)
    assert params == {
        "ladder0_label": "original", "ladder0_network": "baseline", "ladder0_calibration": "none",
        "ladder1_label": "+ seed ensemble", "ladder1_network": "adam", "ladder1_calibration": "none",
        "ladder2_label": "+ calibration", "ladder2_network": "adam", "ladder2_calibration": "platt",
    }  # fmt: skip
    assert (values["original_threshold"], values["original_updates"]) == (0.5, 40)
    assert (values["ladder2_threshold"], values["ladder2_updates"], values["ladder2_seeds"]) == (0.42, 90, 3)
    for m in VERSUS_ORIGINAL:
        assert values[f"original_test_{m}"] == assessed.original.test[m]["value"]
        assert values[f"ladder1_step_{m}"] == assessed.ladder[1].versus[m]["value"]
        assert values[f"ladder2_step_{m}_low"] == assessed.ladder[2].versus[m]["low"]
    assert not any(k.startswith("ladder0_step_") for k in values)  # the first step is not a difference
