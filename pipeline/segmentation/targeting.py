"""The campaign plan checked against its rivals on customers whose outcomes are known.

The plan contacts whoever has a positive expected net value (``campaign``); it is made without
outcomes. Checked on customers with outcomes (the test split, which no model saw): the realized net
value of four targeting rules against campaign size with bootstrap bands, and at the plan's size the
plan minus each rival with a paired interval, plus each rule's best size in hindsight. Kept apart from
``campaign`` (the value model), which the ``resample`` stage also depends on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.config import CampaignConfig
from pipeline.segmentation import campaign

RULES = {  # rule -> the score it contacts customers by (None: random order)
    "expected net value": "expected",
    "churn probability": "champion",
    "existing model's probability": "baseline",
    campaign.RANDOM: None,
}
PLAN = next(iter(RULES))  # the plan's rule; the others are its rivals
COMPARED = ("net_value", "low", "high", "plan_minus_rule", "plan_minus_rule_low", "plan_minus_rule_high")


@dataclass(frozen=True)
class PlanCheck:
    """The plan and its rivals on customers with known outcomes."""

    planned: np.ndarray  # the customers the plan contacts
    curves: campaign.Curves  # per rule, against campaign size; the plan's own size is among the shares
    rules: pd.DataFrame  # ``compare_rules`` at the plan's size
    sensitivity: pd.DataFrame  # ``campaign.sensitivity``: the plan re-made under other assumptions

    @property
    def planned_share(self) -> float:
        return float(self.planned.mean())


def check_plan(
    champion: np.ndarray,
    baseline: np.ndarray,
    churned: np.ndarray,
    monthly: np.ndarray,
    cfg: CampaignConfig,
    horizon_months: int,
) -> PlanCheck:
    """Make the plan from the ``champion``'s probabilities and check it with the outcomes ``churned``
    against targeting by either model's probability (``baseline``: the existing model) and at random."""
    expected = campaign.net_value(champion, monthly, cfg, horizon_months)
    realized = campaign.net_value(churned, monthly, cfg, horizon_months)
    planned = campaign.contact(expected)
    planned_share = float(planned.mean())
    by_key = {"champion": champion, "baseline": baseline, "expected": expected}
    scores = {rule: None if key is None else by_key[key] for rule, key in RULES.items()}
    shares = np.unique(np.r_[np.linspace(0, 1, cfg.shares + 1), planned_share])
    b = cfg.bootstrap
    curves = campaign.curves(scores, realized, shares, b.resamples, b.confidence, b.seed)
    at_plan = int(np.flatnonzero(shares == planned_share)[0])
    rules = compare_rules(scores, realized, curves, at_plan, int(planned.sum()))
    return PlanCheck(planned, curves, rules, campaign.sensitivity(champion, churned, monthly, cfg, horizon_months))


def compare_rules(
    scores: Mapping[str, np.ndarray | None],
    realized: np.ndarray,
    curves: campaign.Curves,
    at_plan: int,
    contacts: int,
) -> pd.DataFrame:
    """Per rule at the plan's size (``curves.shares[at_plan]``, ``contacts`` customers): its realized
    net value with the band, the first rule (the plan) minus it with a paired interval, and the size
    that would have been best in hindsight (none for the random rule, which has no order)."""
    plan = next(iter(scores))
    return pd.DataFrame([
        {
            "rule": rule,
            "contacts": contacts,
            "net_value": curves.value[rule][at_plan],
            "low": curves.low[rule][at_plan],
            "high": curves.high[rule][at_plan],
            **dict(zip(("plan_minus_rule", "plan_minus_rule_low", "plan_minus_rule_high"),
                       curves.difference(plan, rule, at_plan), strict=True)),
            **dict(zip(("best_contacts", "best_net_value"),
                       campaign.best_size(score, realized) if score is not None else (None, None), strict=True)),
        }
        for rule, score in scores.items()
    ])  # fmt: skip


def summarize(rules: pd.DataFrame) -> dict[str, dict[str, float]]:
    """A ``compare_rules`` table's numbers per rule, as plain numbers for a metrics file."""
    return {r["rule"]: {k: float(r[k]) for k in COMPARED} for _, r in rules.iterrows()}
