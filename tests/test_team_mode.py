"""Team mode on real servers: PostgreSQL holding the MLflow store and the Optuna studies, an MLflow
tracking server that serves the artifacts, and optimize workers in two checkouts standing in for two
machines, one of them killed mid-trial (SIGKILL).

The pipeline runs once at small budgets, every stage a ``python -m pipeline`` process with
``MLFLOW_TRACKING_URI=http://127.0.0.1:<port>`` and ``optimize.storage: postgresql://…``; the tests
then read what the servers hold. The servers, the cluster and the checkouts are removed afterwards.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import mlflow
import optuna
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from optuna.trial import FrozenTrial, TrialState

from pipeline.config import Params
from pipeline.data.prepared import data_md5
from pipeline.data.schema import DataSchema
from pipeline.tracking import registry
from pipeline.tuning.plan import StudyPlan, plan_studies
from pipeline.tuning.records import TrialRecord
from pipeline.tuning.storage import open_storage
from pipeline.tuning.tickets import FINISHED, budget_trials, is_ticket
from tests.conftest import SMALL_BUDGETS, deep_update, new_project
from tests.repo_copy import command_env, run
from tests.reporting.registry_check import check_report
from tests.servers import create_database, free_port, post_json, running

pytestmark = pytest.mark.slow

BUDGETS = deep_update(
    SMALL_BUDGETS,
    {"optimize": {"comparison": {"optimizers": ["sgd", "adam"], "trials_per_optimizer": 5}, "search": {"trials": 4}}},
)
SECOND_WORKER = 1  # the other machine's worker number; the main machine's `optimize` runs worker 0
PROGRESS = re.compile(r"^\[worker (\d+)\] \S+ (complete|pruned) ", re.MULTILINE)  # one line per trained trial


@dataclass(frozen=True)
class TeamRun:
    tracking_uri: str
    main: Path  # the main machine's checkout: every stage, with the coordinator's own worker
    params: Params
    killed: tuple[str, int]  # the study and number of the trial the second machine's worker was killed in
    trained_by: dict[int, int]  # worker -> trials it reported finished


@pytest.fixture(scope="module")
def team(postgres_server: str, tmp_path_factory: pytest.TempPathFactory, schema: DataSchema) -> Iterator[TeamRun]:
    root = tmp_path_factory.mktemp("team")
    optuna_url = create_database(postgres_server, "optuna")
    port = free_port()
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", create_database(postgres_server, "mlflow"),
           "--artifacts-destination", str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
           "--workers", "1"]  # fmt: skip
    tracking_uri = f"http://127.0.0.1:{port}"
    with running(cmd, root, command_env(), f"{tracking_uri}/health"), pytest.MonkeyPatch.context() as mp:
        changes = deep_update(BUDGETS, {"optimize": {"storage": optuna_url}})
        main, second = (new_project(root / name, schema, changes) for name in ("main", "second"))
        mp.chdir(main)
        mp.setenv("MLFLOW_TRACKING_URI", tracking_uri)
        mlflow.set_tracking_uri(tracking_uri)
        yield _run_pipeline(tracking_uri, main, second)


def _stage(checkout: Path, tracking_uri: str, *command: str) -> subprocess.Popen:
    """``python -m pipeline <command>`` started in ``checkout``, its output in ``<command>.log`` there."""
    with (checkout / f"{command[0]}.log").open("w") as log:  # the process keeps its own handle
        return subprocess.Popen(
            [sys.executable, "-m", "pipeline", *command],
            cwd=checkout,
            env=command_env(MLFLOW_TRACKING_URI=tracking_uri),
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _finish(proc: subprocess.Popen, checkout: Path, name: str) -> str:
    code = proc.wait(timeout=900)
    output = (checkout / f"{name}.log").read_text()
    assert code == 0, f"{name} in {checkout.name} exited {code}:\n{output[-5000:]}"
    return output


def _run_pipeline(tracking_uri: str, main: Path, second: Path) -> TeamRun:
    for stage in ("prepare", "references", "baseline", "recipes"):
        run([sys.executable, "-m", "pipeline", stage], main, MLFLOW_TRACKING_URI=tracking_uri)
    shutil.copytree(main / "data" / "prepared", second / "data" / "prepared")  # what `dvc pull` gives a machine
    params = Params.load()
    # the other machine's worker starts first: it waits for `optimize` to queue the trials
    worker = _stage(second, tracking_uri, "optimize-worker", "--worker", str(SECOND_WORKER))
    coordinator = _stage(main, tracking_uri, "optimize")
    killed = _kill_mid_trial(worker, params)
    worker.wait()
    outputs = [(second / "optimize-worker.log").read_text(), _finish(coordinator, main, "optimize")]
    trained_by: dict[int, int] = {}
    for found in PROGRESS.finditer("".join(outputs)):
        trained_by[int(found.group(1))] = trained_by.get(int(found.group(1)), 0) + 1
    for stage in ("resample", "evaluate", "segment", "campaign", "report"):
        run([sys.executable, "-m", "pipeline", stage], main, MLFLOW_TRACKING_URI=tracking_uri)
    return TeamRun(tracking_uri, main, params, killed, trained_by)


def _kill_mid_trial(worker: subprocess.Popen, params: Params) -> tuple[str, int]:
    """SIGKILL the second machine's worker once it has finished a trial and is training another."""
    storage = open_storage(params.optimize, params.paths.studies)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and worker.poll() is None:
        mine = [(name, t) for name, t in _trials(params, storage) if TrialRecord.of(t).worker == SECOND_WORKER]
        running_now = [(name, t.number) for name, t in mine if t.state == TrialState.RUNNING]
        if running_now and any(t.state in FINISHED for _, t in mine):
            worker.send_signal(signal.SIGKILL)
            return running_now[0]
        time.sleep(0.05)
    raise AssertionError(f"the second worker never was mid-trial after finishing one (exit code {worker.poll()})")


def _trials(params: Params, storage: optuna.storages.RDBStorage) -> list[tuple[str, FrozenTrial]]:
    """Every trial of the studies created so far, with its study's name."""
    found = []
    for plan in plan_studies(params.optimize, params.baseline.candidate, data_md5(params.paths)):
        try:
            study = optuna.load_study(study_name=plan.name, storage=storage)
        except KeyError:  # not created yet
            continue
        found += [(plan.name, trial) for trial in study.get_trials(deepcopy=False)]
    return found


def _study(team: TeamRun, plan: StudyPlan) -> optuna.Study:
    return optuna.load_study(
        study_name=plan.name, storage=open_storage(team.params.optimize, team.params.paths.studies)
    )


def _plans(team: TeamRun) -> list[StudyPlan]:
    return plan_studies(team.params.optimize, team.params.baseline.candidate, data_md5(team.params.paths))


def test_each_study_ran_exactly_its_budget_and_no_trial_twice(team: TeamRun) -> None:
    total = 0
    for plan in _plans(team):
        finished = budget_trials(_study(team, plan))
        assert len(finished) == plan.budget, plan.label
        total += plan.budget
    # one progress line per trained trial: as many as the budgets, each worker's as many as it finished
    assert sum(team.trained_by.values()) == total
    assert set(team.trained_by) == {0, SECOND_WORKER}
    workers = [TrialRecord.of(t).worker for plan in _plans(team) for t in budget_trials(_study(team, plan))]
    assert {w: workers.count(w) for w in set(workers)} == team.trained_by


def test_the_killed_trial_failed_and_was_run_again(team: TeamRun) -> None:
    name, number = team.killed
    study = optuna.load_study(study_name=name, storage=open_storage(team.params.optimize, team.params.paths.studies))
    killed = study.trials[number]
    assert killed.state == TrialState.FAIL and TrialRecord.of(killed).worker == SECOND_WORKER
    tickets = [t for t in study.trials if is_ticket(t)]
    assert [t.number for t in tickets if t.state == TrialState.FAIL] == [number]
    assert len(tickets) == len(budget_trials(study)) + 1  # its replacement is among the finished


def test_every_trial_is_a_nested_run_on_the_server(team: TeamRun) -> None:
    client = MlflowClient(team.tracking_uri)
    experiment = client.get_experiment_by_name(team.params.tracking.experiment)
    assert experiment.artifact_location.startswith("mlflow-artifacts:")  # the server holds the artifacts

    def runs(filter_string: str) -> list:
        return client.search_runs([experiment.experiment_id], filter_string, max_results=1000)

    parents = {r.info.run_name: r.info.run_id for r in runs("tags.stage = 'optimize'")}
    for plan in _plans(team):
        # MLflow's filter cannot ask for a missing tag: the study's run is the one without a trial number
        [study_run] = [r for r in runs(f"tags.optuna_study = '{plan.name}'") if "trial" not in r.data.tags]
        expected_parent = "optimizer-comparison" if plan.kind == "comparison" else "full-search-study"
        assert study_run.data.tags["mlflow.parentRunId"] == parents[expected_parent]
        trial_runs = runs(f"tags.`mlflow.parentRunId` = '{study_run.info.run_id}' and tags.optuna_trial != ''")
        logged = sorted(int(r.data.tags["optuna_trial"]) for r in trial_runs)
        assert logged == sorted(t.number for t in budget_trials(_study(team, plan))), plan.label
    curve = runs("tags.stage = 'optimize' and tags.optuna_trial != ''")[0]
    assert "loss_curve.png" in {a.path for a in client.list_artifacts(curve.info.run_id)}


def test_the_registry_on_the_server_has_champion_and_baseline(team: TeamRun) -> None:
    client = MlflowClient(team.tracking_uri)
    name = team.params.tracking.registered_model
    for alias in (registry.CHAMPION, registry.BASELINE):
        version = client.get_model_version_by_alias(name, alias)
        assert version.source.startswith(("models:/", "mlflow-artifacts:")), version.source


def test_the_report_renders_from_the_server(team: TeamRun) -> None:
    params = team.params
    assert check_report(
        team.main / params.report.document, params.tracking.registered_model, params.report.profile_columns
    )


def test_the_server_serves_the_champion(team: TeamRun) -> None:
    port = free_port()
    uri = registry.model_uri(team.params.tracking.registered_model, registry.CHAMPION)
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", uri, "--env-manager", "local",
           "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    record = pd.read_csv(team.main / "data" / "raw" / "teleconnect.csv", dtype=str).head(1).drop(columns="Churn")
    with running(cmd, team.main, command_env(MLFLOW_TRACKING_URI=team.tracking_uri), f"{base}/ping"):
        status, text = post_json(
            f"{base}/invocations", json.dumps({"dataframe_records": record.to_dict("records")}).encode()
        )
    assert status == 200, text
    [prediction] = json.loads(text)["predictions"]
    assert prediction["customerID"] == record["customerID"].iloc[0] and 0 <= prediction["churn_probability"] <= 1
