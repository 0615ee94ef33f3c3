"""``optimize-worker``: run trials of the optimize studies from their shared queue.

Started by ``optimize`` (one per core by default), or by hand on other machines that
share ``optimize.storage`` (an RDB URL every machine can reach) and hold the same
``params.yaml`` and prepared data: ``python -m pipeline optimize-worker --worker 3``. A worker
started before ``optimize`` has queued the trials waits for them.
"""

from __future__ import annotations

import argparse

from pipeline.config import Params
from pipeline.data.prepared import data_md5
from pipeline.training.job import load_training_data
from pipeline.tuning.plan import plan_studies
from pipeline.tuning.storage import open_storage
from pipeline.tuning.tickets import wait_for_tickets
from pipeline.tuning.worker import work


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--worker", type=int, default=0, help="worker number: seeds this worker's sampler")


def progress(params: Params) -> str:
    from pipeline.stages.optimize import progress as studies_progress

    return studies_progress(params)


def run(params: Params, worker: int = 0) -> None:
    data = load_training_data(params.paths)
    plans = plan_studies(params.optimize, params.baseline.candidate, data_md5(params.paths))
    storage = open_storage(params.optimize, params.paths.studies)
    wait_for_tickets([plan.name for plan in plans], storage)
    work(plans, storage, params.optimize, params.baseline, data, worker)
