"""The project store: a run opened by `mlflow run` is reused only when it is in the project's experiment."""

from __future__ import annotations

import os
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
