"""``segment``: marketing segments from the champion's scores, with evidence and reasons.

Every customer gets a risk x value segment, a persona and three reasons (SHAP). Evidence
(actual churn per segment, deciles, gains against the baseline) comes from the test split,
whose scores were never seen in training or in any choice. Logged as an MLflow run linked
to the registered champion version. The analysis is ``pipeline.segmentation.analysis``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict

import mlflow
from matplotlib.figure import Figure

from pipeline import figures
from pipeline.config import Params
from pipeline.data.prepared import data_md5, read_split
from pipeline.data.schema import DataSchema
from pipeline.data.split import SPLITS
from pipeline.io import read_json, write_atomic, write_csv, write_json
from pipeline.segmentation import explain, importance, segments
from pipeline.segmentation.analysis import Segmentation, segment_customers
from pipeline.segmentation.summaries import SegmentOnTest, SegmentSummary, ValueCutSummary
from pipeline.tracking import registry, runs, store

log = logging.getLogger(__name__)


class SegmentHeadline(TypedDict):
    """``headline/segment.json``: what runs are compared by."""

    personas: int
    persona_silhouette: float
    lift_test: dict[str, float]  # per segment
    importance_rank_correlation: float


def run(params: Params) -> None:
    paths = params.paths
    schema = DataSchema.from_yaml(paths.schema_file)
    splits = {name: read_split(paths, name) for name in SPLITS}
    store.configure(params.tracking.experiment)
    versions = read_json(paths.registered_versions)
    name = params.tracking.registered_model
    champion = registry.load_scorer(registry.version_uri(name, versions[registry.CHAMPION]))
    baseline = registry.load_scorer(registry.version_uri(name, versions[registry.BASELINE]))

    result = segment_customers(splits, schema, params.segment, champion.probability_of, baseline.probability_of)
    write_atomic(paths.scored / "customers.csv", lambda tmp: result.scored.to_csv(tmp, index=False))
    out = paths.reports / "segment"
    _write_tables(out, result)
    summary = _summary(result)
    write_json(paths.summary("segment"), summary.model_dump(mode="json"))
    write_json(paths.headline("segment"), _headline(summary))

    tags = store.run_tags("segment", data_md5(paths), champion_version=versions[registry.CHAMPION])
    with mlflow.start_run(run_name="segment", tags=tags) as active:
        mlflow.log_metric("personas", result.personas.k)
        runs.save_and_log_figures(active.info.run_id, _figures(result, schema), paths.plots / "segment")
        runs.log_tables(active.info.run_id, out)
        mlflow.log_dict(summary.model_dump(mode="json"), "summary.json")
    log.info("segments on test: %s", {s: round(v.actual_churn_rate, 3) for s, v in summary.segments_test.items()})


def _write_tables(out: Path, result: Segmentation) -> None:
    tables = {
        "segments_test.csv": result.evidence.segments,
        "deciles_champion_test.csv": result.evidence.deciles["champion"],
        "deciles_baseline_test.csv": result.evidence.deciles["baseline"],
        "personas.csv": result.described,
        "persona_by_segment.csv": result.persona_by_segment,
        "drivers_by_segment.csv": result.drivers,
        "importance.csv": result.importance.reset_index(),
    }
    for file, table in tables.items():
        write_csv(out / file, table, float_format="%.6f")
    write_atomic(out / "personas.json", lambda tmp: tmp.write_text(result.personas.to_json()))


def _summary(result: Segmentation) -> SegmentSummary:
    return SegmentSummary(
        customers=len(result.scored),
        personas=result.personas.k,
        persona_silhouette=result.personas.silhouette,
        segments_test={k: SegmentOnTest(**v) for k, v in segments.summarize(result.evidence.segments).items()},
        churners_reached_test=result.evidence.churners_reached,
        importance_rank_correlation=importance.rank_correlation(result.importance),
        # columns whose rank differs by 3 or more between SHAP (all customers, probability scale)
        # and permutation importance (validation, ROC-AUC): where the two methods tell different stories
        importance_disagreements=importance.disagreements(result.importance),
        value_cut=ValueCutSummary(**dataclasses.asdict(result.value_cut)),  # value_cut as an amount
    )


def _headline(summary: SegmentSummary) -> SegmentHeadline:
    """What separates churners, compared between runs: personas, and each segment's churn lift on test."""
    return {
        "personas": summary.personas,
        "persona_silhouette": summary.persona_silhouette,
        "lift_test": {name: s.lift for name, s in summary.segments_test.items()},
        "importance_rank_correlation": summary.importance_rank_correlation,
    }


def _figures(result: Segmentation, schema: DataSchema) -> Mapping[str, Figure]:
    codec = explain.Codec(schema)
    codes = codec.encode(result.customers)
    shap = result.explanations
    return {
        "gains.png": figures.gains_chart(result.evidence.gains, "Cumulative gains on the test split"),
        "shap_bar.png": figures.shap_summary(shap.values, codes, codec.columns, shap.base_value, "bar"),
        "shap_beeswarm.png": figures.shap_summary(shap.values, codes, codec.columns, shap.base_value, "beeswarm"),
    }
