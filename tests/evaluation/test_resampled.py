"""The corrected resampled t-test, the minimal detectable difference, the correlated Bayesian t-test
and Holm's adjustment against hand-computed examples; the bias-corrected ECE interval that contains
its own estimate."""

from __future__ import annotations

import math
import warnings
from itertools import pairwise

import numpy as np
import pytest
from scipy import stats

from pipeline.evaluation import bootstrap, metrics
from pipeline.evaluation.resampled import (
    Comparison,
    corrected_t_test,
    correlated_bayesian_t_test,
    holm,
    holm_adjusted,
    minimal_detectable_difference,
)

# --- corrected resampled t-test ------------------------------------------------------------------

# 10 fold differences: 0.02 plus deviations (+3, -3, 0 x 8) / 100 -> mean 0.02,
# sample variance (0.03^2 + 0.03^2) / 9 = 0.0018 / 9 = 2e-4.
DIFFERENCES = np.array([0.05, -0.01, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02, 0.02])
MEAN, VARIANCE = 0.02, 2e-4
# train_size = test_size: correction 1/10 + 1 = 1.1 -> variance of the mean 2.2e-4
SE_CORRECTED = math.sqrt(1.1 * 2e-4)  # 0.0148324
T_CORRECTED = 0.02 / SE_CORRECTED  # 1.348399
T_975_DF9 = 2.262157  # Student t, 9 degrees of freedom, 97.5 % quantile (table value)


def test_example_has_the_stated_mean_and_variance() -> None:
    assert DIFFERENCES.mean() == pytest.approx(MEAN, abs=1e-15)
    assert DIFFERENCES.var(ddof=1) == pytest.approx(VARIANCE, rel=1e-12)


def test_corrected_t_test_by_hand() -> None:
    c = corrected_t_test(DIFFERENCES, train_size=500, test_size=500)
    assert c.mean == pytest.approx(0.02, abs=1e-15)
    assert c.t == pytest.approx(1.348399, abs=1e-6)
    assert c.t == pytest.approx(T_CORRECTED, rel=1e-12)
    assert c.p == pytest.approx(2 * stats.t.sf(T_CORRECTED, df=9), rel=1e-12)  # cross-check only
    assert c.p == pytest.approx(0.2105, abs=1e-4)
    assert c.low == pytest.approx(0.02 - T_975_DF9 * SE_CORRECTED, abs=1e-7)  # -0.013553
    assert c.high == pytest.approx(0.02 + T_975_DF9 * SE_CORRECTED, abs=1e-7)  # 0.053553
    assert math.isnan(c.p_holm)


def test_the_correction_matters() -> None:
    """Uncorrected (s^2/n = 2e-5) the same folds look highly significant; corrected they do not."""
    se_naive = math.sqrt(2e-4 / 10)  # 0.0044721
    t_naive = 0.02 / se_naive  # 4.4721
    assert 2 * stats.t.sf(t_naive, df=9) < 0.01
    c = corrected_t_test(DIFFERENCES, train_size=500, test_size=500)
    assert c.p > 0.05 and c.low < 0 < c.high
    assert c.high - c.low > 3 * (2 * T_975_DF9 * se_naive)  # sqrt(1.1 / 0.1) = 3.3 times wider


def test_corrected_t_test_is_symmetric_and_uses_the_confidence() -> None:
    a = corrected_t_test(DIFFERENCES, 900, 100)
    b = corrected_t_test(-DIFFERENCES, 900, 100)
    assert (b.mean, b.t, b.p) == pytest.approx((-a.mean, -a.t, a.p))
    assert (b.low, b.high) == pytest.approx((-a.high, -a.low))
    narrow = corrected_t_test(DIFFERENCES, 900, 100, confidence=0.8)
    assert a.low < narrow.low < narrow.high < a.high


def test_nan_difference_is_refused() -> None:
    with pytest.raises(ValueError, match=r"NaN at folds \[2\]"):
        corrected_t_test(np.array([0.1, 0.2, np.nan, 0.3]), 90, 10)


@pytest.mark.parametrize(("value", "t", "p"), [(0.01, math.inf, 0.0), (-0.01, -math.inf, 0.0), (0.0, math.nan, 1.0)])
def test_zero_variance_without_warnings(value: float, t: float, p: float) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c = corrected_t_test(np.full(10, value), 90, 10)
    assert c.mean == value and c.low == value and c.high == value and c.p == p
    assert c.t == t if not math.isnan(t) else math.isnan(c.t)


def test_fewer_than_two_folds_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        corrected_t_test(np.array([0.1]), 90, 10)


# --- Holm ------------------------------------------------------------------------------------------


def test_holm_by_hand() -> None:
    # sorted: d 0.005 x 4 = 0.02; a 0.01 x 3 = 0.03; c 0.03 x 2 = 0.06; b 0.04 x 1 = 0.04 -> max(0.06, 0.04)
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": 0.005})
    assert list(adjusted) == ["a", "b", "c", "d"]
    assert adjusted == pytest.approx({"a": 0.03, "b": 0.06, "c": 0.06, "d": 0.02})


def test_holm_is_monotone_capped_and_never_below_raw() -> None:
    raw = dict(zip("abcdefghij", np.random.default_rng(0).random(10), strict=True))
    adjusted = holm(raw)
    ordered = sorted(raw, key=raw.get)
    assert all(adjusted[x] <= adjusted[y] for x, y in pairwise(ordered))
    assert all(raw[k] <= adjusted[k] <= 1 for k in raw)
    assert holm({"a": 0.6, "b": 0.7}) == {"a": 1.0, "b": 1.0}
    assert holm({"only": 0.03}) == {"only": 0.03} and holm({}) == {}


def test_holm_adjusted_fills_comparisons() -> None:
    comparisons = {k: Comparison(0.0, 0.0, 0.0, 0.0, p) for k, p in {"a": 0.01, "b": 0.04}.items()}
    filled = holm_adjusted(comparisons)
    assert filled["a"].p_holm == pytest.approx(0.02) and filled["b"].p_holm == pytest.approx(0.04)
    assert filled["a"].p == 0.01


# --- minimal detectable difference ---------------------------------------------------------------


def test_minimal_detectable_difference_by_hand() -> None:
    """n = 10, train = test: se = sqrt(1.1) * sd; one-sided 5 %, 80 % power: (1.833113 + 0.883404) * se."""
    mdd = minimal_detectable_difference(0.01, 10, 500, 500, alpha=0.05, power=0.8)
    assert mdd == pytest.approx((1.833113 + 0.883404) * math.sqrt(1.1) * 0.01, rel=1e-5)  # 0.0284911
    # Holm's first step over 4 comparisons tests at 0.05 / 4: a larger difference is needed
    assert minimal_detectable_difference(0.01, 10, 500, 500, 0.05, 0.8, tests=4) > mdd


def test_minimal_detectable_difference_has_the_stated_power() -> None:
    """At a true difference of the MDD the corrected one-sided test rejects with probability about 0.8
    (the exact power, from the noncentral t, is 0.805: the formula's normal-quantile shortcut)."""
    n, sd = 10, 0.01
    mdd = minimal_detectable_difference(sd, n, 500, 500, alpha=0.05, power=0.8)
    se = math.sqrt(1.1) * sd
    power = stats.nct.sf(stats.t.ppf(0.95, n - 1), n - 1, mdd / se)
    assert power == pytest.approx(0.8, abs=0.01)


# --- correlated Bayesian t-test -----------------------------------------------------------------


def test_correlated_bayesian_t_test_by_hand() -> None:
    """DIFFERENCES (mean 0.02, s^2 2e-4, n 10, train = test): posterior t_9(0.02, sqrt(1.1 * 2e-4)); with
    ROPE 0.01, P(left) = F_9(-0.03 / 0.0148324) = 0.036906 and P(right) = 1 - F_9(-0.01 / 0.0148324) = 0.741438,
    (the same to 1e-9 by numerical integration of the posterior density)."""
    loss = correlated_bayesian_t_test(DIFFERENCES, 500, 500, rope=0.01, lower_is_better=True)
    assert loss.better == pytest.approx(0.036906, abs=1e-6)  # left: the model's loss is lower
    assert loss.worse == pytest.approx(0.741438, abs=1e-6)
    assert loss.equivalent == pytest.approx(1 - 0.036906 - 0.741438, abs=2e-6)
    auc = correlated_bayesian_t_test(DIFFERENCES, 500, 500, rope=0.01, lower_is_better=False)
    assert (auc.better, auc.worse) == (loss.worse, loss.better)  # for a score, right is better


def test_identical_models_are_practically_equivalent() -> None:
    assert correlated_bayesian_t_test(np.zeros(10), 4500, 1125, 0.002, True).equivalent == 1.0
    tiny = np.random.default_rng(0).normal(0, 1e-5, 50)  # two models that differ only by rounding
    assert correlated_bayesian_t_test(tiny, 4500, 1125, 0.002, True).equivalent > 0.999
    # a clear, steady difference is not equivalent
    clear = 0.01 + np.random.default_rng(1).normal(0, 1e-3, 50)
    assert correlated_bayesian_t_test(clear, 4500, 1125, 0.002, True).worse > 0.999


def test_one_sided_p_is_half_the_two_sided_in_the_claimed_direction() -> None:
    c = corrected_t_test(-DIFFERENCES, 500, 500)  # the model's loss is lower: an improvement
    assert c.p_improves(lower_is_better=True) == pytest.approx(c.p / 2, rel=1e-12)
    assert c.p_improves(lower_is_better=False) == pytest.approx(1 - c.p / 2, rel=1e-12)
    assert corrected_t_test(np.zeros(5), 500, 500).p_improves(True) == 1.0


# --- bootstrap: bias-corrected ECE ---------------------------------------------------------------


def test_ece_interval_contains_its_bias_corrected_value() -> None:
    rng = np.random.default_rng(0)
    p = rng.beta(2, 6, 3000)  # churn-like probabilities
    y = (rng.random(3000) < p).astype(int)  # perfectly calibrated: the true ECE is 0
    indices = bootstrap.resample_indices(len(y), 300, seed=1)
    result = bootstrap.intervals(y, p, 0.5, indices, confidence=0.95, bins=10)
    ece = result["ece"]
    plug_in = metrics.expected_calibration_error(y, p, 10)
    assert ece["low"] <= ece["value"] <= ece["high"]
    assert ece["value"] < plug_in
    assert ece["low"] >= 0
    # every other metric keeps its plug-in value and percentile interval
    assert result["roc_auc"]["value"] == metrics.roc_auc(y, p)
    samples = [metrics.log_loss(y[rows], p[rows]) for rows in indices]
    assert result["log_loss"]["low"] == pytest.approx(np.quantile(samples, 0.025))


def test_paired_difference_supports_log_loss() -> None:
    rng = np.random.default_rng(0)
    p = rng.beta(2, 6, 1000)
    y = (rng.random(1000) < p).astype(int)
    noisy = np.clip(p + rng.normal(0, 0.1, 1000), 0.01, 0.99)
    indices = bootstrap.resample_indices(len(y), 200, seed=1)
    diff = bootstrap.paired_difference(y, (noisy, 0.5), (p, 0.5), "log_loss", indices, 0.95)
    assert diff["value"] == pytest.approx(metrics.log_loss(y, noisy) - metrics.log_loss(y, p))
    assert 0 < diff["low"] <= diff["value"] <= diff["high"]


def test_holm_adjusts_the_p_values_it_is_given() -> None:
    """The gate's family is adjusted from one-sided p; the comparisons keep their two-sided p."""
    comparisons = {k: Comparison(-0.01, -0.02, 0.0, -2.0, p) for k, p in {"a": 0.02, "b": 0.08}.items()}
    filled = holm_adjusted(comparisons, {"a": 0.01, "b": 0.04})
    assert filled["a"].p_holm == pytest.approx(0.02) and filled["b"].p_holm == pytest.approx(0.04)
    assert filled["a"].p == 0.02
