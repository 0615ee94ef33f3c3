"""Comparing models over R repeats x K folds of resampling, and the gate that picks a champion.

Fold scores of two models trained on overlapping rows are not independent, so the naive paired
t-test on the R*K fold differences is far too confident (Dietterich, 1998). Nadeau & Bengio (2003)
correct the variance of the mean difference for that overlap; Bouckaert & Frank (2004) recommend
the corrected test over repeated cross-validation. Several challengers are tested against one
reference, so their p-values are adjusted with Holm's (1979) step-down procedure.

Pure numbers in, numbers out: no files, no MLflow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Comparison:
    """A paired comparison over resampling folds: model minus reference."""

    mean: float  # mean over the R*K folds of the paired difference (model minus reference)
    low: float  # confidence interval from the corrected resampled t-test
    high: float
    t: float
    p: float  # two-sided
    p_holm: float = math.nan  # filled by holm() (see holm_adjusted)


def corrected_t_test(differences: np.ndarray, train_size: int, test_size: int, confidence: float = 0.95) -> Comparison:
    """Nadeau & Bengio's corrected resampled t-test on paired fold differences.

    The variance of the mean of n = len(differences) fold differences is taken as
    (1/n + test_size/train_size) * s^2 (s^2 the sample variance, ddof=1), not s^2/n, because the
    folds share training rows; t = mean / sqrt(that) with df = n - 1, and the interval is
    mean ± t_{df,(1+c)/2} * sqrt(that). If all differences are equal the variance is zero: then
    t = ±inf and p = 0 (or t = nan and p = 1 when they are all zero), and the interval is the mean.
    """
    d = np.asarray(differences, dtype="float64").ravel()
    n = len(d)
    if n < 2:
        raise ValueError(f"corrected_t_test needs at least 2 fold differences, got {n}")
    missing = np.flatnonzero(np.isnan(d))
    if len(missing):
        raise ValueError(f"fold differences contain NaN at folds {missing.tolist()} (a metric undefined on a fold?)")
    if train_size <= 0 or test_size <= 0:
        raise ValueError(f"train_size and test_size must be positive, got {train_size} and {test_size}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")

    if np.all(d == d[0]):  # zero variance: decided without dividing by zero
        mean = float(d[0])
        t = math.nan if mean == 0 else math.copysign(math.inf, mean)
        return Comparison(mean=mean, low=mean, high=mean, t=t, p=1.0 if mean == 0 else 0.0)

    mean = float(d.mean())
    se = math.sqrt((1 / n + test_size / train_size) * float(d.var(ddof=1)))
    df = n - 1
    t = mean / se
    p = float(2 * stats.t.sf(abs(t), df))
    half = float(stats.t.ppf((1 + confidence) / 2, df)) * se
    return Comparison(mean=mean, low=mean - half, high=mean + half, t=t, p=p)


def holm(p_values: Mapping[str, float]) -> dict[str, float]:
    """Holm's (1979) step-down adjusted p-values, returned under the input's keys.

    Sorted ascending, the j-th smallest (0-based) of m is multiplied by m - j and capped at 1; a
    running maximum keeps the adjusted values in the same order as the raw ones.
    """
    names = list(p_values)
    raw = np.array([p_values[name] for name in names], dtype="float64")
    if np.isnan(raw).any():
        raise ValueError(f"p-values contain NaN: {[n for n, p in zip(names, raw, strict=True) if np.isnan(p)]}")
    m = len(raw)
    order = np.argsort(raw, kind="stable")
    adjusted = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * raw[order]))
    result = dict.fromkeys(names, math.nan)
    for position, index in enumerate(order):
        result[names[index]] = float(adjusted[position])
    return result


def holm_adjusted(comparisons: Mapping[str, Comparison]) -> dict[str, Comparison]:
    """The same comparisons with ``p_holm`` filled, adjusted over the whole family given."""
    adjusted = holm({name: c.p for name, c in comparisons.items()})
    return {name: replace(c, p_holm=adjusted[name]) for name, c in comparisons.items()}


@dataclass(frozen=True)
class Standing:
    name: str
    mean: float  # mean criterion over folds (e.g. log loss)
    vs_reference: Comparison  # candidate minus reference (the baseline), Holm-adjusted p filled
    cost: float  # e.g. parameter updates to the best epoch; lower is cheaper


@dataclass(frozen=True)
class GateDecision:
    champion: str
    reason: str  # one plain-English sentence a report can print
    qualified: list[str]  # challengers whose improvement over the reference is significant after Holm
    tied_with_best: list[str]  # qualified candidates not significantly worse than the best one


def gate(
    reference: str,
    standings: Mapping[str, Standing],
    versus_best: Callable[[str, str], Comparison],
    alpha: float,
    lower_is_better: bool,
) -> GateDecision:
    """Keep the reference unless a challenger beats it significantly; then prefer the cheapest
    of the candidates that are not significantly worse than the best one.

    A challenger qualifies when its difference from the reference is in the improving direction
    and its Holm-adjusted p < alpha. The best is the qualified candidate with the best mean;
    ``versus_best(name, best)`` (candidate minus best, unadjusted two-sided p) decides which
    others are tied with it (p >= alpha). The champion is the cheapest of those (ties broken by
    the better mean, then the name). ``standings`` may contain the reference; it is skipped.
    """
    sign = 1.0 if lower_is_better else -1.0  # sign * value: lower is better

    challengers = {name: s for name, s in standings.items() if name != reference}
    unfilled = [name for name, s in challengers.items() if math.isnan(s.vs_reference.p_holm)]
    if unfilled:
        raise ValueError(f"Holm-adjusted p-values are missing for {unfilled}; fill them with holm_adjusted()")
    if not challengers:
        return GateDecision(reference, f"{reference} stays champion: there is no challenger.", [], [])

    def improves(s: Standing) -> bool:
        return sign * s.vs_reference.mean < 0

    qualified = sorted(name for name, s in challengers.items() if improves(s) and s.vs_reference.p_holm < alpha)
    if not qualified:
        improving = [s for s in challengers.values() if improves(s)]
        if improving:  # closest to qualifying: the lowest adjusted p, then (Holm caps many at 1) the lowest raw p
            closest = min(improving, key=lambda s: (s.vs_reference.p_holm, s.vs_reference.p, s.name))
            c = closest.vs_reference
            detail = f"closest: {closest.name}, mean difference {c.mean:+.4g}, adjusted p = {c.p_holm:.3g} >= {alpha:g}"
        else:  # none improves: the least bad mean difference
            closest = min(challengers.values(), key=lambda s: (sign * s.vs_reference.mean, s.name))
            mean = closest.vs_reference.mean
            detail = f"none improves on it on average; closest: {closest.name}, mean difference {mean:+.4g}"
        reason = (
            f"{reference} stays champion: no challenger's improvement over it is significant after "
            f"Holm's adjustment ({detail})."
        )
        return GateDecision(reference, reason, [], [])

    best = min(qualified, key=lambda name: (sign * challengers[name].mean, name))
    versus = {name: versus_best(name, best) for name in qualified if name != best}
    for name, c in versus.items():
        if math.isnan(c.p):
            raise ValueError(f"comparison of {name} with {best} has no p-value")
    tied = [name for name in qualified if name == best or versus[name].p >= alpha]
    champion = min(tied, key=lambda name: (challengers[name].cost, sign * challengers[name].mean, name))

    significant = f"whose improvement over {reference} is significant after Holm's adjustment"
    n = len(qualified)
    if n == 1:
        p_holm = challengers[best].vs_reference.p_holm
        reason = f"{best} is champion: it is the only challenger {significant} (adjusted p = {p_holm:.3g} < {alpha:g})."
    elif champion == best:
        others = [name for name in tied if name != best]
        why = (
            f"none of those not significantly worse than it ({', '.join(others)}) is cheaper"
            if others
            else "every other one is significantly worse than it"
        )
        reason = f"{best} is champion: it has the best mean of the {n} challengers {significant}, and {why}."
    else:
        reason = (
            f"{champion} is champion: {best} has the best mean of the {n} challengers {significant}, "
            f"but {champion} is not significantly worse than it (p = {versus[champion].p:.3g} >= {alpha:g}) "
            f"and is the cheapest of those that are not (cost {challengers[champion].cost:g} "
            f"against {challengers[best].cost:g})."
        )
    return GateDecision(champion, reason, qualified, tied)
