"""assess: hand-built probabilities and a hand-written gate, no model, no file and no MLflow."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import EvaluateConfig
from pipeline.evaluation import before_after
from pipeline.evaluation.assessment import AssessmentInputs, assess, decisions
from pipeline.evaluation.before_after import Network
from pipeline.evaluation.calibration import Calibrator
from pipeline.evaluation.summary import GateSummary

ROWS = 400
QUALITY = {"baseline": 0.25, "sgd": 0.1, "adam": 0.3, "search": 0.2}  # how much signal each network's seeds carry
SEEDS = {"baseline": 3, "sgd": 2, "adam": 2, "search": 2}
RESAMPLED_LOG_LOSS = {"baseline": 0.45, "sgd": 0.44, "adam": 0.43, "search": 0.425, "blend_baseline_gb": 0.44}


def _config(calibration: list[str] | None = None) -> EvaluateConfig:
    return EvaluateConfig.model_validate(
        {
            "threshold": {"rule": "max_f1"},
            "calibration": ["platt"] if calibration is None else calibration,
            "calibration_folds": 3,
            "bootstrap": {"resamples": 40, "confidence": 0.9, "seed": 7},
            "ece_bins": 10,
            "error_analysis": {"columns": ["Contract"], "bands": {"tenure": [0, 12, 72]}},
        }
    )


def _document(champion: str) -> dict[str, object]:
    """A comparison.json as the resample stage writes it."""
    models = {
        name: {
            "kind": "ann",
            "mean": {"log_loss": mean, "roc_auc": 0.8},
            "value": 1.0,
            "vs_baseline": {} if name == "baseline" else {
                "log_loss": {"mean": mean - 0.45, "low": mean - 0.46, "high": mean - 0.44, "t": -1.0, "p": 0.3,
                             "p_holm": math.nan, "se": 0.01, "df": 9},
            },
            "posterior": None,
            "cost": 10.0,
            "gated": True,
        }
        for name, mean in RESAMPLED_LOG_LOSS.items()
    }  # fmt: skip
    design = {"repeats": 2, "folds": 5, "seeds_per_fold": 5, "tune_fraction": 0.25, "confidence": 0.95,
              "training_rows": 4000.0, "held_rows": 1000.0}  # fmt: skip
    gate = {"criterion": "log_loss", "alpha": 0.05, "rope": 0.002, "equivalence_probability": 0.95, "cheaper": 0.5,
            "power": 0.8, "lower_is_better": True}  # fmt: skip
    detectable = {"power": 0.8, "alpha": 0.05, "tests": 3, "per_model": {}, "median": 0.003}
    return {"design": design, "gate": gate, "detectable": detectable,
            "rope_in_money": {"pairs": 10, "slope": -100.0, "r": -0.4, "per_1000": 200.0, "baseline_per_1000": 15000.0},
            "champion": champion, "route": "better", "reason": f"{champion} is champion.", "qualified": [champion],
            "tied_with_best": [champion], "equivalent_and_cheaper": [], "models": models}  # fmt: skip


def _inputs(champion: str = "sgd", calibration: list[str] | None = None) -> AssessmentInputs:
    rng = np.random.default_rng(0)
    y_val, y_test = rng.integers(0, 2, ROWS), rng.integers(0, 2, ROWS)

    def probabilities(y: np.ndarray, quality: float) -> np.ndarray:
        return np.clip(0.5 + quality * (2 * y - 1) + rng.normal(0, 0.25, len(y)), 0.01, 0.99)

    networks = {
        name: Network(
            name,
            np.stack([probabilities(y_val, QUALITY[name]) for _ in range(SEEDS[name])]),
            np.stack([probabilities(y_test, QUALITY[name]) for _ in range(SEEDS[name])]),
            [100 * (k + 1) for k in range(SEEDS[name])],
        )
        for name in QUALITY
    }
    references = {name: (probabilities(y_val, q), probabilities(y_test, q))
                  for name, q in (("logistic_regression", 0.2), ("gradient_boosting", 0.15))}  # fmt: skip
    contract = rng.choice(["Month-to-month", "One year"], ROWS)
    test = pd.DataFrame({"Contract": contract, "tenure": rng.integers(0, 72, ROWS)})
    return AssessmentInputs(
        networks=networks,
        references=references,
        y_val=y_val,
        contact_value=np.zeros(ROWS),
        test=test,
        y_test=y_test,
        gate=GateSummary.model_validate(_document(champion)),
        cfg=_config(calibration),
        original_threshold=0.5,
        optimizers=["sgd", "adam", "rmsprop"],  # rmsprop was not trained: left out
    )


def test_evaluate_reads_the_gate_s_summary_as_resample_writes_it(tmp_path: Path) -> None:
    written = GateSummary.model_validate(_document("adam"))
    written.write(tmp_path / "comparison.json")
    gate = GateSummary.read(tmp_path / "comparison.json")  # NaN survives the round trip
    assert gate.model_dump_json() == written.model_dump_json()  # NaN != NaN, so compared as written
    assert (gate.champion, gate.criterion, gate.gate.lower_is_better) == ("adam", "log_loss", True)
    assert list(gate.models) == list(RESAMPLED_LOG_LOSS)
    assert gate.mean("search") == 0.425
    assert gate.models["baseline"].vs_baseline == {}
    assert gate.models["adam"].vs_baseline["log_loss"].high == pytest.approx(0.43 - 0.44)
    with pytest.raises(ValueError, match="lower_is_better"):
        GateSummary.model_validate(_document("adam") | {"gate": {"criterion": "log_loss"}})


def test_networks_are_served_as_the_mean_of_their_seeds_and_references_as_they_are() -> None:
    inputs = _inputs(calibration=[])
    results = decisions(inputs)
    assert list(results) == [*QUALITY, "logistic_regression", "gradient_boosting"]
    for name, network in inputs.networks.items():
        assert results[name].kind == "ann"
        np.testing.assert_array_equal(results[name].p_test, network.p_test.mean(axis=0))
        np.testing.assert_array_equal(results[name].p_val, network.p_val.mean(axis=0))
    for name, (p_val, p_test) in inputs.references.items():
        assert results[name].kind == "reference" and results[name].calibration == "none"
        np.testing.assert_array_equal(results[name].p_test, p_test)
        np.testing.assert_array_equal(results[name].p_val, p_val)


def test_calibration_is_named_by_its_kind_or_none() -> None:
    results = decisions(_inputs(calibration=["platt"]))
    assert {r.calibration for n, r in results.items() if r.kind == "reference"} == {"none"}
    calibrated = [r for r in results.values() if r.calibrator is not None]
    assert calibrated, "platt lowers the log loss of some network on these probabilities"
    assert all(isinstance(r.calibrator, Calibrator) and r.calibration == "platt" for r in calibrated)


def test_the_gate_names_the_champion_even_when_another_model_scores_better_on_test() -> None:
    assessment = assess(_inputs(champion="sgd"))  # sgd's seeds carry the least signal
    results = assessment.results
    assert assessment.champion == "sgd"
    assert results["adam"].test["roc_auc"]["value"] > results["sgd"].test["roc_auc"]["value"]
    assert list(assessment.ensembles) == ["baseline", "sgd"]
    assert {"baseline_false_negatives", "sgd_false_positives"} <= set(assessment.errors.columns)
    assert results["baseline"].vs_baseline == {} and set(results["sgd"].vs_baseline) >= {"log_loss", "f1"}
    summary = assessment.summary()
    assert summary["champion_criterion"] == "resampled log_loss"
    assert summary["models"]["sgd"]["calibration"] == results["sgd"].calibration
    headline = assessment.headline()
    assert headline["test"]["champion"]["roc_auc"] == results["sgd"].test["roc_auc"]
    assert headline["test"]["baseline"]["log_loss"] == results["baseline"].test["log_loss"]["value"]


def test_a_baseline_kept_as_champion_is_assessed_once() -> None:
    assessment = assess(_inputs(champion="baseline"))
    assert list(assessment.ensembles) == ["baseline"]
    assert [c for c in assessment.errors.columns if c.endswith("_false_negatives")] == ["baseline_false_negatives"]
    assert list(assessment.before_after.after) == ["baseline", "sgd", "adam", "search"]


def test_before_after_starts_from_the_original_and_climbs_to_the_best_resampled_optimizer() -> None:
    inputs = _inputs(champion="search")  # the best resampled mean, but not an optimizer
    assessed = assess(inputs).before_after
    original = assessed.original.served
    assert (original.network, original.seeds, original.threshold, original.updates) == ("baseline", 1, 0.5, 100)
    np.testing.assert_array_equal(original.p_test, inputs.networks["baseline"].p_test[0])
    assert list(assessed.after) == ["search", "sgd", "adam"]  # the champion, then the optimizers trained
    assert assessed.after["search"].served.updates == 100 + 200 and assessed.after["search"].served.seeds == 2
    assert {s.served.network for s in assessed.ladder[1:]} == {"adam"}  # the best resampled optimizer
    assert assessed.ladder[0].served == original and assessed.ladder[0].versus == {}
    document = assessed.document()
    assert document["ladder"][0] == before_after.as_dict(assessed.ladder[0])
    assert list(document["after"]) == ["search", "sgd", "adam"]
