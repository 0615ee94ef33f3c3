"""The report's facts and their sentences on hand-built evidence (tests/reporting/handmade.py): no registry,
no pipeline run. Each judgement is flipped by its numbers, and the sentence the template makes of it checked."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.config import Params
from pipeline.evaluation.summary import BASELINE, BLEND
from pipeline.reporting import facts
from pipeline.reporting.claims import Bounds, judge
from pipeline.reporting.evidence import Evidence
from pipeline.reporting.rendering import environment
from tests.conftest import REPO
from tests.reporting import handmade


def test_the_gates_standings_sort_the_networks_and_references() -> None:
    found = facts.resampled_facts(handmade.evidence())
    assert (found.networks, found.references) == (["adam", "sgd"], [BLEND, "gradient_boosting", "logistic_regression"])
    assert (found.better, found.worse, found.equivalent) == (["adam"], ["sgd"], [])
    assert found.references_better == [BLEND, "gradient_boosting"]  # logistic regression: undecided
    assert found.versus["adam"] == facts.Resampled(-0.005, -0.008, -0.002, 0.008, 0.008, "better",
                                                   "significantly better (champion)")  # fmt: skip
    assert found.versus["logistic_regression"].p_gate == 0.2  # a reference: its two-sided p
    assert found.family == 2 and found.n_folds == 4
    assert found.nb_factor == pytest.approx(1 / 4 + 1000 / 4000)
    assert found.half_width == pytest.approx(0.003)  # both networks' intervals are 0.006 wide


def test_on_test_the_champion_is_judged_by_its_paired_interval_and_the_rope() -> None:
    found = facts.resampled_facts(handmade.evidence())
    assert found.champion_test == facts.OnTest(-0.004, -0.007, -0.001, "better", within_rope=False)
    assert found.test["sgd"] == facts.OnTest(0.001, -0.002, 0.004, "within noise", within_rope=False)
    assert (found.test_better, found.test_worse) == (["adam"], [])
    assert found.test[BLEND] is None  # not scored on test
    assert facts.resampled_facts(handmade.evidence(BASELINE, "none")).champion_test is None


def test_the_blend_is_compared_with_the_champion_only_when_there_is_one() -> None:
    blend = facts.resampled_facts(handmade.evidence()).blend
    assert blend is not None and blend.mean == 0.410 and blend.trees_mean == 0.412
    assert blend.champion is not None and blend.champion.value == pytest.approx(0.41 - 0.415)
    assert blend.champion.verdict == "within noise"  # the blend's folds are noisy: its interval spans zero
    alone = facts.resampled_facts(handmade.evidence(BASELINE, "none")).blend
    assert alone is not None and alone.champion is None


@pytest.mark.parametrize(
    ("low", "high", "verdict"), [(200.0, 1800.0, "better"), (-300.0, 1300.0, "within noise"), (-900.0, -100.0, "worse")]
)
def test_the_plans_lead_over_a_rule_is_judged_on_its_paired_interval(low: float, high: float, verdict: str) -> None:
    net = handmade.campaign_summary().test_net_value
    changed = net["churn probability"] | {"plan_minus_rule_low": low, "plan_minus_rule_high": high}
    summary = handmade.campaign_summary(test_net_value=net | {"churn probability": changed})
    found = facts.campaign_facts(_params(), handmade.evidence(campaign_summary=summary))
    assert found.lead["churn probability"] == verdict
    assert found.lead["expected net value"] == "within noise"  # the plan against itself: 0 [0, 0]
    assert found.mix == [("Retain now", 150), ("Nurture", 150)]  # segments with no contact are left out
    assert found.share == pytest.approx(300 / 1400)


def test_ensembles_are_judged_in_each_metrics_direction() -> None:
    by_metric = {
        "log_loss": {"diff": -0.002, "low": -0.003, "high": -0.001},  # lower: better
        "roc_auc": {"diff": -0.002, "low": -0.003, "high": -0.001},  # lower: worse
        "brier": {"diff": 0.0, "low": -0.001, "high": 0.001},
    }
    found = facts.ensemble_facts(handmade.evidence(ensemble_vs_single={"adam": by_metric}))
    assert {m: e.verdict for m, e in found["adam"].items()} == {
        "log_loss": "better",
        "roc_auc": "worse",
        "brier": "within noise",
    }


def test_judge_is_the_one_rule_for_an_interval() -> None:
    """A failing control for every judgement above: a zero-wide interval at zero is never "better"."""
    assert judge(Bounds(0.0, 0.0), True) == judge(Bounds(0.0, 0.0), False) == "within noise"
    assert judge(Bounds(-2.0, -1.0), True) == "better" and judge(Bounds(-2.0, -1.0), False) == "worse"


# ---- sentences: sections rendered alone with the facts built above ---------------------------------------


def _params():

    return Params.load(REPO / "params.yaml")


def _blend_sentence(evidence: Evidence) -> str:
    """§ 2's paragraph on the blend, rendered from the resampled facts alone."""
    rs = facts.resampled_facts(evidence)
    template = environment().from_string(
        "{% set b = rs.blend %}{% if b.champion %}Against the champion it is {{ b.champion.verdict | worded }} "
        "({{ b.champion | ci }}, unadjusted).{% endif %} {{ b.versus | ci }}, p = {{ b.versus.p_gate | p_value }}"
    )
    return template.render(rs=rs)


def test_the_blend_sentence_words_its_verdict_and_prints_its_interval() -> None:
    text = _blend_sentence(handmade.evidence())
    assert text.startswith("Against the champion it is not measurably different (-0.0050 [")
    assert text.endswith("-0.0100 [-0.0130, -0.0070], p = 0.0005")
    assert _blend_sentence(handmade.evidence(BASELINE, "none")).startswith(" -0.0100")  # no champion to compare


def test_a_typed_fact_cannot_be_changed_by_the_template() -> None:
    found = facts.resampled_facts(handmade.evidence())
    with pytest.raises(dataclasses.FrozenInstanceError):
        found.versus["adam"].verdict = "worse"  # type: ignore[misc]
