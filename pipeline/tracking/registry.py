"""The MLflow Model Registry: one registered model, versions found by alias."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import mlflow
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient

if TYPE_CHECKING:
    from pipeline.serving.scorer import Scorer

CHAMPION = "champion"
BASELINE = "baseline"


def register(model_uri: str, name: str, tags: Mapping[str, object]) -> ModelVersion:
    """Register a new version and tag it."""
    version = mlflow.register_model(model_uri, name, await_registration_for=60)
    client = MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(name, version.version, key, str(value))
    return client.get_model_version(name, version.version)


def add_alias(name: str, alias: str, version: ModelVersion) -> ModelVersion:
    """Point ``alias`` at ``version``: the alias moves, the history of versions stays."""
    MlflowClient().set_registered_model_alias(name, alias, version.version)
    return MlflowClient().get_model_version(name, version.version)


def by_alias(name: str, alias: str) -> ModelVersion:
    """The version an alias points at (the notebook starts from it)."""
    return MlflowClient().get_model_version_by_alias(name, alias)


def model_uri(name: str, alias: str) -> str:
    return f"models:/{name}@{alias}"


def version_uri(name: str, version: str | int) -> str:
    return f"models:/{name}/{version}"


def load_scorer(uri: str) -> Scorer:
    """A registered model's scorer, as served (the pyfunc's own copy of the decision and segments)."""
    return mlflow.pyfunc.load_model(uri).unwrap_python_model().scorer
