"""What a retention campaign is worth, in money: per customer, and for a targeting rule.

The value model (``segment.campaign`` in params.yaml; every amount in the currency of the
monthly charges). Contacting customer i costs ``contact_cost`` and makes them an offer worth
``offer_months`` of their monthly charges m_i. A would-be churner who is contacted stays with
probability ``success_rate`` and is then worth v_i = m_i x horizon x margin - m_i x offer_months
(the margin over the horizon, net of the offer). A customer who would have stayed anyway takes
the offer with probability ``stayer_acceptance``, which gives away d_i = m_i x offer_months.
With p_i the champion's calibrated churn probability:

    expected net value of contacting i = p_i s v_i - c - (1 - p_i) q d_i

and on customers whose outcome is known (y_i = 1 for churn), the realized net value is the same
with y_i in place of p_i. Contact whoever has a positive expected net value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.config import CampaignConfig

RANDOM = "random"  # the targeting rule with no score: customers in a random order


def offer_cost(monthly: np.ndarray, cfg: CampaignConfig) -> np.ndarray:
    """The discount a customer who takes the offer gets."""
    return np.asarray(monthly, "float64") * cfg.offer_months


def retained_value(monthly: np.ndarray, cfg: CampaignConfig, horizon_months: int) -> np.ndarray:
    """What a would-be churner who stays is worth over the horizon, net of the offer."""
    return np.asarray(monthly, "float64") * horizon_months * cfg.margin - offer_cost(monthly, cfg)


def net_value(
    churn: np.ndarray,
    monthly: np.ndarray,
    cfg: CampaignConfig,
    horizon_months: int,
    success_rate: float | None = None,
    contact_cost: float | None = None,
) -> np.ndarray:
    """Net value of contacting each customer: expected with ``churn`` a probability, realized with
    ``churn`` the 0/1 outcome. ``success_rate`` and ``contact_cost`` override the configured ones."""
    s = cfg.success_rate if success_rate is None else success_rate
    c = cfg.contact_cost if contact_cost is None else contact_cost
    churn = np.asarray(churn, "float64")
    gain = churn * s * retained_value(monthly, cfg, horizon_months)
    return gain - c - (1 - churn) * cfg.stayer_acceptance * offer_cost(monthly, cfg)


CENTS = 2  # an amount is decided and shown to this many decimals: one figure for ``contact`` and its value


def in_cents(amount: np.ndarray) -> np.ndarray:
    """An amount as it is shown and decided on."""
    return np.round(np.asarray(amount, "float64"), CENTS)


def contact(expected: np.ndarray) -> np.ndarray:
    """The recommendation: contact exactly the customers worth more contacted than not, in cents (so a
    value shown as 0.00 is never contacted, whoever rounds it)."""
    return in_cents(expected) > 0


def cumulative(score: np.ndarray | None, realized: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Net value of the campaign that contacts the first k customers by ``score`` (highest first;
    None: a random order), for k = 0..n."""
    order = rng.permutation(len(realized)) if score is None else np.argsort(-np.asarray(score), kind="mergesort")
    return np.r_[0.0, np.cumsum(np.asarray(realized, "float64")[order])]


@dataclass(frozen=True)
class Curves:
    """Realized net value against campaign size (share of customers contacted), per rule, with
    percentile-bootstrap bands (customers resampled; the random order drawn anew each time)."""

    shares: np.ndarray
    value: dict[str, np.ndarray]
    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]
    draws: dict[str, np.ndarray]  # per rule: [resamples, shares], the same resamples for every rule
    confidence: float

    def difference(self, rule: str, other: str, index: int) -> tuple[float, float, float]:
        """``rule`` minus ``other`` at ``shares[index]``, with a paired percentile interval (each
        resample scores both rules on the same customers)."""
        tail = (1 - self.confidence) / 2
        paired = self.draws[rule][:, index] - self.draws[other][:, index]
        value = float(self.value[rule][index] - self.value[other][index])
        return value, float(np.quantile(paired, tail)), float(np.quantile(paired, 1 - tail))

    def table(self) -> pd.DataFrame:
        rows = {"share": self.shares}
        for rule in self.value:
            rows |= {f"{rule}": self.value[rule], f"{rule}_low": self.low[rule], f"{rule}_high": self.high[rule]}
        return pd.DataFrame(rows)


def _at(curve: np.ndarray, shares: np.ndarray) -> np.ndarray:
    n = len(curve) - 1
    return curve[np.round(shares * n).astype(int)]


def curves(
    scores: Mapping[str, np.ndarray | None],
    realized: np.ndarray,
    shares: np.ndarray,
    resamples: int,
    confidence: float,
    seed: int,
) -> Curves:
    """Each rule's realized value at each campaign share, on the customers given (the random rule:
    its expected value, share x total)."""
    rng = np.random.default_rng(seed)
    n = len(realized)
    draws = {rule: np.empty((resamples, len(shares))) for rule in scores}
    for b in range(resamples):
        rows = rng.integers(0, n, n)
        for rule, score in scores.items():
            draws[rule][b] = _at(cumulative(None if score is None else score[rows], realized[rows], rng), shares)
    tail = (1 - confidence) / 2
    expected_random = np.arange(n + 1) / n * float(np.sum(realized))
    value = {
        rule: _at(expected_random if score is None else cumulative(score, realized, rng), shares)
        for rule, score in scores.items()
    }
    low = {rule: np.quantile(d, tail, axis=0) for rule, d in draws.items()}
    high = {rule: np.quantile(d, 1 - tail, axis=0) for rule, d in draws.items()}
    return Curves(np.asarray(shares, "float64"), value, low, high, draws, confidence)


def best_size(score: np.ndarray, realized: np.ndarray) -> tuple[int, float]:
    """In hindsight (outcomes known): the campaign size with the most realized value, and that value."""
    curve = cumulative(score, realized, np.random.default_rng(0))
    k = int(np.argmax(curve))
    return k, float(curve[k])


def sensitivity(
    p: np.ndarray, churned: np.ndarray, monthly: np.ndarray, cfg: CampaignConfig, horizon_months: int
) -> pd.DataFrame:
    """For each success rate x contact cost: the plan (contact whoever has a positive expected
    value under those assumptions) and what it realizes on customers with known outcomes."""
    rows = []
    for s in cfg.sensitivity.success_rates:
        for c in cfg.sensitivity.contact_costs:
            planned = contact(net_value(p, monthly, cfg, horizon_months, s, c))
            realized = net_value(churned, monthly, cfg, horizon_months, s, c)
            rows.append({
                "success_rate": s,
                "contact_cost": c,
                "contacts": int(planned.sum()),
                "contact_share": float(planned.mean()),
                "net_value": float(realized[planned].sum()),
            })  # fmt: skip
    return pd.DataFrame(rows)


def by_segment(segment: np.ndarray, expected: np.ndarray) -> pd.DataFrame:
    """Per segment: customers, how many to contact, that share, and the expected net value of doing so."""
    frame = pd.DataFrame({"segment": segment, "expected": expected, "contact": contact(expected)})
    frame["contacted_value"] = np.where(frame["contact"], frame["expected"], 0.0)
    table = frame.groupby("segment", sort=False).agg(
        customers=("expected", "size"),
        contacts=("contact", "sum"),
        expected_net_value=("contacted_value", "sum"),
        mean_expected_value=("expected", "mean"),
    )
    table["contact_share"] = table["contacts"] / table["customers"]
    return table.sort_values("expected_net_value", ascending=False).reset_index()
