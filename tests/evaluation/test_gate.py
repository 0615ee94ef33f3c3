"""Gate v2 on synthetic evidence, one test per outcome: significantly better; practically equivalent and
cheaper; equivalent but dearer; worse; and the rules among several winners."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.evaluation.gate import GateDecision, GateRule, Standing, gate
from pipeline.evaluation.resampled import (
    Comparison,
    Posterior,
    corrected_t_test,
    correlated_bayesian_t_test,
    holm_adjusted,
)

FOLDS, TRAIN, TEST = 10, 4500, 1125  # 2 repeats x 5 folds: test/train = 1/4
RULE = GateRule(alpha=0.05, equivalence_probability=0.95, cheaper=0.5, lower_is_better=True)
REFERENCE_COST = 6600.0


def _exact(mean: float, sd: float, seed: int) -> np.ndarray:
    """FOLDS values with exactly this mean and sample standard deviation."""
    z = np.random.default_rng(seed).standard_normal(FOLDS)
    return mean + sd * (z - z.mean()) / z.std(ddof=1)


REFERENCE = _exact(0.42, 0.01, seed=1)


def _gate(scores: dict[str, np.ndarray], costs: dict[str, float], rule: GateRule = RULE) -> GateDecision:
    """The gate as the resample stage runs it: Holm over one-sided p of the challengers, posteriors with
    the rule's ROPE 0.002; "reference" is the reference, whose cost is REFERENCE_COST."""
    reference = scores["reference"]
    raw = {n: corrected_t_test(s - reference, TRAIN, TEST) for n, s in scores.items() if n != "reference"}
    adjusted = holm_adjusted(raw, {n: c.p_improves(rule.lower_is_better) for n, c in raw.items()})
    standings = {
        n: Standing(
            n,
            float(scores[n].mean()),
            c,
            correlated_bayesian_t_test(scores[n] - reference, TRAIN, TEST, 0.002, rule.lower_is_better),
            costs[n],
        )
        for n, c in adjusted.items()
    }

    def versus_best(name: str, best: str) -> Comparison:
        return corrected_t_test(scores[name] - scores[best], TRAIN, TEST)

    return gate("reference", REFERENCE_COST, standings, versus_best, rule)


@pytest.mark.parametrize("lower_is_better", [True, False])
def test_significantly_better_wins(lower_is_better: bool) -> None:
    sign = 1 if lower_is_better else -1  # a loss improves downward, an AUC upward
    reference = REFERENCE if lower_is_better else 1 - REFERENCE
    scores = {"reference": reference, "real": reference + sign * _exact(-0.01, 0.003, seed=3)}
    rule = GateRule(0.05, 0.95, 0.5, lower_is_better)
    decision = _gate(scores, {"real": 9000.0}, rule)  # dearer than the reference: better needs no discount
    assert decision.champion == "real" and decision.route == "better"
    assert decision.qualified == ["real"] == decision.tied_with_best
    assert "only challenger significantly better" in decision.reason and "one-sided" in decision.reason


def test_equivalent_and_cheaper_wins() -> None:
    scores = {"reference": REFERENCE, "cheap": REFERENCE + _exact(0.0001, 0.0008, seed=4)}
    decision = _gate(scores, {"cheap": 1333.0})
    assert decision.champion == "cheap" and decision.route == "equivalent_and_cheaper"
    assert decision.qualified == [] and decision.equivalent_and_cheaper == ["cheap"]
    assert "practically equivalent" in decision.reason and "1,333" in decision.reason and "6,600" in decision.reason


def test_equivalent_but_dearer_leaves_the_reference() -> None:
    scores = {"reference": REFERENCE, "dear": REFERENCE + _exact(0.0001, 0.0008, seed=4)}
    decision = _gate(scores, {"dear": 4000.0})  # 61 % of the reference's updates: not materially cheaper
    assert decision.champion == "reference" and decision.route == "none"
    assert "P(equivalent) = 1.000" in decision.reason or "P(equivalent) = 0.99" in decision.reason
    assert "its cost is 61% of reference's" in decision.reason


def test_worse_leaves_the_reference_even_when_cheaper() -> None:
    scores = {"reference": REFERENCE, "worse": REFERENCE + _exact(0.01, 0.002, seed=5)}
    decision = _gate(scores, {"worse": 100.0})
    assert decision.champion == "reference" and decision.route == "none"
    assert "none improves on it" in decision.reason and "P(equivalent) = 0.000" in decision.reason


def test_noise_is_neither_better_nor_equivalent() -> None:
    """A lead buried in noise: not significant, and too uncertain to call equivalent."""
    scores = {"reference": REFERENCE, "noisy": REFERENCE + _exact(-0.003, 0.01, seed=2)}
    decision = _gate(scores, {"noisy": 1000.0})
    assert decision.champion == "reference"
    assert "closest: noisy" in decision.reason and "adjusted p" in decision.reason


def _challengers(**differences: tuple[float, float, int]) -> dict[str, np.ndarray]:
    """The reference and each challenger as the reference plus fold differences (mean, sd, seed)."""
    return {"reference": REFERENCE} | {name: REFERENCE + _exact(*d) for name, d in differences.items()}


def test_the_cheapest_of_the_equivalent_wins() -> None:
    scores = _challengers(a=(-0.0002, 0.0008, 6), b=(0.0002, 0.0008, 7))
    decision = _gate(scores, {"a": 3000.0, "b": 1000.0})
    assert decision.champion == "b" and decision.equivalent_and_cheaper == ["a", "b"]
    assert "the cheapest of 2" in decision.reason


def test_better_comes_before_equivalent_and_cheaper() -> None:
    scores = _challengers(better=(-0.01, 0.003, 3), cheap=(0.0001, 0.0008, 4))
    decision = _gate(scores, {"better": 5000.0, "cheap": 100.0})
    assert decision.champion == "better" and decision.route == "better"
    assert decision.equivalent_and_cheaper == ["cheap"]


def test_gate_prefers_the_cheaper_of_two_better_ones_that_do_not_differ() -> None:
    cheap = REFERENCE + _exact(-0.020, 0.003, seed=5)
    scores = {"reference": REFERENCE, "cheap": cheap, "costly": cheap + _exact(-0.001, 0.004, seed=6)}
    decision = _gate(scores, {"cheap": 10.0, "costly": 100.0})
    assert decision.qualified == ["cheap", "costly"] == decision.tied_with_best
    assert decision.champion == "cheap"
    assert "costly has the best mean" in decision.reason and "cheapest" in decision.reason


def test_gate_takes_the_best_when_the_cheaper_is_significantly_worse() -> None:
    cheap = REFERENCE + _exact(-0.010, 0.002, seed=7)
    scores = {"reference": REFERENCE, "cheap": cheap, "costly": cheap + _exact(-0.020, 0.002, seed=8)}
    decision = _gate(scores, {"cheap": 10.0, "costly": 100.0})
    assert decision.qualified == ["cheap", "costly"] and decision.tied_with_best == ["costly"]
    assert decision.reason.startswith("costly is champion") and "significantly worse" in decision.reason


def test_gate_skips_the_reference_and_needs_holm() -> None:
    same = Comparison(0.0, 0.0, 0.0, math.nan, 1.0, p_holm=1.0)
    nothing = Posterior(0.0, 1.0, 0.0, 0.002)
    standings = {"reference": Standing("reference", 0.4, same, nothing, 0.0)}
    assert gate("reference", 1.0, standings, lambda a, b: same, RULE).champion == "reference"
    unfilled = {"x": Standing("x", 0.3, Comparison(-0.1, -0.2, 0.0, -3.0, 0.001), nothing, 1.0)}
    with pytest.raises(ValueError, match="Holm"):
        gate("reference", 1.0, unfilled, lambda a, b: same, RULE)
