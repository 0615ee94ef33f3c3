"""Validate raw records against the data contract, reporting every violation at once.

The same code guards the training data (``prepare``) and every request to the
served model, so a record the pipeline would refuse is never scored.
"""

from __future__ import annotations

import csv
import io
import math
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
    """Check every cell against the contract and return a typed frame in schema order."""
    columns, blank_filled = check_records(records, schema, purpose, locations=locations, source=source)
    result = pd.DataFrame(columns)
    result.attrs["blank_filled"] = blank_filled
    return result


def check_records(
    records: pd.DataFrame,
    schema: DataSchema,
    purpose: Purpose,
    *,
    locations: Sequence[str] | None = None,
    source: str = "input",
) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """The checks behind :func:`validate_records`, returning typed columns as arrays and the
    number of blanks filled per column (a served single record skips building a frame)."""
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

    cells_by_row = records.to_numpy(dtype=object)  # one pass: pandas column access is slow for one record
    originals = {name: cells_by_row[:, j].tolist() for j, name in enumerate(present)}
    text = {name: [_as_text(cell) for cell in cells] for name, cells in originals.items()}
    clean: dict[str, list] = {}
    blank_filled: dict[str, int] = {}

    def report(rows: list[int], name: str, rule: str) -> None:
        violations.extend(Violation(str(where[i]), rule, name, originals[name][i]) for i in rows)

    id_name = schema.id_column
    if id_name in text:
        ids = text[id_name]
        report([i for i, v in enumerate(ids) if not v], id_name, "missing id")
        first_seen: dict[str, int] = {}
        for i, value in enumerate(ids):
            if value and value in first_seen:
                report([i], id_name, f"duplicate id, first seen at {where[first_seen[value]]}")
            elif value:
                first_seen[value] = i
        clean[id_name] = ids

    parsed = {name: _parse_numbers(text[name]) for name in schema.numeric if name in text}
    for name, spec in schema.numeric.items():
        if name not in text:
            continue
        values, blank, unparseable = parsed[name]
        report(unparseable, name, "not a number")
        cond = spec.blank_allowed_when
        allowed = cond is not None and cond.column in parsed
        filled = list(values)
        refused, n_filled = [], 0
        for i in blank:
            if allowed and parsed[cond.column][0][i] == cond.equals:
                filled[i] = spec.blank_fill
                n_filled += 1
            else:
                refused.append(i)
        report(refused, name, _blank_rule(spec))
        if spec.blank_fill is not None:
            blank_filled[name] = n_filled
        bad = set(blank) | set(unparseable)
        report([i for i, v in enumerate(filled) if i not in bad and not math.isfinite(v)], name, "not a finite number")
        finite = [i for i, v in enumerate(filled) if math.isfinite(v)]
        if spec.min is not None or spec.max is not None:
            low = -math.inf if spec.min is None else spec.min
            high = math.inf if spec.max is None else spec.max
            rule = f"out of range [{_num(spec.min, '-inf')}, {_num(spec.max, 'inf')}]"
            report([i for i in finite if not low <= filled[i] <= high], name, rule)
        if spec.integer:
            report([i for i in finite if not float(filled[i]).is_integer()], name, "must be a whole number")
        clean[name] = filled

    for name, allowed_values in schema.categorical.items():
        if name not in text:
            continue
        cells, allowed_set = text[name], set(allowed_values)
        report([i for i, v in enumerate(cells) if not v], name, "missing value")
        unknown = [i for i, v in enumerate(cells) if v and v not in allowed_set]
        report(unknown, name, f"unknown category, expected one of {allowed_values}")
        clean[name] = cells

    target = schema.target
    if purpose is Purpose.TRAINING and target.column in text:
        labels = text[target.column]
        report([i for i, v in enumerate(labels) if not v], target.column, "missing target")
        expected = {target.positive, target.negative}
        bad_labels = [i for i, v in enumerate(labels) if v and v not in expected]
        report(bad_labels, target.column, f"target must be {target.positive!r} or {target.negative!r}")
        clean[target.column] = [int(v == target.positive) for v in labels]

    if violations:
        raise DataContractError(source, sorted(violations, key=_line_order))
    ordered = [c for c in [id_name, *schema.feature_columns, target.column] if c in clean]
    return {c: _column(c, clean[c], schema) for c in ordered}, blank_filled


def _as_text(cell: object) -> str:
    """A cell as trimmed text; None and NaN become '' so blank means the same from CSV or JSON."""
    if cell is None or (isinstance(cell, float) and math.isnan(cell)):
        return ""
    return str(cell).strip()


def _parse_numbers(cells: list[str]) -> tuple[list[float], list[int], list[int]]:
    """Values (NaN where blank or unparseable), rows that are blank, rows that are not numbers."""
    values, blank, unparseable = [], [], []
    for i, cell in enumerate(cells):
        if not cell:
            blank.append(i)
            values.append(math.nan)
            continue
        try:
            values.append(float(cell))
        except ValueError:
            unparseable.append(i)
            values.append(math.nan)
    return values, blank, unparseable


def _column(name: str, values: list, schema: DataSchema) -> np.ndarray:
    if name in schema.numeric:
        return np.asarray(values, dtype="float64")
    if name == schema.target.column:
        return np.asarray(values, dtype="int8")
    return np.asarray(values, dtype=object)


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
