"""The gate that names the champion from the resampled comparison (gate v2).

A challenger leaves the reference (the baseline) behind by one of two routes:

1. **Better**: its improvement in the criterion is significant, one-sided, at ``alpha`` after Holm's
   adjustment over the challengers that can be champion. Of those, the ones not significantly worse
   than the best (two-sided, unadjusted) are tied with it, and the cheapest of the tied wins.
2. **Equivalent and cheaper**: when none is better, a challenger whose posterior probability of
   practical equivalence (correlated Bayesian t-test, ROPE) is at least ``equivalence_probability``
   and whose training cost is at most ``cheaper`` times the reference's; the cheapest of those wins.

Otherwise the reference stays. Pure numbers in, a decision and one plain sentence out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from pipeline.evaluation.resampled import Comparison, Posterior

Route = Literal["better", "equivalent_and_cheaper", "none"]


@dataclass(frozen=True)
class Standing:
    name: str
    mean: float  # mean criterion over folds (e.g. log loss)
    vs_reference: Comparison  # candidate minus reference; p_holm: one-sided, Holm-adjusted over the family
    posterior: Posterior  # correlated Bayesian t-test against the reference
    cost: float  # parameter updates to the best epoch; lower is cheaper


@dataclass(frozen=True)
class GateRule:
    alpha: float
    equivalence_probability: float
    cheaper: float  # a challenger is materially cheaper at most this share of the reference's cost
    lower_is_better: bool


@dataclass(frozen=True)
class GateDecision:
    champion: str
    route: Route
    reason: str  # one plain-English sentence a report can print
    qualified: list[str]  # challengers significantly better than the reference after Holm
    tied_with_best: list[str]  # qualified candidates not significantly worse than the best one
    equivalent_and_cheaper: list[str]  # practically equivalent with the posterior required, and cheap enough


def gate(
    reference: str,
    reference_cost: float,
    standings: Mapping[str, Standing],
    versus_best: Callable[[str, str], Comparison],
    rule: GateRule,
) -> GateDecision:
    """The champion by the two routes above. ``standings`` may contain the reference (skipped);
    ``versus_best(name, best)`` is candidate minus best, two-sided p, unadjusted."""
    challengers = {name: s for name, s in standings.items() if name != reference}
    unfilled = [name for name, s in challengers.items() if math.isnan(s.vs_reference.p_holm)]
    if unfilled:
        raise ValueError(f"Holm-adjusted p-values are missing for {unfilled}; fill them with holm_adjusted()")
    sign = 1.0 if rule.lower_is_better else -1.0
    qualified = sorted(n for n, s in challengers.items() if _improves(s, sign) and s.vs_reference.p_holm < rule.alpha)
    cheap = sorted(n for n, s in challengers.items() if _equivalent_and_cheaper(s, reference_cost, rule))
    if qualified:
        return _better(reference, challengers, qualified, cheap, versus_best, rule)
    if cheap:
        champion = min(cheap, key=lambda n: (challengers[n].cost, sign * challengers[n].mean, n))
        s = challengers[champion]
        reason = (
            f"{champion} is champion: no challenger is significantly better than {reference}, but {champion} is "
            f"practically equivalent to it (P = {s.posterior.equivalent:.3f} >= {rule.equivalence_probability:g} that "
            f"the difference is within ±{s.posterior.rope:g}) and costs {s.cost:,.0f} parameter updates against "
            f"{reference_cost:,.0f} ({s.cost / reference_cost:.0%} <= {rule.cheaper:.0%})"
            + (f"; the cheapest of {len(cheap)} such challengers." if len(cheap) > 1 else ".")
        )
        return GateDecision(champion, "equivalent_and_cheaper", reason, [], [], cheap)
    return GateDecision(reference, "none", _stays(reference, reference_cost, challengers, rule), [], [], [])


def _improves(s: Standing, sign: float) -> bool:
    return sign * s.vs_reference.mean < 0


def _equivalent_and_cheaper(s: Standing, reference_cost: float, rule: GateRule) -> bool:
    return s.posterior.equivalent >= rule.equivalence_probability and s.cost <= rule.cheaper * reference_cost


def _better(
    reference: str,
    challengers: Mapping[str, Standing],
    qualified: list[str],
    cheap: list[str],
    versus_best: Callable[[str, str], Comparison],
    rule: GateRule,
) -> GateDecision:
    sign = 1.0 if rule.lower_is_better else -1.0
    best = min(qualified, key=lambda name: (sign * challengers[name].mean, name))
    versus = {name: versus_best(name, best) for name in qualified if name != best}
    if any(math.isnan(c.p) for c in versus.values()):
        raise ValueError(f"a comparison with {best} has no p-value")
    tied = [name for name in qualified if name == best or versus[name].p >= rule.alpha]
    champion = min(tied, key=lambda name: (challengers[name].cost, sign * challengers[name].mean, name))
    significant = f"significantly better than {reference} (one-sided, after Holm's adjustment)"
    if len(qualified) == 1:
        p_holm = challengers[best].vs_reference.p_holm
        reason = (
            f"{best} is champion: it is the only challenger {significant}, adjusted p = {p_holm:.3g} < {rule.alpha:g}."
        )
    elif champion == best:
        others = [name for name in tied if name != best]
        why = (f"none of those not significantly worse than it ({', '.join(others)}) is cheaper" if others
               else "every other one is significantly worse than it")  # fmt: skip
        reason = (
            f"{best} is champion: it has the best mean of the {len(qualified)} challengers {significant}, and {why}."
        )
    else:
        reason = (
            f"{champion} is champion: {best} has the best mean of the {len(qualified)} challengers {significant}, "
            f"but {champion} is not significantly worse than it (p = {versus[champion].p:.3g} >= {rule.alpha:g}) "
            f"and is the cheapest of those that are not (cost {challengers[champion].cost:,.0f} "
            f"against {challengers[best].cost:,.0f})."
        )
    return GateDecision(champion, "better", reason, qualified, tied, cheap)


def _stays(reference: str, reference_cost: float, challengers: Mapping[str, Standing], rule: GateRule) -> str:
    """Why the reference stays: the challenger closest to each route."""
    if not challengers:
        return f"{reference} stays champion: there is no challenger."
    sign = 1.0 if rule.lower_is_better else -1.0
    improving = [s for s in challengers.values() if _improves(s, sign)]
    if improving:  # the lowest adjusted p, then (Holm caps many at 1) the lowest raw one-sided p
        closest = min(improving, key=lambda s: (s.vs_reference.p_holm, s.vs_reference.p_improves(sign > 0), s.name))
        c = closest.vs_reference
        better = (
            f"closest: {closest.name}, mean difference {c.mean:+.4g}, adjusted p = {c.p_holm:.3g} >= {rule.alpha:g}"
        )
    else:
        closest = min(challengers.values(), key=lambda s: (sign * s.vs_reference.mean, s.name))
        better = (
            f"none improves on it on average; closest: {closest.name}, mean difference {closest.vs_reference.mean:+.4g}"
        )
    affordable = [s for s in challengers.values() if s.cost <= rule.cheaper * reference_cost]
    equivalent = max(affordable or challengers.values(), key=lambda s: (s.posterior.equivalent, -s.cost, s.name))
    if affordable:
        why = f"P(equivalent) = {equivalent.posterior.equivalent:.3f} < {rule.equivalence_probability:g}"
    else:
        share = equivalent.cost / reference_cost
        why = f"P(equivalent) = {equivalent.posterior.equivalent:.3f}, but its cost is {share:.0%} of {reference}'s"
    return (
        f"{reference} stays champion: no challenger is significantly better after Holm's adjustment ({better}), "
        f"and none is both practically equivalent and materially cheaper (closest: "
        f"{equivalent.name}, {why})."
    )
