"""``notebook``: execute the study notebook in place against this project's registry (after ``dvc repro``)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.config import Params
from pipeline.reporting.notebook import NOTEBOOK, execute

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--retrain-epochs", type=int, default=0, help="0: the champion's own epoch budget")


def run(params: Params, retrain_epochs: int = 0) -> None:
    del params  # the notebook reads params.yaml itself
    path = execute(NOTEBOOK, Path.cwd(), retrain_epochs)
    log.info("executed %s", path)
