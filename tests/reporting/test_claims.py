"""§ 1's claims on hand-built evidence: each claim's condition flipped, and the sentence with it.

No registry, no pipeline run: the facts are typed values and the template is rendered alone.
"""

from __future__ import annotations

import dataclasses
import math

import pytest

from pipeline.metric_registry import VERSUS_ORIGINAL, label
from pipeline.reporting.claims import BeforeAfter, Bounds, Change, Step, Summary, Training, judge
from pipeline.reporting.rendering import environment

BEFORE = {"accuracy": 0.80, "precision": 0.66, "recall": 0.53, "f1": 0.59, "macro_f1": 0.73, "roc_auc": 0.84,
          "pr_auc": 0.63, "log_loss": 0.42, "brier": 0.14}  # fmt: skip
NOISE = (-0.01, 0.01)


def _change(key: str, diff: float, interval: tuple[float, float] = NOISE) -> Change:
    return Change(key, label(key), BEFORE[key], BEFORE[key] + diff, diff, *interval)


def _summary(**moved: tuple[float, tuple[float, float]]) -> Summary:
    """Every metric within noise of the original, except those in ``moved``: key -> (diff, interval)."""
    changes = {k: _change(k, *moved.get(k, (0.001, NOISE))) for k in VERSUS_ORIGINAL}
    step = Step("+ threshold chosen on validation", "adam", 5, 0.33, "none", 500, {}, changes)
    start = Step("original", "baseline", 1, 0.5, "none", 100, {}, {})
    ba = BeforeAfter(0.5, 100, "baseline", changes, {"baseline": changes, "adam": changes}, [start, step])
    return Summary(ba, Training(False, 100, 67.0, (7.0, 37.0)), "none", 0.018, 0.337)


def _render(summary: Summary) -> str:
    return " ".join(environment().get_template("summary_claims.md.j2").render(s=summary).split())


@pytest.mark.parametrize(
    ("low", "high", "lower_better", "verdict"),
    [(0.01, 0.02, False, "better"), (0.01, 0.02, True, "worse"), (-0.02, -0.01, True, "better"),
     (-0.01, 0.02, False, "within noise"), (0.0, 0.02, False, "within noise"), (-0.02, 0.0, True, "within noise"),
     (math.nan, math.nan, True, "within noise"), (-0.02, -0.01, False, "worse")],
)  # fmt: skip
def test_judge(low: float, high: float, lower_better: bool, verdict: str) -> None:
    assert judge(Bounds(low, high), lower_better) == verdict


def test_recall_is_claimed_only_when_it_is_measurably_higher() -> None:
    higher = _render(_summary(recall=(0.18, (0.15, 0.22))))
    assert "it finds 71.0 % of test churners against the original's 53.0 %" in higher
    same = _render(_summary(recall=(0.18, (-0.01, 0.22))))
    assert "finds" not in same.split("Decisions that fit the goal")[1].split("- **")[0]
    assert "its recall on test is not measurably higher than the original's" in same


def test_the_cost_in_precision_and_accuracy_is_said_when_it_is_real() -> None:
    costly = _render(_summary(precision=(-0.12, (-0.16, -0.08)), accuracy=(-0.04, (-0.05, -0.02))))
    assert "at a cost: precision falls from 0.660 to 0.540, accuracy falls from 0.800 to 0.760" in costly
    assert "at a cost" not in _render(_summary(precision=(-0.12, (-0.16, 0.01))))


def test_the_threshold_claim_needs_a_moved_threshold() -> None:
    moved = _summary()
    assert "Decisions that fit the goal" in _render(moved)
    kept = dataclasses.replace(moved, threshold=0.5)
    assert "Decisions that fit the goal" not in _render(kept)
    assert "The same decision rule" in _render(kept)


def test_calibration_is_claimed_as_it_was_decided() -> None:
    none = _render(_summary())
    assert "Calibration checked, none needed" in none and "served uncalibrated" in none
    platt = _render(dataclasses.replace(_summary(), calibration="platt"))
    assert "Platt scaling, kept because it lowered the validation log loss" in platt
    assert "none needed" not in platt


def test_faster_training_is_claimed_only_with_early_stopping() -> None:
    unchanged = _render(_summary())
    assert "Training is unchanged.** The served champion still trains 100 epochs without early stopping" in unchanged
    assert "Shorter training" not in unchanged
    stopping = dataclasses.replace(_summary(), training=Training(True, 100, 12.0, (7.0, 37.0)))
    assert "Shorter training.** The champion stops at its best validation epoch (12 on average)" in _render(stopping)
    assert "Training is unchanged" not in _render(stopping)


def test_the_ladder_names_what_each_step_moves_and_what_it_costs() -> None:
    text = _render(_summary(recall=(0.18, (0.15, 0.22))))
    assert "*+ threshold chosen on validation*: recall rises (+0.1800 [+0.1500, +0.2200]) (100 → 500 parameter" in text
    quiet = _render(_summary())
    assert "*+ threshold chosen on validation*: no metric moves measurably" in quiet


def test_the_counts_of_better_and_worse_networks_follow_the_intervals() -> None:
    summary = _summary(log_loss=(0.01, (0.004, 0.02)))
    assert summary.before_after.count("log_loss", "worse") == ["baseline", "adam"]
    assert "0 have a log loss measurably below the original's and 2 above it" in _render(summary)
