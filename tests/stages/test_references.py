"""``references`` on a synthetic project: its files, its MLflow runs, no test data, and a rerun that
resumes the finished studies."""

from __future__ import annotations

from pathlib import Path

import mlflow
import optuna
import pytest
from mlflow.entities import Run

from pipeline.config import Params
from pipeline.data.prepared import data_md5
from pipeline.evaluation import metrics, reference
from pipeline.io import read_json
from pipeline.stages import prepare, references
from pipeline.training.job import load_training_data
from pipeline.tuning import references as tuning
from pipeline.tuning.storage import open_storage
from tests.conftest import SMALL_BUDGETS, set_params

pytestmark = pytest.mark.slow
BUDGETS = {name: SMALL_BUDGETS["references"][name]["trials"] for name in reference.NAMES}


@pytest.fixture
def tuned_project(project: Path, monkeypatch: pytest.MonkeyPatch) -> Params:
    """``prepare``, then ``references`` with the test split moved away."""
    set_params(project, SMALL_BUDGETS)
    monkeypatch.setenv("PIPELINE_WORKERS", "1")
    prepare.run(Params.load())
    test_split = project / "data" / "prepared" / "test.parquet"
    hidden = test_split.rename(project / "test.parquet.hidden")
    references.run(Params.load())
    assert not test_split.exists()
    hidden.rename(test_split)
    return Params.load()


def _runs() -> list[Run]:
    return mlflow.search_runs(experiment_names=["otomoto-churn-ann"], output_format="list", max_results=1000)


def _children(runs: list[Run], parent: Run) -> list[Run]:
    return [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]


def test_the_tuned_references_refit_to_their_recorded_validation_scores(tuned_project: Params) -> None:
    paths = tuned_project.paths
    tuned = reference.read_tuned(paths.tuned_references)
    assert {name: record.trials for name, record in tuned.items()} == BUDGETS
    headline = read_json(paths.headline("references"))
    assert headline == {n: {"val_log_loss": r.val_log_loss, "val_roc_auc": r.val_roc_auc} for n, r in tuned.items()}
    summary = read_json(paths.summary("references"))
    assert summary["gradient_boosting"]["defaults"]["hyperparameters"] == reference.DEFAULTS["gradient_boosting"]

    data = load_training_data(paths)
    fitted = reference.fit_reference_models(
        data.train.x, data.train.y, reference.load_tuned(paths.tuned_references), tuned_project.references.seed
    )
    for name, model in fitted.items():
        p = reference.probabilities(model, data.validation.x)
        assert metrics.log_loss(data.validation.y, p) == tuned[name].val_log_loss, name


def test_mlflow_holds_a_parent_run_a_run_per_study_and_one_per_trial(tuned_project: Params) -> None:
    runs = _runs()
    [parent] = [r for r in runs if r.info.run_name == "references"]
    assert parent.data.tags["stage"] == "references"
    assert parent.data.tags["data_md5"] == data_md5(tuned_project.paths)
    study_runs = {r.info.run_name: r for r in _children(runs, parent)}
    assert set(study_runs) == set(reference.NAMES)
    tuned = reference.read_tuned(tuned_project.paths.tuned_references)
    for name, study_run in study_runs.items():
        assert study_run.data.metrics["best_val_log_loss"] == tuned[name].val_log_loss
        trials = sorted(_children(runs, study_run), key=lambda r: r.info.run_name)
        assert [r.info.run_name for r in trials] == [f"{name}-trial-{k:02d}" for k in range(BUDGETS[name])]
        for trial in trials:
            assert set(trial.data.params) == set(reference.HYPERPARAMETERS[name])
            assert {"val_log_loss", "val_roc_auc", "seconds"} <= set(trial.data.metrics)
            assert {d.dataset.name for d in trial.inputs.dataset_inputs} == {"train", "validation"}


def test_a_rerun_resumes_the_finished_studies_and_writes_the_same_files(tuned_project: Params) -> None:
    paths = tuned_project.paths
    before = {path: path.read_bytes() for path in sorted(paths.tuned_references.glob("*.json"))}
    references.run(tuned_project)
    assert {path: path.read_bytes() for path in sorted(paths.tuned_references.glob("*.json"))} == before
    storage = open_storage(tuned_project.optimize, paths.studies)
    for plan in tuning.plan_studies(tuned_project.references, data_md5(paths)):
        study = optuna.load_study(study_name=plan.name, storage=storage)
        assert len(study.trials) == plan.budget  # no trial ran again
    assert "5 of 5 reference trials are finished" in references.progress(tuned_project)
