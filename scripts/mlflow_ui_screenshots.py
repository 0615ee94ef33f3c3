"""What a user sees in the MLflow UI, photographed: starts ``mlflow ui`` on the project's store (on
127.0.0.1, a free port), opens it in headless Chromium and saves screenshots under
``docs/screenshots/mlflow_ui/``, then stops the server.

    pip install -e '.[screenshots]'   # Playwright, which drives the system's Chromium
    apt-get install chromium          # Debian's package
    python scripts/mlflow_ui_screenshots.py

Used to check the docs' description of the UI against the real thing (docs/DOCUMENTATION.md,
"Comparing runs in the MLflow UI"); not part of the pipeline or the tests.
"""

from __future__ import annotations

import pipeline  # noqa: F401  # isort: skip  (first: it pins the numerics before NumPy loads)
import argparse
import contextlib
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import mlflow
from playwright.sync_api import Page, sync_playwright

from pipeline.config import Params

# MLflow 3.17's UI opens its assistant panel on a first visit; a user closes it once, the screenshots too
CLOSED_ASSISTANT = """
localStorage.setItem('mlflow.assistant.fab.autoOpenedOnFirstLoad_v1', 'true');
localStorage.setItem('mlflow.assistant.panelOpen_v1', 'false');
"""
RUNS_FILTER = "tags.study = 'search' and tags.kind = 'retrain'"  # the full search's best, retrained over seeds
EXPAND_BUTTON = 'button[data-component-id$="runnamecellrenderer.tsx_46"]'  # the "+" beside a parent run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="sqlite:///mlflow.db")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots/mlflow_ui"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    params = Params.load()
    mlflow.set_tracking_uri(args.store)
    experiment = mlflow.get_experiment_by_name(params.tracking.experiment)
    if experiment is None:
        sys.exit(f"error: no experiment {params.tracking.experiment!r} in {args.store}: run `dvc repro` first")
    seed_runs = mlflow.search_runs(
        [experiment.experiment_id],
        "attributes.run_name = 'baseline-seed-0'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
        output_format="list",
    )
    if not seed_runs:
        sys.exit(f"error: no run 'baseline-seed-0' in {args.store}: run `dvc repro` first")
    [seed_run] = seed_runs
    args.out.mkdir(parents=True, exist_ok=True)
    with _mlflow_ui(args.store) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_init_script(CLOSED_ASSISTANT)
        page = context.new_page()
        eid, ml = experiment.experiment_id, "workflowType=machine_learning"
        runs_filter = urllib.parse.quote_plus(RUNS_FILTER)
        _shoot(page, f"{base}/#/experiments/{eid}/runs?{ml}&searchFilter={runs_filter}", args.out / "runs.png", True)
        _shoot(page, f"{base}/#/experiments/{eid}/runs/{seed_run.info.run_id}?{ml}", args.out / "seed_run.png")
        _shoot(page, f"{base}/#/experiments/{eid}/models?{ml}", args.out / "models.png")
        _shoot(page, f"{base}/#/models/{params.tracking.registered_model}?{ml}", args.out / "registry.png")
        browser.close()
    print(f"wrote {', '.join(sorted(p.name for p in args.out.glob('*.png')))} to {args.out}")


def _shoot(page: Page, url: str, path: Path, expand: bool = False) -> None:
    page.goto(url)
    page.wait_for_timeout(5000)  # the UI keeps polling (auto-refresh), so there is no idle network to wait for
    if expand:
        for button in page.locator(EXPAND_BUTTON).all():
            button.click()
        page.wait_for_timeout(1500)
    page.screenshot(path=str(path))


@contextlib.contextmanager
def _mlflow_ui(store: str) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", store, "--host", "127.0.0.1"]
    server = subprocess.Popen([*argv, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{base}/health", timeout=2).close()
                break
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"error: `mlflow ui` did not start on port {port}")
            time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
