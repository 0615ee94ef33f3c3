"""A real ``mlflow models serve`` process: good records answered as in-process, bad ones refused with a 4xx.

Served twice: from this environment (``--env-manager local``), and from a fresh one that MLflow builds
with uv from the model's own requirements (``--env-manager uv``), which proves they are complete.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest

from pipeline.config import Params
from pipeline.data.schema import DataSchema
from pipeline.evaluation import metrics
from pipeline.features.encoded import load_split
from pipeline.features.preprocessing import Preprocessor
from pipeline.io import read_json
from pipeline.tracking import registry
from tests.conftest import use_project
from tests.repo_copy import command_env
from tests.servers import free_port, post_json, running

pytestmark = pytest.mark.slow


# how long until the server answers: building the uv environment downloads TensorFlow the first time
STARTUP_SECONDS = {"local": 180, "uv": 1200}


@pytest.fixture(scope="module", params=list(STARTUP_SECONDS))
def server(request: pytest.FixtureRequest, pipeline_project: Path) -> Iterator[str]:
    port = free_port()
    uri = registry.model_uri(Params.load(pipeline_project / "params.yaml").tracking.registered_model, "champion")
    env = command_env(MLFLOW_TRACKING_URI=f"sqlite:///{pipeline_project / 'mlflow.db'}")
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", uri, "--env-manager", request.param,
           "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with running(cmd, pipeline_project, env, f"{base}/ping", timeout=STARTUP_SECONDS[request.param]):
        yield base


def _post(base: str, body: bytes) -> tuple[int, str]:
    return post_json(f"{base}/invocations", body)


def _records(project: Path, n: int = 4) -> list[dict]:
    frame = pd.read_csv(project / "data" / "raw" / "teleconnect.csv", dtype=str).head(n).drop(columns="Churn")
    return frame.to_dict(orient="records")


def test_good_records_match_in_process_predictions(server: str, pipeline_project: Path, monkeypatch) -> None:
    use_project(pipeline_project, monkeypatch)
    records = _records(pipeline_project)
    status, text = _post(server, json.dumps({"dataframe_records": records}).encode())
    assert status == 200, text
    served = pd.DataFrame(json.loads(text)["predictions"])
    model = mlflow.pyfunc.load_model(registry.model_uri(Params.load().tracking.registered_model, "champion"))
    local = model.predict(pd.DataFrame(records))
    assert list(served["customerID"]) == list(local["customerID"])
    # to the bit: the server loaded NumPy before the pin (its AVX-512 loops on), which plays no part
    assert served["churn_probability"].tolist() == local["churn_probability"].tolist()
    assert served["churn"].tolist() == local["churn"].tolist()
    segment_names = {spec.name for spec in Params.load().segment.segments.values()}
    assert served["segment"].notna().all() and set(served["segment"]) <= segment_names
    assert served["segment"].tolist() == local["segment"].tolist()
    # the campaign's numbers, from the same code as the batch file the segment stage wrote
    batch = pd.read_csv(pipeline_project / "data" / "scored" / "customers.csv").set_index("customerID")
    expected = batch.loc[served["customerID"]]
    assert served["expected_value"].tolist() == pytest.approx(expected["expected_value"].tolist(), abs=0.006)
    assert served["contact"].tolist() == expected["contact"].tolist()


def test_served_probabilities_are_those_evaluate_scored(server: str, pipeline_project: Path, monkeypatch) -> None:
    """Every test customer, sent raw to the server, gets the probability ``evaluate`` scored him with, to
    the bit: the log loss and Brier score of the served probabilities are the stored ones exactly."""
    use_project(pipeline_project, monkeypatch)
    params = Params.load()
    schema = DataSchema.from_yaml(params.paths.schema_file)
    test = load_split(params.paths, "test", schema, Preprocessor.load(params.paths.preprocessor))
    raw = pd.read_csv(params.paths.raw_data, dtype=str, keep_default_na=False).set_index(schema.id_column)
    records = raw.loc[test.frame[schema.id_column]].drop(columns=schema.target.column).reset_index()
    status, text = _post(server, json.dumps({"dataframe_records": records.to_dict(orient="records")}).encode())
    assert status == 200, text
    served = np.array([row["churn_probability"] for row in json.loads(text)["predictions"]])
    summary = read_json(params.paths.summary("evaluate"))
    stored = summary["models"][summary["champion"]]["test"]
    assert metrics.log_loss(test.y, served) == stored["log_loss"]["value"]
    assert metrics.brier(test.y, served) == stored["brier"]["value"]


def test_reasons_on_request(server: str, pipeline_project: Path) -> None:
    records = _records(pipeline_project, 2)
    status, text = _post(server, json.dumps({"dataframe_records": records, "params": {"reasons": True}}).encode())
    assert status == 200, text
    served = json.loads(text)["predictions"]
    for row in served:
        said = row["reasons"].split("; ")
        assert len(said) == 3 and all(s.endswith(("raises churn risk", "lowers churn risk")) for s in said)
    status, text = _post(server, json.dumps({"dataframe_records": records}).encode())
    assert "reasons" not in json.loads(text)["predictions"][0]  # only when asked: it costs milliseconds


def _drop_column(records: list[dict]) -> None:
    for record in records:
        record.pop("tenure")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_drop_column, "missing column 'tenure'"),
        (lambda rs: rs[1].pop("tenure"), "record 2: column 'tenure': value nan: missing value"),
        (lambda rs: rs[1].update(Contract="Weekly"), "record 2: column 'Contract': value 'Weekly': unknown category"),
        (
            lambda rs: rs[1].update(MonthlyCharges="lots"),
            "record 2: column 'MonthlyCharges': value 'lots': not a number",
        ),
        (lambda rs: rs[1].update(tenure=-4), "record 2: column 'tenure': value -4: out of range"),
    ],
)
def test_bad_records_get_a_400_naming_the_problem(
    server: str, pipeline_project: Path, change: Callable[[list[dict]], None], expected: str
) -> None:
    records = _records(pipeline_project, 2)
    change(records)
    status, text = _post(server, json.dumps({"dataframe_records": records}).encode())
    assert status == 400, text
    assert expected in json.loads(text)["message"]


def test_empty_and_malformed_requests_get_a_400_and_the_server_keeps_serving(
    server: str, pipeline_project: Path
) -> None:
    status, text = _post(server, json.dumps({"dataframe_records": []}).encode())
    assert status == 400 and "no records" in json.loads(text)["message"]
    status, text = _post(server, b'{"dataframe_records": [{"tenure": 3,')
    assert 400 <= status < 500 and json.loads(text)["message"]
    status, _ = _post(server, json.dumps({"dataframe_records": _records(pipeline_project, 1)}).encode())
    assert status == 200
