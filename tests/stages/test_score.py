"""``python -m pipeline score``: a whole file checked before anything is scored, then scored in chunks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.repo_copy import command_env

pytestmark = pytest.mark.slow


def _score(project: Path, *args: str) -> subprocess.CompletedProcess:
    env = command_env(MLFLOW_TRACKING_URI=f"sqlite:///{project / 'mlflow.db'}")
    return subprocess.run([sys.executable, "-m", "pipeline", "score", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def test_a_file_is_scored_in_chunks_with_segments_and_campaign_value(pipeline_project: Path, tmp_path: Path) -> None:
    records = pd.read_csv(pipeline_project / "data" / "raw" / "teleconnect.csv", dtype=str).head(25)
    source = tmp_path / "customers.csv"
    records.drop(columns="Churn").to_csv(source, index=False)
    result = _score(pipeline_project, str(source), "--chunk-size", "10")
    assert result.returncode == 0, result.stderr
    assert "scored 25/25 rows" in result.stdout and "scored 10/25 rows" in result.stdout
    scored = pd.read_csv(tmp_path / "customers.scored.csv")
    assert list(scored["customerID"]) == list(records["customerID"])
    assert {"churn_probability", "churn", "segment", "action", "expected_value", "contact"} <= set(scored.columns)
    batch = pd.read_csv(pipeline_project / "data" / "scored" / "customers.csv").set_index("customerID")
    assert scored["churn_probability"].tolist() == pytest.approx(
        batch.loc[scored["customerID"], "churn_probability"].tolist(), abs=1e-5
    )


def test_a_bad_file_is_refused_whole_naming_line_column_and_rule(pipeline_project: Path, tmp_path: Path) -> None:
    records = pd.read_csv(pipeline_project / "data" / "raw" / "teleconnect.csv", dtype=str).head(5)
    records = records.drop(columns="Churn")
    records.loc[2, "Contract"] = "Weekly"
    source = tmp_path / "bad.csv"
    records.to_csv(source, index=False)
    with source.open("a") as handle:
        handle.write("1234-ABCD,Female\n")  # a ragged line
    result = _score(pipeline_project, str(source))
    assert result.returncode == 2
    assert "line 4: column 'Contract': value 'Weekly': unknown category" in result.stderr
    assert "line 7: has 2 fields, the header has 20" in result.stderr
    assert not (tmp_path / "bad.scored.csv").exists()
