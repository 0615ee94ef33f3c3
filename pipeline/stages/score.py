"""``score``: batch-score a CSV of raw customer records with a registered model.

The whole file is checked against the data contract first, so a bad row stops the run
before anything is written; then rows are scored in chunks with a progress line each.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd

from pipeline.config import Params
from pipeline.data.contract import Purpose, check_records, read_csv_records
from pipeline.io import write_atomic
from pipeline.tracking import registry, store

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "input_file", metavar="INPUT", type=Path, help="CSV with the schema's feature columns (id and target optional)"
    )
    parser.add_argument("--output", type=Path, help="where to write the scores (default: INPUT with .scored.csv)")
    parser.add_argument("--model", help="model URI (default: models:/<tracking.registered_model>@champion)")
    parser.add_argument("--chunk-size", type=int, default=20_000, help="rows per scoring call")


def run(params: Params, input_file: Path, output: Path | None, model: str | None, chunk_size: int) -> None:
    store.configure(params.tracking.experiment)
    uri = model or registry.model_uri(params.tracking.registered_model, registry.CHAMPION)
    scorer = registry.load_scorer(uri)
    raw = read_csv_records(input_file)
    check_records(raw.frame, scorer.schema, Purpose.SCORING, locations=raw.locations, source=str(input_file),
                  earlier=raw.ragged)  # fmt: skip
    frame = raw.frame

    started, parts = time.monotonic(), []
    for start in range(0, len(frame), chunk_size):
        parts.append(scorer.score(frame.iloc[start : start + chunk_size], source=str(input_file)))
        done = min(start + chunk_size, len(frame))
        rate = done / max(time.monotonic() - started, 1e-9)
        print(f"scored {done:,}/{len(frame):,} rows ({done / len(frame):.0%}, {rate:,.0f} rows/s)", flush=True)
    scores = pd.concat(parts, ignore_index=True)
    output = output or input_file.with_suffix(".scored.csv")
    write_atomic(output, lambda tmp: scores.to_csv(tmp, index=False, float_format="%.6f"))
    log.info("wrote %s (%d rows) with %s", output, len(scores), uri)
