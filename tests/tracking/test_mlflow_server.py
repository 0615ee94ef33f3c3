"""A real ``mlflow server`` over the store the pipeline wrote: what the MLflow UI shows, through its REST API."""

from __future__ import annotations

import json
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.config import Params
from tests.repo_copy import command_env
from tests.servers import free_port, running

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api(pipeline_project: Path) -> Iterator[str]:
    port = free_port()
    store = f"sqlite:///{pipeline_project / 'mlflow.db'}"
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", store,
           "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with running(cmd, pipeline_project, command_env(), f"{base}/health"):
        yield f"{base}/api/2.0/mlflow"


def _get(url: str, **query: str) -> dict:
    with urllib.request.urlopen(f"{url}?{urllib.parse.urlencode(query)}", timeout=30) as response:
        return json.loads(response.read())


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _search(api: str, experiment_id: str, filter_string: str) -> list[dict]:
    body = {"experiment_ids": [experiment_id], "filter": filter_string, "max_results": 1000}
    return _post(f"{api}/runs/search", body).get("runs", [])


def _tags(run: dict) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run["data"].get("tags", [])}


def test_the_ui_sees_experiment_runs_curves_and_registry(api: str, pipeline_project: Path) -> None:
    params = Params.load(pipeline_project / "params.yaml")
    experiment = _get(f"{api}/experiments/get-by-name", experiment_name=params.tracking.experiment)["experiment"]
    eid = experiment["experiment_id"]

    for stage in ("prepare", "baseline", "recipes", "optimize", "resample", "evaluate", "segment", "report"):
        assert _search(api, eid, f"tags.stage = '{stage}'"), f"no {stage} run"

    # nested: the comparison parent -> an optimizer's study -> its trials, filterable by optimizer
    [comparison] = _search(api, eid, "attributes.run_name = 'optimizer-comparison'")
    studies = _search(api, eid, f"tags.`mlflow.parentRunId` = '{comparison['info']['run_id']}'")
    assert {_tags(s)["optimizer"] for s in studies} == set(params.optimize.comparison.optimizers)
    # the README's filter for one study's trials of one reproduction (the champion's, as the report names it)
    champion = _get(f"{api}/registered-models/alias", name=params.tracking.registered_model, alias="champion")
    reproduction = {t["key"]: t["value"] for t in champion["model_version"]["tags"]}["reproduction"]
    one_study = "tags.study = 'comparison' and tags.optimizer = 'adam' and tags.trial != ''"
    adam_trials = _search(api, eid, f"tags.reproduction = '{reproduction}' and {one_study}")
    assert len(adam_trials) == params.optimize.comparison.trials_per_optimizer
    assert all(_tags(t)["state"] in {"COMPLETE", "PRUNED"} for t in adam_trials)

    # per-epoch curves: a metric history with one point per epoch (a trial pruned after its first
    # epoch has one point, so every trial is checked and a completed one must show a curve)
    histories = {}
    for trial in adam_trials:
        run_id = trial["info"]["run_id"]
        history = _get(f"{api}/metrics/get-history", run_id=run_id, metric_key="val_loss")["metrics"]
        assert [m["step"] for m in history] == list(range(1, len(history) + 1))
        histories[_tags(trial)["state"]] = max(len(history), histories.get(_tags(trial)["state"], 0))
    assert histories.get("COMPLETE", 0) >= 2

    # sortable by validation ROC-AUC, as the README says
    query = {"experiment_ids": [eid], "filter": "tags.kind = 'retrain'", "order_by": ["metrics.val_roc_auc DESC"]}
    ranked = _post(f"{api}/runs/search", query)["runs"]
    aucs = [next(m["value"] for m in r["data"]["metrics"] if m["key"] == "val_roc_auc") for r in ranked]
    assert aucs == sorted(aucs, reverse=True) and len(aucs) > 1

    model = _get(f"{api}/registered-models/get", name=params.tracking.registered_model)["registered_model"]
    aliases = {a["alias"]: a["version"] for a in model["aliases"]}
    assert {"champion", "baseline"} <= set(aliases)
    champion = _get(f"{api}/registered-models/alias", name=params.tracking.registered_model, alias="champion")
    assert champion["model_version"]["version"] == aliases["champion"]
    run = _get(f"{api}/runs/get", run_id=champion["model_version"]["run_id"])["run"]
    assert _tags(run)["champion"] == "True"
