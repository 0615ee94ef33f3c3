"""The whole product on the real data, as a user drives it: `mlflow run .` with small budgets
(DVC underneath), then the checks a reviewer would make. Minutes, not seconds: marked e2e."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import mlflow
import pytest
import yaml
from mlflow.tracking import MlflowClient

from tests.conftest import STAGES
from tests.repo_copy import copy_repository, run
from tests.reporting.registry_check import check_report

pytestmark = [pytest.mark.e2e, pytest.mark.real_data, pytest.mark.slow]

SMALL = {  # MLproject `main` parameters: the real pipeline at a small budget
    "trials_per_optimizer": "2",
    "search_trials": "3",
    "epochs": "8",
    "baseline_epochs": "8",
    "seeds": "[0,1]",
    "bootstrap_resamples": "100",
    "boosting_trials": "4",
    "logistic_trials": "3",
    "repeats": "1",
    "folds": "3",
    "fold_seeds": "2",
}
GIT_IDENTITY = {  # dvc exp run commits experiments; a CI machine may have no git identity
    "GIT_AUTHOR_NAME": "e2e",
    "GIT_AUTHOR_EMAIL": "e2e@example.com",
    "GIT_COMMITTER_NAME": "e2e",
    "GIT_COMMITTER_EMAIL": "e2e@example.com",
}


def _ran(output: str) -> set[str]:
    return set(re.findall(r"Running stage '(\w+)'", output))


def _experiment_name(output: str) -> str:
    [name] = re.findall(r"Ran experiment\(s\): (\S+)", output)
    return name


def test_mlflow_run_drives_the_whole_pipeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record_property: Callable[[str, object], None]
) -> None:
    phases: dict[str, float] = {}
    started = time.monotonic()
    project = copy_repository(tmp_path / "project")
    phases["copy and dvc pull"] = time.monotonic() - started

    started = time.monotonic()
    argv = ["mlflow", "run", ".", "--env-manager", "local", "--experiment-name", "e2e-mlflow-run"]
    for name, value in SMALL.items():
        argv += ["-P", f"{name}={value}"]
    first = run(argv, project, **GIT_IDENTITY)
    phases["mlflow run . (all stages)"] = time.monotonic() - started
    output = first.stdout + first.stderr
    assert _ran(output) == set(STAGES), output[-3000:]

    # the parameters reached the stages: DVC recorded them in dvc.lock
    lock = yaml.safe_load((project / "dvc.lock").read_text())["stages"]
    assert set(lock) == set(STAGES)
    assert lock["optimize"]["params"]["params.yaml"]["optimize"]["comparison"]["trials_per_optimizer"] == 2
    assert lock["baseline"]["params"]["params.yaml"]["baseline"]["seeds"] == [0, 1]

    # MLflow: runs of every stage, the registry's aliases, a report whose numbers are the registry's
    uri = f"sqlite:///{project / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)
    client = MlflowClient()
    params = yaml.safe_load((project / "params.yaml").read_text())
    experiment = client.get_experiment_by_name(params["tracking"]["experiment"])
    for stage in STAGES:
        assert client.search_runs([experiment.experiment_id], f"tags.stage = '{stage}'", max_results=1), stage
    # one reproduction id on every run of that reproduction (`main` runs `dvc exp run`: the experiment's
    # name), and on the registered versions
    every_run = client.search_runs([experiment.experiment_id], max_results=5000)
    reproductions = {r.data.tags["reproduction"] for r in every_run}
    [first_reproduction] = reproductions
    assert first_reproduction == _experiment_name(output), reproductions
    name = params["tracking"]["registered_model"]
    assert client.get_model_version_by_alias(name, "champion").tags["reproduction"] == first_reproduction
    assert client.get_model_version_by_alias(name, "champion").tags["data_md5"] == "0f9de68e012bd3aed5fa7cdc9fc421af"
    client.get_model_version_by_alias(name, "baseline")
    report = project / "docs" / "REPORT.md"
    assert check_report(report, name, params["report"]["profile_columns"]) > 300
    assert (project / "drawio" / "pipeline.drawio").is_file()

    started = time.monotonic()
    status = run(["dvc", "status"], project).stdout
    assert "up to date" in status, status
    again = run(["dvc", "repro"], project)
    assert _ran(again.stdout + again.stderr) == set(), again.stdout
    phases["dvc status + second dvc repro"] = time.monotonic() - started

    # one optimize parameter: optimize and what follows rerun, prepare, baseline and recipes do not
    started = time.monotonic()
    changed = run(["dvc", "exp", "run", "-S", "optimize.epochs=6"], project, **GIT_IDENTITY)
    downstream = {"optimize", "resample", "evaluate", "segment", "campaign", "report"}
    assert _ran(changed.stdout + changed.stderr) == downstream, changed.stdout
    phases["rerun after an optimize parameter"] = time.monotonic() - started
    assert "up to date" in run(["dvc", "status"], project).stdout
    rerun = client.search_runs(
        [experiment.experiment_id], f"tags.reproduction != '{first_reproduction}'", max_results=5000
    )
    assert {r.data.tags["stage"] for r in rerun} == downstream
    assert {r.data.tags["reproduction"] for r in rerun} == {_experiment_name(changed.stdout + changed.stderr)}

    # one idea through MLflow Projects: a train run beside the trials, in the project's experiment
    started = time.monotonic()
    idea = ["mlflow", "run", ".", "--env-manager", "local", "-e", "train", "-P", "optimizer=adam", "-P", "lr=0.003",
            "-P", "epochs=3"]  # fmt: skip
    run(idea, project)
    [trained] = client.search_runs([experiment.experiment_id], "tags.stage = 'train'")
    assert trained.data.tags["optimizer"] == "adam" and trained.data.params["optimizer.learning_rate"] == "0.003"
    phases["mlflow run . -e train"] = time.monotonic() - started

    for phase, seconds in phases.items():
        record_property(f"phase: {phase}", f"{seconds:.0f} s")  # printed in pytest's summary (conftest)
