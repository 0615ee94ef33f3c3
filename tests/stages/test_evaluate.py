"""evaluate: decisions from validation only, honest intervals, a registered champion that loads anywhere."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from pipeline.config import Params
from pipeline.stages import evaluate
from pipeline.tracking import registry
from tests.conftest import use_project
from tests.repo_copy import command_env

pytestmark = pytest.mark.slow


def test_decisions_do_not_depend_on_test_labels(pipeline_project: Path, tmp_path: Path) -> None:
    """evaluate again in a copy of the project whose test labels are shuffled: every threshold,
    calibration and the champion stay the same (chosen on validation), the test metrics change."""
    copy = tmp_path / "project"
    shutil.copytree(pipeline_project, copy)
    test_file = copy / "data" / "prepared" / "test.parquet"
    frame = pd.read_parquet(test_file)
    frame["Churn"] = np.random.default_rng(0).permutation(frame["Churn"].to_numpy())
    frame.to_parquet(test_file, index=False)
    with pytest.MonkeyPatch.context() as mp:
        use_project(copy, mp)
        evaluate.run(Params.load())
    before = json.loads((pipeline_project / "reports" / "evaluate" / "summary.json").read_text())
    after = json.loads((copy / "reports" / "evaluate" / "summary.json").read_text())
    assert after["champion"] == before["champion"]
    for name, model in before["models"].items():
        assert after["models"][name]["threshold"] == model["threshold"], name
        assert after["models"][name]["calibration"] == model["calibration"], name
    assert after["models"]["baseline"]["test"]["roc_auc"] != before["models"]["baseline"]["test"]["roc_auc"]


def test_metrics_have_intervals_around_the_estimate_for_every_model(in_pipeline_project: Path) -> None:
    report = json.loads((in_pipeline_project / "reports" / "evaluate" / "summary.json").read_text())
    models = report["models"]
    assert {"baseline", "sgd", "adam", "search", "logistic_regression", "gradient_boosting"} <= set(models)
    for name, result in models.items():
        for metric in ("accuracy", "precision", "recall", "f1", "macro_f1", "roc_auc", "pr_auc", "log_loss", "brier"):
            ci = result["test"][metric]
            assert ci["low"] <= ci["value"] <= ci["high"], (name, metric, ci)
        if name != "baseline":
            for metric in ("log_loss", "roc_auc", "f1"):
                diff = result["vs_baseline"][metric]
                assert diff["low"] <= diff["value"] <= diff["high"]
    assert report["champion"] in models and models[report["champion"]]["kind"] == "ann"


def test_champion_is_the_gates_choice_on_development_data(in_pipeline_project: Path) -> None:
    report = json.loads((in_pipeline_project / "reports" / "evaluate" / "summary.json").read_text())
    gated = json.loads((in_pipeline_project / "reports" / "resample" / "comparison.json").read_text())
    assert report["champion"] == gated["champion"]
    assert gated["reason"].startswith(f"{gated['champion']} ")


def test_registry_has_champion_and_baseline_with_tags(in_pipeline_project: Path) -> None:
    name = Params.load().tracking.registered_model
    champion = MlflowClient().get_model_version_by_alias(name, registry.CHAMPION)
    baseline = MlflowClient().get_model_version_by_alias(name, registry.BASELINE)
    report = json.loads((in_pipeline_project / "reports" / "evaluate" / "summary.json").read_text())
    versions = json.loads((in_pipeline_project / "reports" / "evaluate" / "registry.json").read_text())
    # the baseline kept as champion is one version under both aliases
    assert (champion.version == baseline.version) == (report["champion"] == "baseline")
    for key in ("data_md5", "git_commit", "threshold", "optimizer", "selection_criterion", "selection_value"):
        assert key in champion.tags
    assert baseline.tags["candidate"] == "baseline"
    assert champion.tags["candidate"] == report["champion"]
    assert versions == {"champion": int(champion.version), "baseline": int(baseline.version)}
    evaluate_run = MlflowClient().get_run(champion.run_id)
    assert evaluate_run.data.tags["model"] == report["champion"]  # registered from its evaluate run


def test_champion_loads_in_a_fresh_process_outside_the_repository(in_pipeline_project: Path, tmp_path: Path) -> None:
    records = (
        pd.read_csv(in_pipeline_project / "data" / "raw" / "teleconnect.csv", dtype=str).head(5).drop(columns="Churn")
    )
    records.to_csv(tmp_path / "records.csv", index=False)
    script = f"""
import mlflow, pandas as pd
model = mlflow.pyfunc.load_model("models:/{Params.load().tracking.registered_model}@champion")
import pipeline
print("PACKAGE", pipeline.__file__)
out = model.predict(pd.read_csv("records.csv", dtype=str))
print("ROWS", len(out), list(out.columns))
"""
    env = command_env(MLFLOW_TRACKING_URI=f"sqlite:///{in_pipeline_project / 'mlflow.db'}")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.startswith(("PACKAGE", "ROWS")))
    assert "mlartifacts" in lines["PACKAGE"]  # the copy inside the model, not the repository's
    served = ["customerID", "churn_probability", "churn", "segment", "action", "expected_value", "contact"]
    assert lines["ROWS"] == f"5 {served}"


def test_blank_total_charges_is_scored_only_for_new_customers(in_pipeline_project: Path) -> None:
    import mlflow

    model = mlflow.pyfunc.load_model(registry.model_uri(Params.load().tracking.registered_model, "champion"))
    records = (
        pd.read_csv(in_pipeline_project / "data" / "raw" / "teleconnect.csv", dtype=str).head(2).drop(columns="Churn")
    )
    records.loc[0, ["tenure", "TotalCharges"]] = ["0", " "]
    scored = model.predict(records)
    assert 0 <= scored.loc[0, "churn_probability"] <= 1
    records.loc[1, ["tenure", "TotalCharges"]] = ["5", ""]
    with pytest.raises(Exception, match=r"record 2: column 'TotalCharges'.*blank is allowed only when tenure == 0"):
        model.predict(records)
