"""The campaign's value model and targeting curves, against hand-computed cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.config import CampaignConfig, Params
from pipeline.evaluation import thresholds
from pipeline.segmentation import campaign

CFG = CampaignConfig.model_validate({
    "margin": 0.5,
    "offer_months": 1.0,
    "contact_cost": 5.0,
    "success_rate": 0.3,
    "stayer_acceptance": 0.5,
    "sensitivity": {"success_rates": [0.1, 0.5], "contact_costs": [0.0, 60.0]},
    "shares": 10,
    "bootstrap": {"resamples": 200, "confidence": 0.95, "seed": 0},
})  # fmt: skip
HORIZON = 12


def test_expected_net_value_by_hand() -> None:
    # monthly 100: value if retained 100 x 12 x 0.5 - 100 = 500; discount 100
    # p = 0.5: 0.5 x 0.3 x 500 - 5 - 0.5 x 0.5 x 100 = 75 - 5 - 25 = 45
    # p = 0.1: 0.1 x 0.3 x 500 - 5 - 0.9 x 0.5 x 100 = 15 - 5 - 45 = -35
    # monthly 20, p = 0.9: value 20 x 12 x 0.5 - 20 = 100; 0.9 x 0.3 x 100 - 5 - 0.1 x 0.5 x 20 = 27 - 5 - 1 = 21
    value = campaign.net_value(np.array([0.5, 0.1, 0.9]), np.array([100.0, 100.0, 20.0]), CFG, HORIZON)
    assert value == pytest.approx([45.0, -35.0, 21.0])
    assert campaign.contact(value).tolist() == [True, False, True]
    assert campaign.net_value(np.array([0.5]), np.array([100.0]), CFG, HORIZON, 0.5, 0.0) == pytest.approx(
        [0.5 * 0.5 * 500 - 0 - 0.5 * 0.5 * 100]
    )


def test_realized_value_with_known_outcomes() -> None:
    churned = np.array([1, 0, 1, 0])
    monthly = np.array([100.0, 100.0, 20.0, 50.0])
    realized = campaign.net_value(churned, monthly, CFG, HORIZON)
    # churner: 0.3 x value - 5; stayer: -5 - 0.5 x discount
    assert realized == pytest.approx([0.3 * 500 - 5, -5 - 50, 0.3 * 100 - 5, -5 - 25])
    # a campaign contacting customers 0 and 2 realizes their sum; the curve by score adds them in order
    curve = campaign.cumulative(np.array([0.9, 0.1, 0.8, 0.2]), realized, np.random.default_rng(0))
    assert curve == pytest.approx(np.cumsum([0.0, 145.0, 25.0, -30.0, -55.0]))
    assert campaign.best_size(np.array([0.9, 0.1, 0.8, 0.2]), realized) == (2, pytest.approx(170.0))


def test_targeting_by_expected_value_equals_targeting_by_probability_when_values_are_equal() -> None:
    """With one monthly charge for everyone the expected value is increasing in p: the same order."""
    rng = np.random.default_rng(3)
    p = rng.random(500)
    churned = (rng.random(500) < p).astype(float)
    monthly = np.full(500, 70.0)
    expected = campaign.net_value(p, monthly, CFG, HORIZON)
    realized = campaign.net_value(churned, monthly, CFG, HORIZON)
    shares = np.linspace(0, 1, 51)
    curves = campaign.curves({"ev": expected, "p": p, campaign.RANDOM: None}, realized, shares, 100, 0.95, 1)
    np.testing.assert_allclose(curves.value["ev"], curves.value["p"])
    assert np.all(curves.low["ev"] <= curves.value["ev"] + 1e-9)
    assert np.all(curves.value["ev"] <= curves.high["ev"] + 1e-9)
    # random targeting's expected value is linear in the campaign size
    np.testing.assert_allclose(curves.value[campaign.RANDOM], shares * realized.sum(), atol=1e-6)
    # the plan (positive expected value) does better than contacting everyone or at random at its size
    planned = campaign.contact(expected)
    assert realized[planned].sum() > realized.sum()
    assert realized[planned].sum() > planned.mean() * realized.sum()


def test_sensitivity_remakes_the_plan_per_assumption() -> None:
    p = np.array([0.9, 0.5, 0.1])
    churned = np.array([1.0, 0.0, 0.0])
    monthly = np.array([100.0, 100.0, 100.0])
    table = campaign.sensitivity(p, churned, monthly, CFG, HORIZON).set_index(["success_rate", "contact_cost"])
    assert len(table) == 4
    # expensive contacts and a low success rate: nobody is worth contacting, nothing is realized
    assert table.loc[(0.1, 60.0), "contacts"] == 0 and table.loc[(0.1, 60.0), "net_value"] == 0
    # free contacts and a high success rate: 0.9 x 0.5 x 500 - 0.1 x 50 > 0 and 0.5 x 0.5 x 500 - 0.5 x 50 > 0
    assert table.loc[(0.5, 0.0), "contacts"] == 2
    assert table.loc[(0.5, 0.0), "net_value"] == pytest.approx(0.5 * 500 - 0.5 * 100)


def test_max_profit_threshold_maximizes_the_campaign_value() -> None:
    p = np.array([0.9, 0.7, 0.4, 0.2])
    value = np.array([100.0, -10.0, 50.0, -80.0])  # contacting 0..2 is worth 140, the most
    assert thresholds.max_profit(p, value) == pytest.approx(0.4)


def test_the_default_assumptions_are_documented() -> None:
    """Every assumption in params.yaml is named in the documentation with its rationale."""
    root = Path(__file__).resolve().parents[2]
    cfg = Params.load(root / "params.yaml").segment.campaign
    docs = (root / "docs" / "DOCUMENTATION.md").read_text()
    for key in ("margin", "offer_months", "contact_cost", "success_rate", "stayer_acceptance"):
        assert f"`{key}`" in docs, key
    assert cfg.success_rate in cfg.sensitivity.success_rates and cfg.contact_cost in cfg.sensitivity.contact_costs


def test_paired_difference_between_rules() -> None:
    """The same ranking twice differs by exactly zero in every resample; a worse ranking is behind."""
    rng = np.random.default_rng(5)
    p = rng.random(400)
    churned = (rng.random(400) < p).astype(float)
    realized = campaign.net_value(churned, np.full(400, 70.0), CFG, HORIZON)
    shares = np.array([0.0, 0.3, 1.0])
    curves = campaign.curves({"a": p, "b": p.copy(), "worse": -p}, realized, shares, 300, 0.95, 2)
    assert curves.difference("a", "b", 1) == (0.0, 0.0, 0.0)
    value, low, high = curves.difference("a", "worse", 1)
    assert low > 0 and low <= value <= high
    assert curves.difference("a", "worse", 2) == pytest.approx((0.0, 0.0, 0.0))  # everyone contacted: equal


def test_contact_and_its_shown_value_are_one_figure() -> None:
    """A value shown as 0.00 is not contacted, so the plan recomputed from the shown values (the campaign
    stage's per-segment table) contacts exactly whom the scored table marks (2,678 against 2,677 before:
    `contact` was decided on the unrounded value, the table from the rounded one)."""
    expected = np.array([0.004, -0.004, 0.006, 12.3456, -3.0])
    shown = campaign.in_cents(expected)
    assert shown.tolist() == [0.0, -0.0, 0.01, 12.35, -3.0]
    assert campaign.contact(expected).tolist() == campaign.contact(shown).tolist() == [False, False, True, True, False]
    plan = campaign.by_segment(np.array(["a", "a", "b", "b", "b"]), shown)
    assert plan["contacts"].sum() == campaign.contact(expected).sum() == 2
