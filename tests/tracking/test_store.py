"""The project store: its experiment, a run launched by `mlflow run`, and the tags every run carries."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
import yaml
from mlflow.tracking import MlflowClient

from pipeline.tracking import store


@pytest.mark.slow  # a new MLflow store
def test_a_launched_run_in_another_experiment_is_let_go(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = MlflowClient()
    other = client.create_experiment("Default-like")
    monkeypatch.setenv("MLFLOW_RUN_ID", client.create_run(other).info.run_id)
    store.configure("otomoto-churn-ann")
    assert "MLFLOW_RUN_ID" not in os.environ


@pytest.mark.slow  # a new MLflow store
def test_a_launched_run_in_the_project_experiment_is_reused(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    experiment_id = store.configure("otomoto-churn-ann")
    launched = MlflowClient().create_run(experiment_id).info.run_id
    monkeypatch.setenv("MLFLOW_RUN_ID", launched)
    store.configure("otomoto-churn-ann")
    assert os.environ["MLFLOW_RUN_ID"] == launched


@pytest.mark.slow  # a new MLflow store
def test_the_experiment_is_tagged_for_model_training(project: Path) -> None:
    """So the MLflow UI opens it on its training runs, not on an empty GenAI traces page."""
    experiment_id = store.configure("otomoto-churn-ann")
    tags = mlflow.get_experiment(experiment_id).tags
    assert tags[store.EXPERIMENT_KIND] == "custom_model_development"


@pytest.mark.slow  # six Python processes
def test_every_stage_of_one_dvc_process_shares_one_reproduction(tmp_path: Path) -> None:
    """DVC gives a stage no id of its run; the stages of one `dvc` process share that process's."""
    stage = f"{sys.executable} -c 'from pipeline.tracking import store; print(store.reproduction())'"
    fake_dvc = tmp_path / "dvc"  # a launcher named like DVC's, running two stages through a shell as it does
    fake_dvc.write_text(f'#!/bin/sh\nsh -c "{stage}"\nsh -c "{stage}"\n')
    fake_dvc.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in {store.REPRODUCTION_ENV, "DVC_EXP_NAME"}}
    first, second = (subprocess.run([fake_dvc], env=env, capture_output=True, text=True, check=True) for _ in "12")
    one, two = first.stdout.split(), second.stdout.split()
    assert one[0] == one[1] and one[0].startswith("dvc-"), one
    assert two[0] == two[1] and two[0] != one[0], (one, two)
    alone = subprocess.run(shlex.split(stage), env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert alone.startswith("run-"), alone
    named = subprocess.run(
        shlex.split(stage), env={**env, "DVC_EXP_NAME": "brisk-lark"}, capture_output=True, text=True, check=True
    )
    assert named.stdout.strip() == "brisk-lark"


def test_what_dvc_writes_during_the_run_does_not_make_the_commit_dirty(tmp_path: Path) -> None:
    """DVC deletes a stage's outputs before it runs, and some (metrics/) are kept in git: the run is
    still from a clean commit. A change to anything else is not."""
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "evaluate.json").write_text("{}\n")
    (tmp_path / "code.py").write_text("x = 1\n")
    lock = {"schema": "2.0", "stages": {"evaluate": {"cmd": "x", "outs": [{"path": "metrics/evaluate.json"}]}}}
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump(lock))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "c"], cwd=tmp_path, check=True)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=tmp_path, capture_output=True, text=True).stdout.strip()

    (tmp_path / "metrics" / "evaluate.json").unlink()  # DVC, before running the stage
    (tmp_path / "dvc.lock").write_text(yaml.safe_dump({**lock, "schema": "2.0 "}))
    assert store.git_commit(tmp_path) == head
    (tmp_path / "code.py").write_text("x = 2\n")
    assert store.git_commit(tmp_path) == f"{head}-dirty"
