"""Exact budgets across worker processes, resuming after a crash, and pruned trials in MLflow."""

from __future__ import annotations

import contextlib
import shutil
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
from pipeline.tracking.runs import training_inputs
from pipeline.tracking.studies import log_study
from pipeline.training.job import load_training_data
from pipeline.tuning.plan import StudyPlan, plan_studies
from pipeline.tuning.records import Curves, TrialRecord, position
from pipeline.tuning.storage import open_storage, storage_url
from pipeline.tuning.tickets import FINISHED
from tests.conftest import SMALL_BUDGETS, deep_update, set_params
from tests.repo_copy import command_env

pytestmark = pytest.mark.slow


def _prepared(project: Path, changes: dict) -> Params:
    set_params(project, deep_update(SMALL_BUDGETS, changes))
    params = Params.load()
    prepare.run(params)
    return params


def _finished_by_study(params: Params) -> dict[str, list[optuna.trial.FrozenTrial]]:
    storage = open_storage(params.optimize, params.paths.studies)
    result = {}
    for plan in plan_studies(params.optimize, params.baseline.candidate, data_md5(params.paths)):
        study = optuna.load_study(study_name=plan.name, storage=storage)
        result[plan.label] = [t for t in study.trials if t.state in FINISHED]
    return result


def test_two_worker_processes_complete_exactly_the_budget(project: Path) -> None:
    budget = {"comparison": {"optimizers": ["adam"], "trials_per_optimizer": 8}, "search": {"trials": 4}}
    params = _prepared(project, {"optimize": {**budget, "workers": 2}})
    optimize.run(params)
    finished = _finished_by_study(params)
    assert len(finished["adam"]) == 8 and len(finished["search"]) == 4
    for trials in finished.values():
        assert len({t.number for t in trials}) == len(trials)  # no trial twice
    workers = {TrialRecord.of(t).worker for trials in finished.values() for t in trials}
    assert workers == {0, 1}  # both processes took trials from the shared queue


def _start_optimize(project: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "optimize"],
        cwd=project,
        env=command_env(MLFLOW_TRACKING_URI=f"sqlite:///{project / 'mlflow.db'}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_finished(params: Params, trials: int) -> None:
    """Until the studies hold ``trials`` finished trials in all."""
    url = storage_url(params.optimize, params.paths.studies)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        done = 0
        for plan in plan_studies(params.optimize, params.baseline.candidate, data_md5(params.paths)):
            with contextlib.suppress(KeyError):  # not created yet
                study = optuna.load_study(study_name=plan.name, storage=url)
                done += len(study.get_trials(states=FINISHED))
        if done >= trials:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {trials} trials finished in time")


def _suggestions(params: Params) -> dict[str, list[tuple[int, dict, float | None]]]:
    """Per study, by position: the parameters suggested and the value reached."""
    return {
        label: sorted((position(t), t.params, t.value) for t in trials)
        for label, trials in _finished_by_study(params).items()
    }


def test_an_interrupted_study_resumes_to_what_an_uninterrupted_one_ends_with(project: Path) -> None:
    """Stopped twice (SIGTERM, as `kill` or a CI job ends it, then SIGKILL, which leaves its trial
    running), resumed: exactly the budget, nothing redone, and per position the same suggestions and
    results as a run that was never interrupted."""
    params = _prepared(project, {"optimize": {"comparison": {"optimizers": ["sgd"], "trials_per_optimizer": 6}}})

    proc = _start_optimize(project)
    _wait_for_finished(params, 2)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("interrupted: optimize stopped; ") and last.endswith("Run `dvc repro` to resume.")
    assert "of 9 trials are finished and kept in the studies" in last

    proc = _start_optimize(project)
    _wait_for_finished(params, 5)
    proc.send_signal(signal.SIGKILL)  # no chance to clean up: its running trial is left RUNNING
    proc.wait()
    interrupted = _finished_by_study(params)
    assert 5 <= sum(map(len, interrupted.values())) < 9

    optimize.run(Params.load())  # resumes: finishes the budget, replaces the dead worker's trial
    finished = _finished_by_study(params)
    assert len(finished["sgd"]) == 6 and len(finished["search"]) == 3
    for label, trials in interrupted.items():
        assert {t.number for t in trials} <= {t.number for t in finished[label]}  # nothing redone
    runs = mlflow.search_runs(experiment_names=["otomoto-churn-ann"], output_format="list", max_results=1000)
    assert sorted(r.info.run_name for r in runs if r.info.run_name.startswith("sgd-trial-")) == [
        f"sgd-trial-{k:02d}" for k in range(6)
    ]
    resumed = _suggestions(params)

    for state in (project / ".optuna", project / "models"):
        shutil.rmtree(state)
    optimize.run(Params.load())  # the same studies, never interrupted
    assert _suggestions(params) == resumed


def test_pruned_trials_are_logged_as_pruned(project: Path) -> None:
    params = _prepared(project, {})
    plan = StudyPlan(label="adam", kind="comparison", budget=2, name="adam-test")
    study = optuna.create_study(study_name=plan.name, direction="minimize")
    candidate = Candidate.model_validate(
        {**params.baseline.candidate.model_dump(), "optimizer": {"name": "adam", "hyperparameters": {}}}
    )
    curves = Curves(train_loss=[0.7, 0.6], val_loss=[0.7, 0.65], val_roc_auc=[0.6, 0.62])
    for place, state in enumerate((TrialState.COMPLETE, TrialState.PRUNED)):
        record = TrialRecord(ticket=True, candidate=candidate, curves=curves, worker=0, position=place)
        value = 0.5 if state == TrialState.COMPLETE else None
        study.add_trial(
            optuna.create_trial(state=state, value=value, user_attrs=record.user_attrs(), intermediate_values={1: 0.7})
        )
    store.configure(params.tracking.experiment)
    with mlflow.start_run(run_name="parent") as parent:
        inputs = training_inputs(load_training_data(params.paths), params.paths)
        log_study(plan, study, parent.info.run_id, {"stage": "optimize"}, inputs)
    runs = mlflow.search_runs(experiment_names=["otomoto-churn-ann"], output_format="list")
    states = {r.info.run_name: r.data.tags["state"] for r in runs if "trial" in r.data.tags}
    assert states == {"adam-trial-00": "COMPLETE", "adam-trial-01": "PRUNED"}
    for run in (r for r in runs if "trial" in r.data.tags):  # the UI's Dataset column: what each trial fit on
        assert {(d.dataset.name, d.tags[0].value) for d in run.inputs.dataset_inputs} == {
            ("train", "training"),
            ("validation", "validation"),
        }


FIGURE_OF_A_STUDY = """
import hashlib, io, optuna
from pipeline.tracking.studies import study_figures

def objective(trial):  # conditional parameters that matter for nothing: importances tied at zero
    branch = trial.suggest_categorical("branch", list("abcdefghijkl"))
    trial.suggest_float(f"{branch}.rate", 0, 1)
    return trial.suggest_float("x", 0, 1)

optuna.logging.set_verbosity(optuna.logging.ERROR)
study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
study.optimize(objective, 30)
for name, fig in sorted(study_figures(study).items()):
    png = io.BytesIO()
    fig.savefig(png, format="png")
    print(name, hashlib.md5(png.getvalue()).hexdigest())
"""


def test_a_study_s_figures_do_not_depend_on_the_process() -> None:
    """Optuna collects parameter names in a set, ordered by Python's per-process string hashing; the
    report's importance figure must come out the same in every reproduction of the same study."""
    drawn = [
        subprocess.run(
            [sys.executable, "-c", FIGURE_OF_A_STUDY],
            env={**command_env(), "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in (1, 2, 3)
    ]
    assert "param_importances.png" in drawn[0]
    assert drawn[0] == drawn[1] == drawn[2]
