"""Comparing models over R repeats x K folds of resampling: the corrected t-test, the correlated
Bayesian t-test, the minimal detectable difference and Holm's adjustment.

Fold scores of two models trained on overlapping rows are not independent, so the naive paired
t-test on the R*K fold differences is far too confident (Dietterich, 1998). Nadeau & Bengio (2003)
correct the variance of the mean difference for that overlap; Bouckaert & Frank (2004) recommend
the corrected test over repeated cross-validation. Several challengers are tested against one
reference, so their p-values are adjusted with Holm's (1979) step-down procedure. The correlated
Bayesian t-test (Corani & Benavoli, 2015; Benavoli et al., 2017) uses the same correction for its
posterior and answers what a p-value cannot: how probable it is that two models are practically
equivalent, i.e. differ by less than a region of practical equivalence (ROPE).

Pure numbers in, numbers out: no files, no MLflow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
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
    p_holm: float = math.nan  # filled by holm_adjusted(), from ``p`` or from the one-sided p it is given
    se: float = math.nan  # corrected standard error of the mean difference
    df: int = 0  # degrees of freedom, n - 1

    def p_improves(self, lower_is_better: bool) -> float:
        """One-sided p for "the model is better than the reference" (a negative difference when lower is
        better): the t distribution's tail below t (or above it). 1 when every difference is zero."""
        if math.isnan(self.t):
            return 1.0
        return float(stats.t.cdf(self.t, self.df) if lower_is_better else stats.t.sf(self.t, self.df))


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

    df = n - 1
    if np.all(d == d[0]):  # zero variance: decided without dividing by zero
        mean = float(d[0])
        t = math.nan if mean == 0 else math.copysign(math.inf, mean)
        return Comparison(mean=mean, low=mean, high=mean, t=t, p=1.0 if mean == 0 else 0.0, se=0.0, df=df)

    mean = float(d.mean())
    se = math.sqrt(correction(n, train_size, test_size) * float(d.var(ddof=1)))
    t = mean / se
    p = float(2 * stats.t.sf(abs(t), df))
    half = float(stats.t.ppf((1 + confidence) / 2, df)) * se
    return Comparison(mean=mean, low=mean - half, high=mean + half, t=t, p=p, se=se, df=df)


def correction(n: int, train_size: int, test_size: int) -> float:
    """Nadeau & Bengio's factor: the variance of the mean of n fold differences is this times s^2."""
    return 1 / n + test_size / train_size


def minimal_detectable_difference(
    sd: float, n: int, train_size: int, test_size: int, alpha: float, power: float, tests: int = 1
) -> float:
    """The smallest true mean difference a one-sided corrected t-test at level ``alpha / tests`` (Holm's
    first step over ``tests`` comparisons) detects with probability ``power``, for fold differences
    with standard deviation ``sd``:

        MDD = (t_{n-1, 1 - alpha/tests} + t_{n-1, power}) * sqrt((1/n + test_size/train_size) * sd^2)
    """
    if n < 2 or sd < 0 or not (0 < alpha < 1 and 0 < power < 1 and tests >= 1):
        raise ValueError(f"minimal_detectable_difference: invalid n={n}, sd={sd}, alpha={alpha}, power={power}")
    quantiles = stats.t.ppf(1 - alpha / tests, n - 1) + stats.t.ppf(power, n - 1)
    return float(quantiles * math.sqrt(correction(n, train_size, test_size)) * sd)


@dataclass(frozen=True)
class Posterior:
    """Posterior probabilities that a model is better than, practically equivalent to (within
    ``rope``), or worse than the reference; they sum to 1."""

    better: float
    equivalent: float
    worse: float
    rope: float


def correlated_bayesian_t_test(
    differences: np.ndarray, train_size: int, test_size: int, rope: float, lower_is_better: bool
) -> Posterior:
    """Corani & Benavoli's (2015) correlated Bayesian t-test on fold differences (model minus reference).

    With a flat prior, the posterior of the mean difference is Student t with n - 1 degrees of freedom,
    location the sample mean and scale sqrt((1/n + rho/(1 - rho)) s^2), rho = test/(train + test) the
    correlation between folds (so rho/(1 - rho) = test_size/train_size, Nadeau & Bengio's term).
    P(left) = F(-rope), P(rope) = F(rope) - F(-rope), P(right) = 1 - F(rope). With zero variance the
    posterior is a point mass at the mean. "Better" is left when lower is better, else right.
    """
    d = np.asarray(differences, dtype="float64").ravel()
    if len(d) < 2 or rope < 0 or np.isnan(d).any():
        raise ValueError(f"correlated_bayesian_t_test needs >= 2 fold differences without NaN and rope >= 0 ({rope})")
    mean, variance = float(d.mean()), float(d.var(ddof=1))
    if variance == 0:
        left, right = float(mean < -rope), float(mean > rope)
    else:
        scale = math.sqrt(correction(len(d), train_size, test_size) * variance)
        posterior = stats.t(len(d) - 1, loc=mean, scale=scale)
        left, right = float(posterior.cdf(-rope)), float(posterior.sf(rope))
    better, worse = (left, right) if lower_is_better else (right, left)
    return Posterior(better=better, equivalent=max(0.0, 1.0 - left - right), worse=worse, rope=rope)


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


def holm_adjusted(
    comparisons: Mapping[str, Comparison], p_values: Mapping[str, float] | None = None
) -> dict[str, Comparison]:
    """The same comparisons with ``p_holm`` filled, adjusted over the whole family given: from their
    two-sided p, or from ``p_values`` (e.g. one-sided) when given."""
    adjusted = holm(p_values if p_values is not None else {name: c.p for name, c in comparisons.items()})
    return {name: replace(c, p_holm=adjusted[name]) for name, c in comparisons.items()}
