"""``report``: ``docs/REPORT.md``, its figures and the draw.io diagrams, from the Model Registry.

Follows the ``champion`` and ``baseline`` aliases to the runs behind them (see
``pipeline.reporting.evidence``); reads no stage output files, so what it reports is what
MLflow recorded. Logs a ``report`` run holding the rendered document.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import mlflow

from pipeline.config import Params
from pipeline.io import write_atomic
from pipeline.reporting import evidence, report
from pipeline.tracking import registry, store

log = logging.getLogger(__name__)


def run(params: Params) -> None:
    cfg = params.report
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # dozens of downloads, one log line each
    store.configure(params.tracking.experiment)
    with tempfile.TemporaryDirectory() as tmp:
        gathered = evidence.gather(params.tracking.registered_model, Path(tmp))
        champion = gathered.versions[registry.CHAMPION]
        # tagged before the outputs change: a rewritten REPORT.md would make the commit look dirty
        tags = store.run_tags("report", champion.tags["data_md5"], champion_version=champion.version)
        text = report.render(params, gathered, Path(tmp))
    write_atomic(cfg.document, lambda path: path.write_text(text, encoding="utf-8"))

    with mlflow.start_run(run_name="report", tags=tags):
        mlflow.log_artifact(str(cfg.document))
        mlflow.log_artifacts(str(cfg.diagrams), "drawio")
    log.info("wrote %s from %s@champion version %s", cfg.document, params.tracking.registered_model, champion.version)
