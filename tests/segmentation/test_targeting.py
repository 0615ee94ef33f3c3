"""The campaign plan against its rivals on known outcomes: at the plan's own size, and in hindsight."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.config import CampaignConfig
from pipeline.segmentation import campaign, targeting

CFG = CampaignConfig.model_validate({
    "margin": 0.5,
    "offer_months": 1.0,
    "contact_cost": 5.0,
    "success_rate": 0.3,
    "stayer_acceptance": 0.5,
    "sensitivity": {"success_rates": [0.1, 0.3, 0.5], "contact_costs": [0.0, 60.0]},
    "shares": 10,
    "bootstrap": {"resamples": 100, "confidence": 0.9, "seed": 0},
})  # fmt: skip
HORIZON = 12
Customers = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@pytest.fixture(scope="module")
def customers() -> Customers:
    """True churn probabilities (the champion), a noisier ranking (the baseline), outcomes, monthly charges."""
    rng = np.random.default_rng(7)
    p = rng.beta(1.2, 3.0, 600)
    baseline = np.clip(p + rng.normal(0, 0.3, 600), 0, 1)
    churned = (rng.random(600) < p).astype(float)
    return p, baseline, churned, rng.uniform(20, 120, 600)


def test_the_plan_contacts_the_customers_with_positive_expected_value(customers: Customers) -> None:
    p, baseline, churned, monthly = customers
    check = targeting.check_plan(p, baseline, churned, monthly, CFG, HORIZON)
    expected = campaign.net_value(p, monthly, CFG, HORIZON)
    assert np.array_equal(check.planned, expected > 0)
    assert 0 < check.planned_share < 1
    assert check.planned_share in check.curves.shares  # the plan's own size is on the curves
    assert len(check.curves.shares) == CFG.shares + 2
    assert len(check.sensitivity) == 3 * 2


def test_rules_are_compared_at_the_plans_size(customers: Customers) -> None:
    p, baseline, churned, monthly = customers
    check = targeting.check_plan(p, baseline, churned, monthly, CFG, HORIZON)
    realized = campaign.net_value(churned, monthly, CFG, HORIZON)
    rules = check.rules.set_index("rule")
    assert list(rules.index) == list(targeting.RULES)
    assert (rules["contacts"] == check.planned.sum()).all()
    plan = rules.loc[targeting.PLAN]
    assert plan["net_value"] == pytest.approx(realized[check.planned].sum())  # exactly the planned customers
    assert (plan["plan_minus_rule"], plan["plan_minus_rule_low"], plan["plan_minus_rule_high"]) == (0, 0, 0)
    for rule, row in rules.iterrows():
        assert row["plan_minus_rule"] == pytest.approx(plan["net_value"] - row["net_value"]), rule
        assert row["low"] <= row["net_value"] <= row["high"] or rule == campaign.RANDOM
    # in hindsight: the size that realizes the most when contacting by the champion's probability
    best = rules.loc["churn probability"]
    assert (best["best_contacts"], best["best_net_value"]) == pytest.approx(campaign.best_size(p, realized))
    assert pd.isna(rules.loc[campaign.RANDOM, "best_contacts"])  # no order, no best size


def test_the_summary_holds_each_rules_numbers() -> None:
    rules = pd.DataFrame({"rule": ["x", "y"], **{k: [1.0, 2.0] for k in targeting.COMPARED}, "contacts": [3, 3]})
    summary = targeting.summarize(rules)
    assert list(summary) == ["x", "y"]
    assert summary["y"] == dict.fromkeys(targeting.COMPARED, 2.0)
    assert all(isinstance(v, float) for v in summary["x"].values())
