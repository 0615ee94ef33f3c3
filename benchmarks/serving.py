"""Benchmark: the registered champion through `mlflow models serve`, and batch scoring.

- single-record latency (p50, p99) over sequential requests on loopback;
- requests per second with a few concurrent clients (bounded in count and time);
- batch scoring of 100,000 rows in-process (the path `python -m pipeline score` uses).

Run after `dvc repro` (needs the registry in mlflow.db):  python benchmarks/serving.py
"""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import mlflow
import numpy as np
import pandas as pd

from pipeline.config import Params
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

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "MLFLOW_TRACKING_URI": mlflow.get_tracking_uri()}
    cmd = [sys.executable, "-m", "mlflow", "models", "serve", "-m", uri, "--env-manager", "local",
           "-h", "127.0.0.1", "-p", str(port)]  # fmt: skip
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/invocations"
    try:
        _wait(f"http://127.0.0.1:{port}/ping")
        for _ in range(20):
            _post(url, body)  # warm up
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
    finally:
        server.terminate()
        server.wait(timeout=30)

    scorer = mlflow.pyfunc.load_model(uri).unwrap_python_model().scorer
    batch = pd.concat([records] * (BATCH_ROWS // len(records) + 1), ignore_index=True).head(BATCH_ROWS)
    batch["customerID"] = [f"C{i:07d}" for i in range(len(batch))]
    started = time.perf_counter()
    scorer.score(batch)
    batch_seconds = time.perf_counter() - started

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"model: {uri}")
    p50, p99 = np.percentile(latencies, [50, 99])
    print(f"single record, {SEQUENTIAL} sequential requests: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    rate = sent / CONCURRENT_SECONDS
    print(f"throughput, {CONCURRENT_CLIENTS} clients for {CONCURRENT_SECONDS} s: {rate:.0f} requests/s")
    rows_per_second = BATCH_ROWS / batch_seconds
    print(f"batch scoring, {BATCH_ROWS:,} rows in-process: {batch_seconds:.2f} s = {rows_per_second:,.0f} rows/s")


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
