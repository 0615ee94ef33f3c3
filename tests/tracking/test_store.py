"""The project store: a run opened by `mlflow run` is reused only when it is in the project's experiment."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from pipeline.tracking import store


def test_a_launched_run_in_another_experiment_is_let_go(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    client = MlflowClient()
    other = client.create_experiment("Default-like")
    monkeypatch.setenv("MLFLOW_RUN_ID", client.create_run(other).info.run_id)
    store.configure("otomoto-churn-ann")
    assert "MLFLOW_RUN_ID" not in os.environ


def test_a_launched_run_in_the_project_experiment_is_reused(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    experiment_id = store.configure("otomoto-churn-ann")
    launched = MlflowClient().create_run(experiment_id).info.run_id
    monkeypatch.setenv("MLFLOW_RUN_ID", launched)
    store.configure("otomoto-churn-ann")
    assert os.environ["MLFLOW_RUN_ID"] == launched


def test_the_experiment_is_tagged_for_model_training(project: Path) -> None:
    """So the MLflow UI opens it on its training runs, not on an empty GenAI traces page."""
    experiment_id = store.configure("otomoto-churn-ann")
    tags = mlflow.get_experiment(experiment_id).tags
    assert tags[store.EXPERIMENT_KIND] == "custom_model_development"


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
