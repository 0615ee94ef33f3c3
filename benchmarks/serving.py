"""Benchmark: the registered champion through `mlflow models serve`, and batch scoring.

- single-record latency (p50, p99) over sequential requests on loopback;
- requests per second with a few concurrent clients (bounded in count and time);
- the server's memory (resident set of the server and its worker processes);
- all of that with `--workers 1` and `--workers 2`, back to back in one run;
- where a single record's time goes inside the model (contract, preprocessing, the network,
  calibration, segment and campaign), in-process;
- batch scoring of 100,000 rows in-process (the path `python -m pipeline score` uses).

Run after `dvc repro` (needs the registry in mlflow.db):  python benchmarks/serving.py
"""

from __future__ import annotations

import pipeline  # noqa: F401  # isort: skip  (first: it pins the numerics before NumPy and TensorFlow load)
import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import psutil

from pipeline.config import Params
from pipeline.data.contract import Purpose, check_records
from pipeline.segmentation import campaign, segments
from pipeline.serving.scorer import Scorer
from pipeline.tracking import registry, store

SEQUENTIAL = 500
CONCURRENT_CLIENTS = 4
CONCURRENT_SECONDS = 10
BATCH_ROWS = 100_000


def main() -> None:
    params = Params.load()
    store.configure(params.tracking.experiment)
    uri = registry.model_uri(params.tracking.registered_model, registry.CHAMPION)
    records = pd.read_csv(params.paths.raw_data, dtype=str).drop(columns=["Churn"])
    body = json.dumps({"dataframe_records": records.head(1).to_dict(orient="records")}).encode()
    print(f"machine: {_cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"model: {uri}")
    print(f"load average before: {' '.join(f'{v:.1f}' for v in os.getloadavg())} (other processes share the cores)")
    for workers in (1, 2):
        latencies, rate, rss = _serve(uri, body, workers)
        p50, p99 = np.percentile(latencies, [50, 99])
        print(f"--workers {workers}: single record, {SEQUENTIAL} sequential requests: p50 {p50:.1f} ms, "
              f"p99 {p99:.1f} ms; {CONCURRENT_CLIENTS} clients for {CONCURRENT_SECONDS} s: {rate:.0f} requests/s; "
              f"server memory (RSS, all processes) {rss / 2**20:.0f} MiB")  # fmt: skip

    scorer = mlflow.pyfunc.load_model(uri).unwrap_python_model().scorer
    for step, ms in _single_record_steps(scorer, records.head(1)).items():
        print(f"in the model, one record: {step} {ms:.2f} ms")
    batch = pd.concat([records] * (BATCH_ROWS // len(records) + 1), ignore_index=True).head(BATCH_ROWS)
    batch["customerID"] = [f"C{i:07d}" for i in range(len(batch))]
    started = time.perf_counter()
    scorer.score(batch)
    batch_seconds = time.perf_counter() - started
    rows_per_second = BATCH_ROWS / batch_seconds
    print(f"batch scoring, {BATCH_ROWS:,} rows in-process: {batch_seconds:.2f} s = {rows_per_second:,.0f} rows/s")
    checked = time.perf_counter()
    columns = check_records(batch, scorer.schema, Purpose.SCORING).columns
    checked = time.perf_counter() - checked
    scored = time.perf_counter()
    scorer.probability_of(columns)
    scored = time.perf_counter() - scored
    print(f"  of which the contract {checked:.2f} s, preprocessing + network + calibration {scored:.2f} s")
    print(f"load average after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


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
        "segment and campaign": lambda: cfg and (segments.assign(p, columns[cfg.value_column], cfg),
            campaign.net_value(p, columns[cfg.value_column], cfg.campaign, cfg.horizon_months)),
        "whole score()": lambda: scorer.score(record, source="request"),
    }  # fmt: skip
    return {name: _median_ms(step, repeats) for name, step in steps.items()}


def _median_ms(step: object, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()  # type: ignore[operator]
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
