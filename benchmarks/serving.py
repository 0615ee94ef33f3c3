"""Benchmark: the registered champion through `mlflow models serve`, and batch scoring.

- single-record latency (p50, p99) over sequential requests on loopback;
- requests per second with a few concurrent clients (bounded in count and time);
- the server's memory (resident set of the server and its worker processes);
- all of that with `--workers 1` and `--workers 2`, back to back in one run;
- where a single record's time goes inside the model (contract, preprocessing, the network,
  calibration, segment and campaign), in-process;
- where a request's time goes in MLflow's scoring server, in-process (its ``invocations()``: JSON to
  DataFrame, the pyfunc, the response's JSON), and what MLflow's input schema enforcement would add
  (the model as registered before had an input schema; the same model with one, in the same run);
- batch scoring of 100,000 rows in-process (the path `python -m pipeline score` uses), its steps,
  and the contract's vectorized check against the per-cell one on the same rows.

Run after `dvc repro` (needs the registry in mlflow.db):  python benchmarks/serving.py
"""

from __future__ import annotations

import pipeline  # noqa: F401  # isort: skip  (first: it pins the numerics before NumPy and TensorFlow load)
import io
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import psutil
from mlflow.models import ModelSignature
from mlflow.pyfunc import PyFuncModel, scoring_server

from pipeline.config import Params
from pipeline.data.contract import Purpose, check_records
from pipeline.segmentation import campaign, segments
from pipeline.serving.package import input_columns
from pipeline.serving.scorer import Scorer
from pipeline.tracking import registry, store

SEQUENTIAL = 500
CONCURRENT_CLIENTS = 4
CONCURRENT_SECONDS = 10
BATCH_ROWS = 100_000
BATCH_REPEATS = 3


def main() -> None:
    params = Params.load()
    store.configure(params.tracking.experiment)
    uri = registry.model_uri(params.tracking.registered_model, registry.CHAMPION)
    records = pd.read_csv(params.paths.raw_data, dtype=str).drop(columns=["Churn"])
    body = json.dumps({"dataframe_records": records.head(1).to_dict(orient="records")}).encode()
    print(f"machine: {_cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"model: {uri}")
    print(f"load average before: {_load()} (other processes share the cores)")
    for workers in (1, 2):
        latencies, rate, rss = _serve(uri, body, workers)
        p50, p99 = np.percentile(latencies, [50, 99])
        print(f"load average: {_load()}")
        print(f"--workers {workers}: single record, {SEQUENTIAL} sequential requests: p50 {p50:.1f} ms, "
              f"p99 {p99:.1f} ms; {CONCURRENT_CLIENTS} clients for {CONCURRENT_SECONDS} s: {rate:.0f} requests/s; "
              f"server memory (RSS, all processes) {rss / 2**20:.0f} MiB")  # fmt: skip

    model = mlflow.pyfunc.load_model(uri)
    scorer = model.unwrap_python_model().scorer
    for step, ms in _single_record_steps(scorer, records.head(1)).items():
        print(f"in the model, one record: {step} {ms:.2f} ms")
    for step, ms in _server_steps(model, body).items():
        print(f"in MLflow's scoring server, one record, in-process: {step} {ms:.2f} ms")
    print(f"load average: {_load()}")

    batch = pd.concat([records] * (BATCH_ROWS // len(records) + 1), ignore_index=True).head(BATCH_ROWS)
    batch["customerID"] = [f"C{i:07d}" for i in range(len(batch))]
    scorer.score(batch.head(10_000))  # compiles the network's chunk shapes
    batch_seconds = float(np.median([_seconds(lambda: scorer.score(batch)) for _ in range(BATCH_REPEATS)]))
    rows_per_second = BATCH_ROWS / batch_seconds
    print(f"batch scoring, {BATCH_ROWS:,} rows in-process (median of {BATCH_REPEATS} runs): {batch_seconds:.2f} s "
          f"= {rows_per_second:,.0f} rows/s")  # fmt: skip
    steps = _batch_steps(scorer, batch)
    print(f"  its steps (each the fastest of {BATCH_REPEATS} runs): "
          + ", ".join(f"{step} {seconds:.3f} s" for step, seconds in steps.items()))  # fmt: skip
    per_cell = _seconds(lambda: check_records(batch, scorer.schema, Purpose.SCORING, per_cell=True))
    print(f"  the contract cell by cell (the check before, kept as the reference): {per_cell:.2f} s, "
          f"{per_cell / steps['contract']:.1f} times the vectorized check's")  # fmt: skip
    print(f"load average after: {_load()}")


def _load() -> str:
    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def _seconds(step: Callable[[], object]) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def _batch_steps(scorer: Scorer, batch: pd.DataFrame) -> dict[str, float]:
    """Seconds of each step ``Scorer.score`` takes for ``batch`` (the fastest of a few runs: the least
    disturbed by other processes)."""
    columns = check_records(batch, scorer.schema, Purpose.SCORING).columns
    x = scorer.preprocessor.transform(columns)
    p = scorer.probabilities(x)
    cfg = scorer.segmentation
    response = {name: values.to_numpy() for name, values in scorer.score(batch).items()}
    steps: dict[str, Callable[[], object]] = {
        "contract": lambda: check_records(batch, scorer.schema, Purpose.SCORING),
        "preprocessing": lambda: scorer.preprocessor.transform(columns),
        "network and calibration": lambda: scorer.probabilities(x),
        "segment and campaign": lambda: cfg and (segments.names_and_actions(p, columns[cfg.value_column], cfg),
            campaign.net_value(p, columns[cfg.value_column], cfg.campaign, cfg.horizon_months)),
        "the response frame": lambda: pd.DataFrame(response),
        "whole score()": lambda: scorer.score(batch),
    }  # fmt: skip
    return {name: min(_seconds(step) for _ in range(BATCH_REPEATS)) for name, step in steps.items()}


def _server_steps(model: PyFuncModel, body: bytes, repeats: int = 300) -> dict[str, float]:
    """Median milliseconds of MLflow's ``invocations()`` for one record and of its parts, and of the same
    with the model's input columns as an enforced input schema (how the model was registered before)."""
    text = body.decode()
    schema = model.metadata.get_input_schema()
    parsed = scoring_server._parse_json_data(text, model.metadata, schema)
    predictions = model.predict(parsed.data, params=parsed.params)
    steps: dict[str, Callable[[], object]] = {
        "JSON to DataFrame (MLflow)": lambda: scoring_server._parse_json_data(text, model.metadata, schema),
        "predict (MLflow's pyfunc layer and our score())": lambda: model.predict(parsed.data, params=parsed.params),
        "response to JSON (MLflow)": lambda: scoring_server.predictions_to_json(predictions, io.StringIO()),
        "whole invocations()": lambda: scoring_server.invocations(text, "application/json", model, schema),
    }
    medians = {name: _median_ms(step, repeats) for name, step in steps.items()}
    signature = model.metadata.signature
    columns = input_columns(model.unwrap_python_model().scorer.schema)
    enforced = ModelSignature(inputs=columns, outputs=signature.outputs, params=signature.params)
    model.metadata.signature = enforced
    try:
        with_schema = _median_ms(
            lambda: scoring_server.invocations(text, "application/json", model, enforced.inputs), repeats
        )
    finally:
        model.metadata.signature = signature
    medians["whole invocations() with an enforced input schema (as registered before)"] = with_schema
    return medians


def _serve(uri: str, body: bytes, workers: int) -> tuple[list[float], float, int]:
    """Sequential latencies (ms), requests per second with concurrent clients, and the server's RSS."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow.get_tracking_uri()}
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", uri, "--env-manager", "local",
           "-h", "127.0.0.1", "-p", str(port), "--workers", str(workers)]  # fmt: skip
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/invocations"
    try:
        _wait(f"http://127.0.0.1:{port}/ping")
        for _ in range(20 * workers):
            _post(url, body)  # warm up every worker
        latencies = []
        for _ in range(SEQUENTIAL):
            started = time.perf_counter()
            _post(url, body)
            latencies.append((time.perf_counter() - started) * 1000)
        deadline = time.monotonic() + CONCURRENT_SECONDS

        def client() -> int:
            sent = 0
            while time.monotonic() < deadline:
                _post(url, body)
                sent += 1
            return sent

        with ThreadPoolExecutor(CONCURRENT_CLIENTS) as pool:
            sent = sum(pool.map(lambda _: client(), range(CONCURRENT_CLIENTS)))
        tree = [psutil.Process(server.pid), *psutil.Process(server.pid).children(recursive=True)]
        rss = sum(p.memory_info().rss for p in tree)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return latencies, sent / CONCURRENT_SECONDS, rss


def _single_record_steps(scorer: Scorer, record: pd.DataFrame, repeats: int = 500) -> dict[str, float]:
    """Median milliseconds of each step ``Scorer.score`` takes for one record."""
    columns = check_records(record, scorer.schema, Purpose.SCORING, source="request").columns
    x = scorer.preprocessor.transform(columns)
    p = scorer.ensemble.predict(x).mean
    cfg = scorer.segmentation
    steps = {
        "contract": lambda: check_records(record, scorer.schema, Purpose.SCORING, source="request"),
        "preprocessing": lambda: scorer.preprocessor.transform(columns),
        "network (all seeds, one XLA call)": lambda: scorer.ensemble.predict(x),
        "calibration (one XLA call)": lambda: scorer.decision.calibrator and scorer.decision.calibrator.apply(p),
        "segment and campaign": lambda: cfg and (segments.names_and_actions(p, columns[cfg.value_column], cfg),
            campaign.net_value(p, columns[cfg.value_column], cfg.campaign, cfg.horizon_months)),
        "whole score()": lambda: scorer.score(record, source="request"),
    }  # fmt: skip
    return {name: _median_ms(step, repeats) for name, step in steps.items()}


def _median_ms(step: Callable[[], object], repeats: int) -> float:
    for _ in range(min(repeats, 30)):
        step()  # warm up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times))


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _post(url: str, body: bytes) -> None:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def _wait(url: str, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


if __name__ == "__main__":
    main()
