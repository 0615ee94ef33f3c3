"""Exact budgets across worker processes, resuming after a crash, and pruned trials in MLflow."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import optuna
import pytest
from optuna.trial import TrialState

from pipeline.config import Params
from pipeline.data.prepared import data_md5
from pipeline.model.config import Candidate
from pipeline.stages import optimize, prepare
from pipeline.tracking import store
from pipeline.tracking.studies import log_study
from pipeline.tuning import studies
from tests.conftest import SMALL_BUDGETS, deep_update, set_params
from tests.repo_copy import command_env

pytestmark = pytest.mark.slow


def _prepared(project: Path, changes: dict) -> Params:
    set_params(project, deep_update(SMALL_BUDGETS, changes))
    params = Params.load()
    prepare.run(params)
    return params


def _finished_by_study(params: Params) -> dict[str, list[optuna.trial.FrozenTrial]]:
    storage = studies.open_storage(params)
    result = {}
    for plan in studies.plan_studies(params, data_md5(params.paths)):
        study = optuna.load_study(study_name=plan.name, storage=storage)
        result[plan.label] = [t for t in study.trials if t.state in studies.FINISHED]
    return result


def test_two_worker_processes_complete_exactly_the_budget(project: Path) -> None:
    budget = {"comparison": {"optimizers": ["adam"], "trials_per_optimizer": 8}, "search": {"trials": 4}}
    params = _prepared(project, {"optimize": {**budget, "workers": 2}})
    optimize.run(params)
    finished = _finished_by_study(params)
    assert len(finished["adam"]) == 8 and len(finished["search"]) == 4
    for trials in finished.values():
        assert len({t.number for t in trials}) == len(trials)  # no trial twice
    workers = {t.user_attrs["worker"] for trials in finished.values() for t in trials}
    assert workers == {0, 1}  # both processes took trials from the shared queue


def test_a_killed_study_resumes_to_exactly_its_budget(project: Path) -> None:
    params = _prepared(project, {"optimize": {"comparison": {"optimizers": ["sgd"], "trials_per_optimizer": 6}}})
    [first, *_] = studies.plan_studies(params, data_md5(params.paths))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "optimize"],
        cwd=project,
        env=command_env(MLFLOW_TRACKING_URI=f"sqlite:///{project / 'mlflow.db'}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    storage_url = studies.storage_url(params)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            done = optuna.load_study(study_name=first.name, storage=storage_url).get_trials(states=studies.FINISHED)
        except KeyError:
            done = []
        if len(done) >= 2:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)  # no chance to clean up: its running trial is left RUNNING
    proc.wait()
    interrupted = _finished_by_study(params)["sgd"]
    assert 2 <= len(interrupted) < 6

    optimize.run(Params.load())  # resumes: finishes the budget, re-queues the dead worker's trial
    finished = _finished_by_study(params)
    assert len(finished["sgd"]) == 6 and len(finished["search"]) == 3
    assert {t.number for t in interrupted} <= {t.number for t in finished["sgd"]}  # nothing redone
    runs = mlflow.search_runs(experiment_names=["otomoto-churn-ann"], output_format="list", max_results=1000)
    sgd_trials = [r for r in runs if r.info.run_name.startswith("sgd-trial-")]
    assert len(sgd_trials) == 6


def test_pruned_trials_are_logged_as_pruned(project: Path) -> None:
    params = _prepared(project, {})
    plan = studies.StudyPlan(label="adam", kind="comparison", budget=2, name="adam-test")
    study = optuna.create_study(study_name=plan.name, direction="minimize")
    candidate = Candidate.model_validate(
        {**params.baseline.candidate.model_dump(), "optimizer": {"name": "adam", "hyperparameters": {}}}
    ).model_dump(mode="json")
    curves = {"train_loss": [0.7, 0.6], "val_loss": [0.7, 0.65], "val_roc_auc": [0.6, 0.62]}
    attrs = {studies.TICKET: True, "candidate": candidate, "curves": curves, "worker": 0}
    study.add_trial(optuna.create_trial(value=0.5, user_attrs=attrs))
    study.add_trial(optuna.create_trial(state=TrialState.PRUNED, user_attrs=attrs, intermediate_values={1: 0.7}))
    store.configure(params.tracking.experiment)
    with mlflow.start_run(run_name="parent") as parent:
        log_study(plan, study, parent.info.run_id, {"stage": "optimize"})
    runs = mlflow.search_runs(experiment_names=["otomoto-churn-ann"], output_format="list")
    states = {r.info.run_name: r.data.tags["state"] for r in runs if "trial" in r.data.tags}
    assert states == {"adam-trial-00": "COMPLETE", "adam-trial-01": "PRUNED"}
