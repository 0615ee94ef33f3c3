"""The prepare stage: deterministic outputs, nothing written on bad data, a tracked MLflow run."""

from __future__ import annotations

import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from pipeline.config import Params
from pipeline.data.split import SPLITS
from pipeline.stages import prepare
from tests.repo_copy import copy_repository, run

pytestmark = pytest.mark.slow  # runs the stage, in this process and in a new one

OUTPUTS = [
    *(f"data/prepared/{s}.parquet" for s in SPLITS),
    "data/prepared/preprocessor.json",
    "data/prepared/manifest.json",
    "metrics/prepare.json",
    "reports/prepare/summary.json",
]


def _outputs(root: Path) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in OUTPUTS}


def test_prepare_is_byte_for_byte_deterministic(project: Path) -> None:
    params = Params.load()
    prepare.run(params)
    first = _outputs(project)
    prepare.run(params)
    assert _outputs(project) == first


def test_prepare_logs_a_tagged_run_with_the_dataset(project: Path) -> None:
    prepare.run(Params.load())
    [run_] = mlflow.search_runs(experiment_names=["otomoto-churn-ann"], output_format="list")
    assert run_.info.run_name == "prepare"
    assert run_.data.tags["stage"] == "prepare"
    assert len(run_.data.tags["data_md5"]) == 32
    assert run_.data.metrics["rows"] == 600
    assert 0 < run_.data.metrics["train_churn_rate"] < 1
    [dataset_input] = run_.inputs.dataset_inputs
    assert dataset_input.dataset.digest == run_.data.tags["data_md5"]


def test_bad_data_fails_loudly_and_writes_nothing(project: Path) -> None:
    raw = project / "data" / "raw" / "teleconnect.csv"
    frame = pd.read_csv(raw, dtype=str, keep_default_na=False)
    frame.loc[3, "MonthlyCharges"] = "lots"
    frame.loc[10, "InternetService"] = "Carrier pigeon"
    frame.to_csv(raw, index=False)
    result = run([sys.executable, "-m", "pipeline", "prepare"], project, check=False)
    assert result.returncode == 2
    assert "line 5: column 'MonthlyCharges': value 'lots': not a number" in result.stderr
    assert "line 12: column 'InternetService': value 'Carrier pigeon': unknown category" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "data" / "prepared").exists()
    assert not (project / "metrics").exists()
    assert not (project / "reports").exists()
    assert not (project / "mlflow.db").exists()


@pytest.mark.real_data
def test_dvc_repro_prepare_on_the_real_data(tmp_path: Path) -> None:
    repo = copy_repository(tmp_path / "repo")
    run(["dvc", "repro", "prepare"], repo)
    assert "up to date" in run(["dvc", "status", "prepare"], repo).stdout
    profile = pd.read_json(repo / "reports" / "prepare" / "summary.json", typ="series")
    assert profile["splits"]["train"]["rows"] == 4225
    assert profile["splits"]["test"]["rows"] == 1409
    headline = pd.read_json(repo / "metrics" / "prepare.json", typ="series")
    assert headline["rows"] == {"train": 4225, "validation": 1409, "test": 1409}
    tracked = run(["git", "ls-files"], repo).stdout.split()
    assert "data/raw/teleconnect.csv" not in tracked
    assert "data/raw/teleconnect.csv.dvc" in tracked
