"""segment: every customer scored once, evidence from the test split, a run linked to the champion."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from pipeline.config import Params

pytestmark = pytest.mark.slow


def test_scored_file_covers_every_customer_once_and_marks_test_rows(in_pipeline_project: Path) -> None:
    params = Params.load()
    scored = pd.read_csv(in_pipeline_project / "data" / "scored" / "customers.csv")
    raw = pd.read_csv(in_pipeline_project / "data" / "raw" / "teleconnect.csv", dtype=str)
    assert sorted(scored["customerID"]) == sorted(raw["customerID"])
    test_ids = set(pd.read_parquet(in_pipeline_project / "data" / "prepared" / "test.parquet")["customerID"])
    assert set(scored.loc[scored["unseen_in_training"], "customerID"]) == test_ids
    assert set(scored["segment"]) <= {spec.name for spec in params.segment.segments.values()}
    assert scored[["reason_1", "reason_2", "reason_3"]].notna().all().all()
    assert scored["persona"].between(1, params.segment.persona_k[1]).all()
    high = scored["churn_probability"] >= params.segment.risk_cut
    high_names = {params.segment.segments[c].name for c in ("high_risk_high_value", "high_risk_low_value")}
    assert scored.loc[high, "segment"].isin(high_names).all()


def test_evidence_and_run_link_to_the_champion(in_pipeline_project: Path) -> None:
    summary = json.loads((in_pipeline_project / "reports" / "segment" / "summary.json").read_text())
    evidence = pd.read_csv(in_pipeline_project / "reports" / "segment" / "segments_test.csv")
    test_rows = len(pd.read_parquet(in_pipeline_project / "data" / "prepared" / "test.parquet"))
    assert evidence["customers"].sum() == test_rows  # evidence is from the test split only
    assert set(summary["churners_reached_test"]["top_20pct"]) == {"champion", "baseline"}
    importance = pd.read_csv(in_pipeline_project / "reports" / "segment" / "importance.csv").set_index("column")
    disagreeing = {c for c, r in importance.iterrows() if abs(r["shap_rank"] - r["permutation_rank"]) >= 3}
    assert set(summary["importance_disagreements"]) == disagreeing
    versions = json.loads((in_pipeline_project / "reports" / "evaluate" / "registry.json").read_text())
    [run] = mlflow.search_runs(experiment_names=["otomoto-churn-ann"], filter_string="tags.stage = 'segment'",
                               output_format="list")  # fmt: skip
    assert run.data.tags["champion_version"] == str(versions["champion"])
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id)}
    assert {"gains.png", "shap_bar.png", "shap_beeswarm.png", "tables", "summary.json"} <= artifacts
    tables = {a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "tables")}
    written = {f"tables/{p.name}" for p in (in_pipeline_project / "reports" / "segment").glob("*.csv")}
    assert tables == written  # the CSV tables, and the summary once, at the top
