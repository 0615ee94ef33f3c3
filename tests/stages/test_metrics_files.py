"""What DVC shows: the declared metrics files hold the headline a person compares between runs
(`dvc metrics diff`), each figure taken from the detail the stage wrote beside its reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

pytestmark = pytest.mark.slow  # on the project the nine stages built

HEADLINE_LIMIT = 64  # "a few dozen" keys across every stage, so `dvc metrics diff` fits a terminal


def _flat(payload: object, prefix: str = "") -> dict[str, object]:
    if isinstance(payload, dict):
        return {k: v for key, value in payload.items() for k, v in _flat(value, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): payload}


def _declared_metrics() -> list[str]:
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    return [next(iter(entry)) for stage in stages.values() for entry in stage.get("metrics", [])]


def test_the_declared_metrics_are_a_few_dozen_headline_figures(in_pipeline_project: Path) -> None:
    declared = [path.replace("${paths.metrics}", "metrics") for path in _declared_metrics()]
    assert len(declared) == 9  # one per stage that measures something (all but report)
    keys = {f"{path}:{k}": v for path in declared for k, v in _flat(json.loads(Path(path).read_text())).items()}
    assert len(keys) <= HEADLINE_LIMIT, sorted(keys)
    assert all(isinstance(v, int | float | str) for v in keys.values())


def test_each_headline_figure_is_the_detail_s(in_pipeline_project: Path) -> None:
    def read(path: str) -> dict:
        return json.loads(Path(path).read_text())

    evaluate, champion = read("reports/evaluate/summary.json"), read("metrics/evaluate.json")["champion"]
    assert read("metrics/evaluate.json")["test"]["champion"] == {
        k: evaluate["models"][champion]["test"][k] for k in ("log_loss", "roc_auc", "pr_auc")
    }
    baseline = read("reports/baseline/summary.json")
    assert read("metrics/baseline.json") == {k: baseline[k] for k in read("metrics/baseline.json")}
    optimize = read("reports/optimize/summary.json")
    studies = {label: study["val_log_loss_mean"] for label, study in optimize.items()}
    assert read("metrics/optimize.json")["val_log_loss_mean"] == studies
    segment = read("reports/segment/summary.json")
    assert read("metrics/segment.json")["lift_test"] == {k: v["lift"] for k, v in segment["segments_test"].items()}
    campaign = read("reports/campaign/summary.json")["test_net_value"]
    assert read("metrics/campaign.json")["test_net_value"]["net_value"] == campaign["expected net value"]["net_value"]
    prepare = read("reports/prepare/summary.json")["splits"]
    assert read("metrics/prepare.json")["rows"] == {k: v["rows"] for k, v in prepare.items()}
    resample, headline = read("reports/resample/comparison.json"), read("metrics/resample.json")
    best = resample["models"][headline["best_challenger"]]
    assert headline["best_challenger_p_holm"] == best["vs_baseline"]["log_loss"]["p_holm"]
    assert headline["champion_log_loss"] == resample["models"][resample["champion"]]["mean"]["log_loss"]
