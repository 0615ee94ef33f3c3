"""Validate raw records against the data contract, reporting every violation at once.

The same code guards the training data (``prepare``) and every request to the
served model, so a record the pipeline would refuse is never scored.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.data.schema import DataSchema, NumericColumn


@dataclass(frozen=True)
class Violation:
    """One broken rule: where (a CSV line or a request record), which column, which value, which rule."""

    where: str
    rule: str
    column: str | None = None
    value: object = None

    def __str__(self) -> str:
        parts = [self.where]
        if self.column is not None:
            parts.append(f"column {self.column!r}")
            parts.append(f"value {self.value!r}")
        parts.append(self.rule)
        return ": ".join(parts)


class DataContractError(ValueError):
    """Raised with every violation found, so a user fixes the data in one pass."""

    def __init__(self, source: str, violations: Sequence[Violation]) -> None:
        self.source = source
        self.violations = list(violations)
        count = len(self.violations)
        lines = "\n".join(f"  {source}: {v}" for v in self.violations)
        super().__init__(f"{source} breaks the data contract ({count} violation{'s' * (count != 1)}):\n{lines}")


class Purpose(Enum):
    """What the records are for decides which columns must be there."""

    TRAINING = "training"  # id and target required
    SCORING = "scoring"  # id optional; a target column, if sent, is ignored


def read_csv_records(path: str | Path) -> tuple[pd.DataFrame, list[str]]:
    """Read a CSV as text cells plus the line number of each row; raise on unreadable files."""
    source = str(path)
    raw = Path(path).read_bytes()
    if not raw.strip():
        raise DataContractError(source, [Violation("line 1", "the file is empty")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        byte = raw[err.start : err.start + 1]
        raise DataContractError(
            source, [Violation(f"line {line}", f"not UTF-8 text (byte {byte!r} at offset {err.start})")]
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [name.strip() for name in next(reader)]
    rows: list[list[str]] = []
    locations: list[str] = []
    ragged: list[Violation] = []
    for row in reader:
        where = f"line {reader.line_num}"
        if not row or all(not cell.strip() for cell in row):
            continue  # blank lines (e.g. a trailing CRLF) carry no record
        if len(row) != len(header):
            ragged.append(Violation(where, f"has {len(row)} fields, the header has {len(header)}"))
            continue
        rows.append(row)
        locations.append(where)
    if not rows and not ragged:
        raise DataContractError(source, [Violation("line 2", "the file has a header but no records")])
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame.attrs["ragged"] = ragged
    return frame, locations


def load_dataset(path: str | Path, schema: DataSchema) -> pd.DataFrame:
    """Read and validate a training CSV; the returned frame is clean and typed."""
    frame, locations = read_csv_records(path)
    return validate_records(frame, schema, Purpose.TRAINING, locations=locations, source=str(path))


def validate_records(
    records: pd.DataFrame,
    schema: DataSchema,
    purpose: Purpose,
    *,
    locations: Sequence[str] | None = None,
    source: str = "input",
) -> pd.DataFrame:
    """Check every cell against the contract and return typed columns in schema order."""
    violations: list[Violation] = list(records.attrs.get("ragged", []))
    if locations is None:
        locations = [f"record {i + 1}" for i in range(len(records))]
    where = np.asarray(locations, dtype=object)
    header_where = "line 1" if source.endswith(".csv") else "columns"

    if len(records) == 0 and not violations:
        raise DataContractError(source, [Violation(header_where, "no records to validate")])

    required = list(schema.feature_columns)
    optional: set[str] = set()
    if purpose is Purpose.TRAINING:
        required = [schema.id_column, *required, schema.target.column]
    else:
        optional = {schema.id_column, schema.target.column}
    present = [str(c) for c in records.columns]
    for name in required:
        if name not in present:
            violations.append(Violation(header_where, f"missing column {name!r}"))
    for name in present:
        if name not in required and name not in optional:
            violations.append(Violation(header_where, f"unexpected column {name!r}"))
    duplicates = sorted({n for n in present if present.count(n) > 1})
    for name in duplicates:
        violations.append(Violation(header_where, f"column {name!r} appears more than once"))
    if duplicates:
        raise DataContractError(source, violations)

    text = {name: _as_text(records[name]) for name in present}
    clean: dict[str, pd.Series] = {}
    blank_filled: dict[str, int] = {}

    def report(mask: np.ndarray, name: str, rule: str) -> None:
        for i in np.flatnonzero(mask):
            violations.append(Violation(str(where[i]), rule, name, records[name].iloc[i]))

    id_name = schema.id_column
    if id_name in text:
        ids = text[id_name]
        report((ids == "").to_numpy(), id_name, "missing id")
        dup = ((ids != "") & ids.duplicated(keep="first")).to_numpy()
        first_seen = {v: where[i] for i, v in reversed(list(enumerate(ids)))}
        for i in np.flatnonzero(dup):
            rule = f"duplicate id, first seen at {first_seen[ids.iloc[i]]}"
            violations.append(Violation(str(where[i]), rule, id_name, records[id_name].iloc[i]))
        clean[id_name] = ids

    parsed = {name: _parse_number(text[name]) for name in schema.numeric if name in text}
    for name, spec in schema.numeric.items():
        if name not in text:
            continue
        values, blank, unparseable = parsed[name]
        report(unparseable, name, "not a number")
        blank_ok = _blank_allowed(spec, parsed, len(records))
        report(blank & ~blank_ok, name, _blank_rule(spec))
        if spec.blank_fill is not None:
            blank_filled[name] = int((blank & blank_ok).sum())
        filled = np.where(blank & blank_ok, spec.blank_fill if spec.blank_fill is not None else np.nan, values)
        report(~np.isfinite(filled) & ~blank & ~unparseable, name, "not a finite number")
        finite = np.isfinite(filled)
        if spec.min is not None or spec.max is not None:
            low = -np.inf if spec.min is None else spec.min
            high = np.inf if spec.max is None else spec.max
            out = finite & ((filled < low) | (filled > high))
            report(out, name, f"out of range [{_num(spec.min, '-inf')}, {_num(spec.max, 'inf')}]")
        if spec.integer:
            report(finite & (np.floor(filled) != filled), name, "must be a whole number")
        clean[name] = pd.Series(filled, index=records.index, dtype="float64")

    for name, allowed in schema.categorical.items():
        if name not in text:
            continue
        cells = text[name]
        report((cells == "").to_numpy(), name, "missing value")
        unknown = ((cells != "") & ~cells.isin(allowed)).to_numpy()
        report(unknown, name, f"unknown category, expected one of {allowed}")
        clean[name] = cells

    target = schema.target
    if purpose is Purpose.TRAINING and target.column in text:
        labels = text[target.column]
        report((labels == "").to_numpy(), target.column, "missing target")
        bad = ((labels != "") & ~labels.isin([target.positive, target.negative])).to_numpy()
        report(bad, target.column, f"target must be {target.positive!r} or {target.negative!r}")
        clean[target.column] = (labels == target.positive).astype("int8")

    if violations:
        raise DataContractError(source, sorted(violations, key=_line_order))
    ordered = [c for c in [id_name, *schema.feature_columns, target.column] if c in clean]
    result = pd.DataFrame({c: clean[c] for c in ordered}).reset_index(drop=True)
    result.attrs["blank_filled"] = blank_filled
    return result


def _as_text(column: pd.Series) -> pd.Series:
    """Cells as trimmed text; None/NaN become '' so that blank means the same from CSV or JSON."""
    text = column.astype("string").str.strip().fillna("")
    return text.astype(object)


def _parse_number(text: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    blank = (text == "").to_numpy()
    values = pd.to_numeric(text.where(~blank, None), errors="coerce").to_numpy(dtype="float64")
    unparseable = np.isnan(values) & ~blank & ~text.str.lower().isin(["nan", "-nan", "+nan"]).to_numpy()
    return values, blank, unparseable


def _blank_allowed(spec: NumericColumn, parsed: dict, n: int) -> np.ndarray:
    cond = spec.blank_allowed_when
    if cond is None or cond.column not in parsed:
        return np.zeros(n, dtype=bool)
    return parsed[cond.column][0] == cond.equals


def _blank_rule(spec: NumericColumn) -> str:
    cond = spec.blank_allowed_when
    if cond is None:
        return "missing value"
    return f"missing value (blank is allowed only when {cond.column} == {_num(cond.equals)})"


def _num(value: float | None, unbounded: str = "") -> str:
    if value is None:
        return unbounded
    return str(int(value)) if float(value).is_integer() else str(value)


def _line_order(v: Violation) -> tuple[int, str]:
    digits = "".join(ch for ch in v.where if ch.isdigit())
    return (int(digits) if digits else 0, v.column or "")
