"""Shared fixtures: the real contract, synthetic data from it, and throw-away projects."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipeline.data.schema import DataSchema
from tests.synthetic import make_customers, write_csv

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def schema() -> DataSchema:
    return DataSchema.from_yaml(REPO / "data" / "schema.yaml")


@pytest.fixture
def project(tmp_path: Path, schema: DataSchema, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throw-away project: the repo's params and schema, synthetic raw data, its own MLflow store."""
    root = tmp_path / "project"
    (root / "data" / "raw").mkdir(parents=True)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    shutil.copy(REPO / "data" / "schema.yaml", root / "data" / "schema.yaml")
    write_csv(make_customers(schema, n=600, seed=1), root / "data" / "raw" / "teleconnect.csv")
    monkeypatch.chdir(root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    return root


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without ../shared (the team's data store) the real-data tests cannot run: say so, loudly."""
    if SHARED.is_dir() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"{SHARED} not found: real-data tests need the team store beside the repo")
    for item in items:
        if "real_data" in item.keywords:
            item.add_marker(skip)
