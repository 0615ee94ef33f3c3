"""The corrected resampled t-test, Holm's adjustment and the champion gate against hand-computed
examples; and the bias-corrected ECE interval that contains its own estimate."""

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
    GateDecision,
    Standing,
    corrected_t_test,
    gate,
    holm,
    holm_adjusted,
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


# --- gate ------------------------------------------------------------------------------------------

FOLDS, TRAIN, TEST = 50, 9000, 1000  # 5 repeats x 10 folds: test/train = 1/9


def _exact(mean: float, sd: float, seed: int) -> np.ndarray:
    """FOLDS values with exactly this mean and sample standard deviation."""
    z = np.random.default_rng(seed).standard_normal(FOLDS)
    return mean + sd * (z - z.mean()) / z.std(ddof=1)


def _gate(scores: dict[str, np.ndarray], costs: dict[str, float], lower_is_better: bool = True) -> GateDecision:
    """Gate on per-fold scores (a loss unless ``lower_is_better`` is False); "reference" is the reference."""
    raw = {n: corrected_t_test(s - scores["reference"], TRAIN, TEST) for n, s in scores.items() if n != "reference"}
    standings = {n: Standing(n, float(scores[n].mean()), c, costs[n]) for n, c in holm_adjusted(raw).items()}

    def versus_best(name: str, best: str) -> Comparison:
        return corrected_t_test(scores[name] - scores[best], TRAIN, TEST)

    return gate("reference", standings, versus_best, alpha=0.05, lower_is_better=lower_is_better)


REFERENCE = _exact(0.40, 0.01, seed=1)


def test_gate_keeps_the_reference_when_the_lead_is_noise() -> None:
    scores = {"reference": REFERENCE, "noisy": REFERENCE + _exact(-0.005, 0.03, seed=2)}
    decision = _gate(scores, {"noisy": 1.0})
    assert decision.champion == "reference"
    assert decision.qualified == [] and decision.tied_with_best == []
    assert "no challenger's improvement" in decision.reason and "Holm" in decision.reason
    assert "noisy" in decision.reason and "adjusted p" in decision.reason


def test_the_closest_challenger_is_the_one_nearest_significance_not_the_first_by_name() -> None:
    """Holm caps both adjusted p at 1; the raw p still orders them (the larger, steadier lead)."""
    scores = {
        "reference": REFERENCE,
        "a_faint": REFERENCE + _exact(-0.0005, 0.03, seed=9),
        "b_clearer": REFERENCE + _exact(-0.004, 0.03, seed=10),
    }
    decision = _gate(scores, {"a_faint": 1.0, "b_clearer": 1.0})
    assert decision.champion == "reference"
    assert "closest: b_clearer" in decision.reason and "adjusted p = 1 " in decision.reason


@pytest.mark.parametrize("lower_is_better", [True, False])
def test_gate_moves_when_the_improvement_is_real(lower_is_better: bool) -> None:
    sign = 1 if lower_is_better else -1  # a loss improves downward, an AUC upward
    reference = REFERENCE if lower_is_better else 1 - REFERENCE
    scores = {"reference": reference, "real": reference + sign * _exact(-0.02, 0.003, seed=3)}
    decision = _gate(scores, {"real": 1.0}, lower_is_better)
    assert decision.champion == "real" and decision.qualified == ["real"] == decision.tied_with_best
    assert "only challenger" in decision.reason


def test_gate_never_crowns_a_significant_worsening() -> None:
    scores = {"reference": REFERENCE, "worse": REFERENCE + _exact(0.02, 0.003, seed=4)}
    decision = _gate(scores, {"worse": 1.0})
    assert decision.champion == "reference" and "none improves on it" in decision.reason
    assert "adjusted p" not in decision.reason  # nothing to adjust: it is worse on average


def test_gate_prefers_the_cheaper_of_two_that_do_not_differ() -> None:
    cheap = REFERENCE + _exact(-0.020, 0.003, seed=5)
    scores = {"reference": REFERENCE, "cheap": cheap, "costly": cheap + _exact(-0.001, 0.004, seed=6)}
    decision = _gate(scores, {"cheap": 10.0, "costly": 100.0})
    assert decision.qualified == ["cheap", "costly"]
    assert decision.tied_with_best == ["cheap", "costly"]
    assert decision.champion == "cheap"
    assert "costly has the best mean" in decision.reason and "cheapest" in decision.reason


def test_gate_takes_the_best_when_the_cheaper_is_significantly_worse() -> None:
    cheap = REFERENCE + _exact(-0.010, 0.002, seed=7)
    scores = {"reference": REFERENCE, "cheap": cheap, "costly": cheap + _exact(-0.020, 0.002, seed=8)}
    decision = _gate(scores, {"cheap": 10.0, "costly": 100.0})
    assert decision.qualified == ["cheap", "costly"]
    assert decision.tied_with_best == ["costly"]
    assert decision.champion == "costly"
    assert decision.reason.startswith("costly is champion") and "significantly worse" in decision.reason


def test_gate_skips_the_reference_and_needs_holm() -> None:
    same = Comparison(0.0, 0.0, 0.0, math.nan, 1.0, p_holm=1.0)
    standings = {"reference": Standing("reference", 0.4, same, 0.0)}
    assert gate("reference", standings, lambda a, b: same, 0.05, True).champion == "reference"
    unfilled = {"x": Standing("x", 0.3, Comparison(-0.1, -0.2, 0.0, -3.0, 0.001), 1.0)}
    with pytest.raises(ValueError, match="Holm"):
        gate("reference", unfilled, lambda a, b: same, 0.05, True)


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
