"""baseline and optimize on a synthetic project: outputs, MLflow structure, and no test data."""

from __future__ import annotations

from pathlib import Path

import keras
import mlflow
import optuna
import pytest
import yaml
from mlflow.tracking import MlflowClient

from pipeline.config import Params
from pipeline.data.prepared import data_md5
from pipeline.data.schema import DataSchema
from pipeline.evaluation import metrics
from pipeline.features.encoded import load_split
from pipeline.features.preprocessing import Preprocessor
from pipeline.stages import baseline
from pipeline.training import store as model_store
from pipeline.tuning.plan import plan_studies
from pipeline.tuning.storage import open_storage
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _runs(root: Path) -> list:
    mlflow.set_tracking_uri(f"sqlite:///{root / 'mlflow.db'}")
    return mlflow.search_runs(experiment_names=["otomoto-churn-ann"], output_format="list", max_results=5000)


def test_the_test_split_is_not_a_dependency_of_training_stages() -> None:
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for name in ("references", "baseline", "recipes", "optimize", "resample"):
        assert not any("test.parquet" in dep for dep in stages[name]["deps"])
    assert any("test.parquet" in out for out in stages["prepare"]["outs"])


def test_training_stages_ran_without_the_test_split(in_pipeline_project: Path) -> None:
    # the fixture hid the test split while references, baseline, recipes, optimize and resample ran, and checked it
    # stayed hidden
    for stage in ("references", "baseline", "recipes", "optimize", "resample"):
        assert (in_pipeline_project / "metrics" / f"{stage}.json").exists(), stage
    params = Params.load()
    schema = DataSchema.from_yaml(params.paths.schema_file)
    validation = load_split(params.paths, "validation", schema, Preprocessor.load(params.paths.preprocessor))
    models = params.paths.models
    for directory in [models / "baseline", *(models / "recipes").iterdir(), *(models / "candidates").iterdir()]:
        stored = model_store.load(directory)
        assert sorted(stored.seeds) == params.baseline.seeds  # every candidate over the baseline's seeds
        for seed, recorded in stored.seeds.items():  # the saved networks are the ones that were scored
            model = keras.saving.load_model(directory / f"seed-{seed}.keras", compile=False)
            p = model.predict(validation.x, verbose=0)[:, 0]
            assert metrics.log_loss(validation.y, p) == pytest.approx(recorded["log_loss"], abs=1e-6), directory


def test_baseline_runs_nest_seeds_with_epoch_curves_and_figures(in_pipeline_project: Path) -> None:
    runs = _runs(in_pipeline_project)
    parent = min((r for r in runs if r.info.run_name == "baseline"), key=lambda r: r.info.start_time)
    seeds = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted(r.info.run_name for r in seeds) == ["baseline-seed-0", "baseline-seed-1"]
    client = MlflowClient()
    for run in seeds:
        for key in ("train_loss", "val_loss", "epoch_val_roc_auc"):
            curve = client.get_metric_history(run.info.run_id, key)
            assert [m.step for m in curve] == list(range(1, 9)), key
        # the final metric is the trained model's alone, not overwritten by a per-epoch curve
        assert len(client.get_metric_history(run.info.run_id, "val_roc_auc")) == 1
        files = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert {"loss_curve.png", "confusion_matrix_validation.png", "model"} <= files
        assert run.data.tags["stage"] == "baseline" and run.data.tags["seed"] in {"0", "1"}
        # the UI's Dataset and Model columns: the data it fit on, the network it trained, the metrics of that network
        contexts = {d.dataset.name: d.tags[0].value for d in run.inputs.dataset_inputs}
        assert contexts == {"train": "training", "validation": "validation"}
        [output] = run.outputs.model_outputs
        model = client.get_logged_model(output.model_id)
        assert model.source_run_id == run.info.run_id and model.name == run.info.run_name
        assert model.params["optimizer"] == "sgd" and model.tags["file"] == f"seed-{run.data.tags['seed']}.keras"
        linked = {m.key: m for m in model.metrics}
        assert linked["val_log_loss"].value == run.data.metrics["val_log_loss"]
        assert linked["val_log_loss"].dataset_name == "validation"
    assert "val_roc_auc_mean" in parent.data.metrics


def test_every_trial_is_a_nested_run_with_its_optuna_state(in_pipeline_project: Path) -> None:
    runs = _runs(in_pipeline_project)
    by_id = {r.info.run_id: r for r in runs}
    [comparison] = [r for r in runs if r.info.run_name == "optimizer-comparison"]
    params = Params.load(in_pipeline_project / "params.yaml")
    storage = open_storage(params.optimize, params.paths.studies)
    for plan in plan_studies(params.optimize, params.baseline.candidate, data_md5(params.paths)):
        [study_run] = [
            r
            for r in runs
            if r.data.tags.get("optuna_study") == plan.name
            and "trial" not in r.data.tags
            and r.data.tags.get("kind") != "retrain"
        ]
        if plan.kind == "comparison":
            assert study_run.data.tags["mlflow.parentRunId"] == comparison.info.run_id
        trial_runs = [
            r for r in runs if r.data.tags.get("mlflow.parentRunId") == study_run.info.run_id and "trial" in r.data.tags
        ]
        assert len(trial_runs) == plan.budget
        study = optuna.load_study(study_name=plan.name, storage=storage)
        states = {str(t.number): t.state.name for t in study.trials}
        for run in trial_runs:
            assert run.info.run_name == f"{plan.label}-trial-{int(run.data.tags['trial']):02d}"
            assert run.data.tags["state"] == states[run.data.tags["trial"]]
            assert MlflowClient().get_metric_history(run.info.run_id, "val_loss")
        artifacts = {a.path for a in MlflowClient().list_artifacts(study_run.info.run_id, "optuna")}
        assert "optuna/optimization_history.png" in artifacts
        assert by_id[study_run.info.run_id].data.metrics["trials"] == plan.budget


def test_baseline_is_deterministic(in_pipeline_project: Path) -> None:
    first = (in_pipeline_project / "reports" / "baseline" / "summary.json").read_text()
    baseline.run(Params.load())
    assert (in_pipeline_project / "reports" / "baseline" / "summary.json").read_text() == first
