"""``schema draft``: write a draft data contract for a CSV, for a person to review (``docs/ADAPT.md``)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from pipeline.config import Params
from pipeline.data.contract import DataContractError, Violation, read_csv_records
from pipeline.data.draft import draft
from pipeline.io import write_atomic

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub = actions.add_parser("draft", help="draft a schema from a CSV: types, categories, ranges, review notes")
    sub.add_argument("csv", metavar="CSV", type=Path, help="the customers, one row each, with a header")
    sub.add_argument("--target", required=True, help="the column that says whether a customer churned")
    sub.add_argument("--output", type=Path, required=True, help="where to write the draft (e.g. data/schema.yaml)")


def run(params: Params, action: str, csv: Path, target: str, output: Path) -> None:
    """Refuses (``DataContractError``, exit 2) a file it cannot read, ragged lines, repeated column
    names, and a target that is missing or has other than two classes."""
    del params, action  # the draft depends on the CSV alone; "draft" is the only action
    try:
        raw = read_csv_records(csv)
    except OSError as err:
        raise DataContractError(str(csv), [Violation("file", f"cannot be read ({err.strerror})")]) from None
    header = [str(c) for c in raw.frame.columns]
    repeated = sorted({c for c in header if header.count(c) > 1})
    problems = [*raw.ragged, *(Violation("line 1", f"column {c!r} appears more than once") for c in repeated)]
    if problems:
        raise DataContractError(str(csv), problems)
    text = draft(raw.frame, target, str(csv))
    write_atomic(output, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    reviews = sum(line.strip().startswith("# review:") for line in text.splitlines())
    log.info("drafted %s from %s: %d note(s) to review (lines starting '# review:')", output, csv, reviews)
