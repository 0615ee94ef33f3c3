"""What the resampled scores say, on hand-made scores: the ROPE's worth in money and the design's
minimal detectable difference are the documented formulas applied to the fold differences."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Params
from pipeline.evaluation.resampled import minimal_detectable_difference
from pipeline.resampling import verdict
from tests.conftest import REPO

FOLDS, TRAIN, HELD = 10, 4500, 1125


def _scores(losses: dict[str, np.ndarray], values: dict[str, np.ndarray]) -> pd.DataFrame:
    rows = [
        {"index": i, "model": name, "kind": "ann", "training_rows": TRAIN, "held_rows": HELD,
         "log_loss": loss[i], "value": values[name][i]}
        for name, loss in losses.items()
        for i in range(FOLDS)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def test_the_rope_in_money_is_the_slope_of_value_on_loss_times_the_rope() -> None:
    """Value falls by exactly 100 per customer for each unit of log loss: slope -100, r = -1, and the ROPE
    of 0.002 is worth 100 x 0.002 x 1,000 = 200 per 1,000 customers."""
    rng = np.random.default_rng(0)
    base_loss, base_value = 0.42 + rng.normal(0, 0.01, FOLDS), 15.0 + rng.normal(0, 1, FOLDS)
    losses, values = {"baseline": base_loss}, {"baseline": base_value}
    for k, name in enumerate(("a", "b")):
        shift = rng.normal(0, 0.003, FOLDS) + 0.001 * k
        losses[name], values[name] = base_loss + shift, base_value - 100 * shift
    cfg = Params.load(REPO / "params.yaml").resample
    money = verdict.rope_in_money(_scores(losses, values), cfg)
    assert money.pairs == 2 * FOLDS
    assert money.slope == pytest.approx(-100) and money.r == pytest.approx(-1)
    assert money.per_1000 == pytest.approx(100 * cfg.gate.rope * 1000)
    assert money.baseline_per_1000 == pytest.approx(1000 * base_value.mean())


def test_the_detectable_difference_uses_each_challenger_s_own_spread_and_the_family_size() -> None:
    rng = np.random.default_rng(1)
    base = 0.42 + rng.normal(0, 0.01, FOLDS)
    losses = {
        "baseline": base,
        "steady": base + rng.normal(0, 0.001, FOLDS),
        "noisy": base + rng.normal(0, 0.004, FOLDS),
    }
    scores = _scores(losses, {name: np.zeros(FOLDS) for name in losses})
    cfg = Params.load(REPO / "params.yaml").resample
    found = verdict.detectable(scores, cfg)
    assert found.tests == 2
    for name in ("steady", "noisy"):
        sd = float(np.std(losses[name] - base, ddof=1))
        want = minimal_detectable_difference(sd, FOLDS, TRAIN, HELD, cfg.gate.alpha, cfg.gate.power, tests=2)
        assert found.per_model[name] == pytest.approx(want)
    assert found.per_model["steady"] < found.per_model["noisy"]
    assert found.median == pytest.approx(np.median(list(found.per_model.values())))
    assert not math.isnan(found.median)


def test_the_headline_and_the_mlflow_metrics_read_the_typed_summary() -> None:
    """On a hand-built GateSummary: the best gated challenger whoever won, and NaN Holm p left out."""
    from tests.reporting.handmade import summary

    found = summary("baseline", "none")
    headline = verdict.headline(found)
    assert headline["champion"] == "baseline" and headline["qualified"] == 0
    assert headline["best_challenger"] == "adam"  # the gated network with the lowest log loss (not a reference)
    assert (headline["best_challenger_diff_log_loss"], headline["best_challenger_p_holm"]) == (-0.005, 0.008)
    assert headline["best_challenger_p_equivalent"] == 0.03
    flat = verdict.flat_metrics(found)
    assert flat["adam/diff_log_loss_low"] == -0.008 and flat["adam/p_holm_log_loss"] == 0.008
    assert "gradient_boosting/p_holm_log_loss" not in flat and flat["gradient_boosting/p_log_loss"] == 0.001
    assert flat["sgd/p_worse"] == 0.99 and "baseline/p_better" not in flat
    assert flat["rope_per_1000_customers"] == 200.0
