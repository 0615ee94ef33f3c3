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
from datetime import datetime, timedelta
from enum import Enum
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.types import infer_dtype

from pipeline.data.schema import ROW, BinaryColumn, DataSchema, DateColumn, NumericColumn


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


@dataclass(frozen=True)
class RawRecords:
    """A CSV as text cells, where each record came from, and the lines that could not be records."""

    frame: pd.DataFrame
    locations: list[str]
    ragged: list[Violation]


@dataclass(frozen=True)
class CheckedRecords:
    """Typed columns in schema order (arrays: a served single record skips building a frame), and
    how many blanks the contract filled per column."""

    columns: dict[str, np.ndarray]
    blank_filled: dict[str, int]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.columns)


def read_csv_records(path: str | Path) -> RawRecords:
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
    return RawRecords(pd.DataFrame(rows, columns=header, dtype=object), locations, ragged)


def load_dataset(path: str | Path, schema: DataSchema) -> CheckedRecords:
    """Read and validate a training CSV; the result is clean and typed."""
    raw = read_csv_records(path)
    return check_records(raw.frame, schema, Purpose.TRAINING, locations=raw.locations, source=str(path),
                         earlier=raw.ragged)  # fmt: skip


def validate_records(
    records: pd.DataFrame,
    schema: DataSchema,
    purpose: Purpose,
    *,
    locations: Sequence[str] | None = None,
    source: str = "input",
) -> pd.DataFrame:
    """Check every cell against the contract and return a typed frame in schema order."""
    return check_records(records, schema, purpose, locations=locations, source=source).frame()


def as_raw(frame: pd.DataFrame, schema: DataSchema) -> pd.DataFrame:
    """Checked records back as the cells a file or request holds (binary columns as their labels,
    dates in their format), so they pass the contract again: how the served model stores its input
    example and SHAP background. Other columns are the same checked or raw."""
    raw = frame.copy()
    for name, binary in schema.binary.items():
        if name in raw:
            raw[name] = np.where(raw[name].to_numpy() == 1.0, binary.positive, binary.negative).astype(object)
    for name, when in schema.dates.items():
        if name in raw:
            raw[name] = [(when.reference - timedelta(days=int(age))).strftime(when.format) for age in raw[name]]
    return raw


FAST_MIN_ROWS = 200
"""From this many records on, ``check_records`` first tries the vectorized check: below, the per-cell
path is faster (its cost per column is lower; they break even at about 200 records of the project's
schema), and a served single record takes it."""


def check_records(
    records: pd.DataFrame,
    schema: DataSchema,
    purpose: Purpose,
    *,
    locations: Sequence[str] | None = None,
    source: str = "input",
    earlier: Sequence[Violation] = (),
    per_cell: bool = False,
) -> CheckedRecords:
    """Every rule of the contract over every cell; raise with all violations (``earlier``: found
    while reading, such as ragged CSV lines), else return the typed columns.

    Batches are first checked column by column in NumPy and pandas (``_all_valid``), which decides
    whether every cell is valid and then gives the same typed columns; when anything is invalid
    (or the input is of a kind it does not handle) the check goes cell by cell in Python, and names
    every violation. ``per_cell``: only that check (the reference the vectorized one is tested against)."""
    if not per_cell and not earlier and len(records) >= FAST_MIN_ROWS:
        checked = _all_valid(records, schema, purpose)
        if checked is not None:
            return checked
    header_where = "line 1" if source.endswith(".csv") else "columns"
    violations = list(earlier)
    if len(records) == 0 and not violations:
        raise DataContractError(source, [Violation(header_where, "no records to validate")])
    present = [str(c) for c in records.columns]
    violations += _check_header(present, schema, purpose, header_where)
    if any(present.count(n) > 1 for n in present):
        raise DataContractError(source, violations)  # cells cannot be told apart by column

    cells = _Cells(records, present, locations)
    clean, blank_filled = _check_cells(cells, schema, purpose, len(records))
    violations += cells.violations
    if violations:
        raise DataContractError(source, sorted(violations, key=_line_order))
    ordered = [c for c in schema.columns if c in clean]
    return CheckedRecords({c: _column(c, clean[c], schema) for c in ordered}, blank_filled)


def _check_cells(
    cells: _Cells, schema: DataSchema, purpose: Purpose, rows: int
) -> tuple[dict[str, list], dict[str, int]]:
    """Each column's cells by the rule of its kind, violations collected in ``cells``: the parsed values
    by column, and how many blanks each numeric column with a fill had filled."""
    clean: dict[str, list] = {}
    blank_filled: dict[str, int] = {}
    if schema.id_column is None:
        clean[ROW] = list(range(1, rows + 1))
    elif schema.id_column in cells.text:
        clean[schema.id_column] = _check_ids(cells, schema.id_column)
    parsed = {name: _parse_numbers(cells.text[name]) for name in schema.numeric if name in cells.text}
    for name, spec in schema.numeric.items():
        if name in parsed:
            clean[name], filled = _check_numeric(cells, name, spec, parsed)
            if spec.blank_fill is not None:
                blank_filled[name] = filled
    for name, binary in schema.binary.items():
        if name in cells.text:
            clean[name] = _check_binary(cells, name, binary)
    for name, when in schema.dates.items():
        if name in cells.text:
            clean[name] = _check_date(cells, name, when)
    for name, allowed in schema.categorical.items():
        if name in cells.text:
            clean[name] = _check_categorical(cells, name, allowed, schema.missing_level.get(name))
    if purpose is Purpose.TRAINING and schema.target.column in cells.text:
        clean[schema.target.column] = _check_target(cells, schema)
    return clean, blank_filled


class _UnusualError(Exception):
    """Raised inside the vectorized check: something the per-cell check must decide and name."""


def _all_valid(records: pd.DataFrame, schema: DataSchema, purpose: Purpose) -> CheckedRecords | None:
    """The typed columns ``check_records_per_cell`` returns, if every cell of ``records`` is valid; None
    if anything is wrong or unusual (a bad header, a column of a dtype not handled here, any invalid
    cell), so that the per-cell check decides and names it. Each column's distinct cells are checked
    once, in Python, and their results spread to the rows in NumPy."""
    present = [str(c) for c in records.columns]
    if len(records) == 0 or _check_header(present, schema, purpose, "columns"):
        return None
    columns = {name: records.iloc[:, j] for j, name in enumerate(present)}
    if not all(_arrow_text(column) or _plain(column) for column in columns.values()):
        return None
    try:
        clean = _fast_ids(columns, schema, len(records))
        numeric, blank_filled = _fast_numeric(columns, schema)
        clean |= numeric | _fast_labels(columns, schema, purpose) | _fast_dates(columns, schema)
        clean |= _fast_categorical(columns, schema)
    except _UnusualError:
        return None
    ordered = [c for c in schema.columns if c in clean]
    return CheckedRecords({c: clean[c] for c in ordered}, blank_filled)


def _fast_ids(columns: dict[str, pd.Series], schema: DataSchema, rows: int) -> dict[str, np.ndarray]:
    if schema.id_column is None:
        return {ROW: np.arange(1, rows + 1, dtype="int64")}
    if schema.id_column not in columns:
        return {}
    codes, ids = _coded_texts(columns[schema.id_column])
    if len(ids) != rows or len(set(ids.tolist()) - {""}) != len(ids):
        raise _UnusualError  # a repeated or missing id
    return {schema.id_column: ids[codes]}


def _fast_numeric(columns: dict[str, pd.Series], schema: DataSchema) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    parsed: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in schema.numeric:
        if name in columns:
            numbers = _numbers(columns[name])
            if numbers is None:
                raise _UnusualError
            parsed[name] = numbers
    clean: dict[str, np.ndarray] = {}
    blank_filled: dict[str, int] = {}
    for name, spec in schema.numeric.items():
        if name in parsed:
            valid = _valid_numbers(spec, parsed[name], parsed)
            if valid is None:
                raise _UnusualError
            clean[name], filled = valid
            if spec.blank_fill is not None:
                blank_filled[name] = filled
    return clean, blank_filled


def _fast_labels(columns: dict[str, pd.Series], schema: DataSchema, purpose: Purpose) -> dict[str, np.ndarray]:
    labels: dict[str, tuple[set[str], dict[str, float | int]]] = {}
    for name, binary in schema.binary.items():
        labels[name] = ({binary.positive, binary.negative}, {binary.positive: 1.0, binary.negative: 0.0})
    if purpose is Purpose.TRAINING:
        target = schema.target
        labels[target.column] = ({target.positive, target.negative}, {target.positive: 1, target.negative: 0})
    clean: dict[str, np.ndarray] = {}
    for name, (allowed, value) in labels.items():
        if name in columns:
            codes, texts = _coded_texts(columns[name])
            if not all(text and text in allowed for text in texts.tolist()):
                raise _UnusualError
            dtype = "int8" if name == schema.target.column else "float64"
            clean[name] = np.asarray([value[text] for text in texts.tolist()], dtype=dtype)[codes]
    return clean


def _fast_dates(columns: dict[str, pd.Series], schema: DataSchema) -> dict[str, np.ndarray]:
    clean: dict[str, np.ndarray] = {}
    for name, when in schema.dates.items():
        if name in columns:
            codes, texts = _coded_texts(columns[name])
            try:
                ages = [float((when.reference - datetime.strptime(t, when.format).date()).days) for t in texts.tolist()]
            except ValueError:
                raise _UnusualError from None
            clean[name] = np.asarray(ages, dtype="float64")[codes]
    return clean


def _fast_categorical(columns: dict[str, pd.Series], schema: DataSchema) -> dict[str, np.ndarray]:
    clean: dict[str, np.ndarray] = {}
    for name, levels in schema.categorical.items():
        if name in columns:
            codes, texts = _coded_texts(columns[name])
            missing_level = schema.missing_level.get(name)
            if missing_level is not None:
                texts = np.asarray([t or missing_level for t in texts.tolist()], dtype=object)
            known = set(levels)
            if not all(text and text in known for text in texts.tolist()):
                raise _UnusualError
            clean[name] = texts[codes]
    return clean


def _arrow_text(column: pd.Series) -> bool:
    """pandas' text columns (``read_csv(dtype=str)``, strings in a JSON request), held by Arrow."""
    return isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow"


def _plain(column: pd.Series) -> bool:
    """NumPy columns of objects, floats, integers or booleans (not pandas' nullable ones, whose missing
    value is ``pd.NA``: left to the per-cell check)."""
    return isinstance(column.dtype, np.dtype) and column.dtype.kind in "Obif"


def _coded_texts(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A column's cells as ``_texts`` gives them, coded: each cell's index into its distinct texts, and
    those texts (object array of ``str``; two of them may be equal once trimmed)."""
    if _arrow_text(column):  # Arrow finds the distinct cells; a missing one (null) is text '', as NaN is
        cells = pa.array(column.array)
        if isinstance(cells, pa.ChunkedArray):  # a frame concatenated from several holds several chunks
            cells = cells.combine_chunks()
        encoded = cells.dictionary_encode(null_encoding="encode")
        distinct = encoded.dictionary.to_pylist()
        texts = [cell.strip() if cell is not None else "" for cell in distinct]
        return encoded.indices.to_numpy(zero_copy_only=False), np.asarray(texts, dtype=object)
    cells = column.to_numpy()
    if cells.dtype == object and infer_dtype(cells, skipna=False) == "string":
        codes, distinct = pd.factorize(cells)  # text cells (a CSV's): trim the distinct ones
        return codes, np.asarray([cell.strip() for cell in distinct.tolist()], dtype=object)
    codes, distinct = pd.factorize(np.asarray(_texts(cells.tolist()), dtype=object))
    return codes, np.asarray(distinct, dtype=object)


def _numbers(column: pd.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Values (NaN where blank) and where the blanks are, as ``_parse_numbers`` reads them; None if a
    cell is not a number. Float and integer columns (a JSON request's numbers) are their own values:
    a float's text reads back as the same float, an integer's as the same rounding."""
    if column.dtype == np.float64 or column.dtype.kind == "i":
        values = column.to_numpy(dtype="float64", copy=True)
        return values, np.isnan(values)
    codes, texts = _coded_texts(column)
    numbers = np.empty(len(texts), dtype="float64")
    for k, text in enumerate(texts.tolist()):
        try:
            numbers[k] = float(text) if text else math.nan
        except ValueError:
            return None
    blank = np.asarray([not text for text in texts.tolist()], dtype=bool)
    return numbers[codes], blank[codes]


def _valid_numbers(
    spec: NumericColumn, numbers: tuple[np.ndarray, np.ndarray], parsed: dict[str, tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, int] | None:
    """``_check_numeric``'s rules over a whole column: the values with the blanks filled and how many
    were, or None if a rule is broken."""
    values, blank = numbers
    filled = values.copy()
    if blank.any():
        cond = spec.blank_allowed_when
        if spec.blank_fill is None:
            return None
        if cond is not None and (cond.column not in parsed or not np.all(parsed[cond.column][0][blank] == cond.equals)):
            return None
        filled[blank] = spec.blank_fill
    finite = np.isfinite(filled)
    if not np.all(finite | blank):
        return None  # infinite, or NaN written as a number
    checked = filled[finite]
    low = -math.inf if spec.min is None else spec.min
    high = math.inf if spec.max is None else spec.max
    if not np.all((low <= checked) & (checked <= high)):
        return None
    if spec.integer and not np.all(np.floor(checked) == checked):
        return None
    return filled, int(blank.sum())


class _Cells:
    """The records as text, by column, and the violations found in them, each with its record's place."""

    def __init__(self, records: pd.DataFrame, present: list[str], locations: Sequence[str] | None) -> None:
        by_row = records.to_numpy(dtype=object)  # one pass: pandas column access is slow for one record
        self.originals = {name: by_row[:, j].tolist() for j, name in enumerate(present)}
        self.text = {name: _texts(column) for name, column in self.originals.items()}
        self.where = list(locations) if locations is not None else [f"record {i + 1}" for i in range(len(records))]
        self.violations: list[Violation] = []

    def report(self, rows: Sequence[int], name: str, rule: str) -> None:
        self.violations.extend(Violation(self.where[i], rule, name, self.originals[name][i]) for i in rows)


def _check_header(present: list[str], schema: DataSchema, purpose: Purpose, where: str) -> list[Violation]:
    """Missing, unexpected and repeated columns; what is required depends on the records' purpose."""
    required = [*schema.feature_columns]
    optional = set(schema.ignore)
    ids = [schema.id_column] if schema.id_column is not None else []
    if purpose is Purpose.TRAINING:
        required = [*ids, *required, schema.target.column]
    else:
        optional |= {*ids, schema.target.column}
    found = [Violation(where, f"missing column {name!r}") for name in required if name not in present]
    found += [Violation(where, f"unexpected column {n!r}") for n in present if n not in required and n not in optional]
    repeated = sorted({n for n in present if present.count(n) > 1})
    return found + [Violation(where, f"column {name!r} appears more than once") for name in repeated]


def _check_ids(cells: _Cells, name: str) -> list[str]:
    ids = cells.text[name]
    cells.report([i for i, v in enumerate(ids) if not v], name, "missing id")
    first_seen: dict[str, int] = {}
    for i, value in enumerate(ids):
        if value and value in first_seen:
            cells.report([i], name, f"duplicate id, first seen at {cells.where[first_seen[value]]}")
        elif value:
            first_seen[value] = i
    return ids


def _check_numeric(
    cells: _Cells, name: str, spec: NumericColumn, parsed: dict[str, tuple[list[float], list[int], list[int]]]
) -> tuple[list[float], int]:
    """Parse, fill the blanks the contract allows, check finiteness, range and wholeness; returns the
    values and how many blanks were filled."""
    values, blank, unparseable = parsed[name]
    cells.report(unparseable, name, "not a number")
    cond = spec.blank_allowed_when
    filled, refused = list(values), []
    for i in blank:
        if spec.blank_fill is not None and (
            cond is None or (cond.column in parsed and parsed[cond.column][0][i] == cond.equals)
        ):
            filled[i] = spec.blank_fill
        else:
            refused.append(i)
    cells.report(refused, name, _blank_rule(spec))
    bad = set(blank) | set(unparseable)
    cells.report(
        [i for i, v in enumerate(filled) if i not in bad and not math.isfinite(v)], name, "not a finite number"
    )
    finite = [i for i, v in enumerate(filled) if math.isfinite(v)]
    if spec.min is not None or spec.max is not None:
        low = -math.inf if spec.min is None else spec.min
        high = math.inf if spec.max is None else spec.max
        rule = f"out of range [{_num(spec.min, '-inf')}, {_num(spec.max, 'inf')}]"
        cells.report([i for i in finite if not low <= filled[i] <= high], name, rule)
    if spec.integer:
        cells.report([i for i in finite if not float(filled[i]).is_integer()], name, "must be a whole number")
    return filled, len(blank) - len(refused)


def _check_binary(cells: _Cells, name: str, spec: BinaryColumn) -> list[float]:
    values = cells.text[name]
    cells.report([i for i, v in enumerate(values) if not v], name, "missing value")
    cells.report([i for i, v in enumerate(values) if v and v not in {spec.positive, spec.negative}], name,
                 f"must be {spec.positive!r} or {spec.negative!r}")  # fmt: skip
    return [1.0 if v == spec.positive else 0.0 for v in values]


def _check_date(cells: _Cells, name: str, spec: DateColumn) -> list[float]:
    """Age in days at the reference date; a blank or a date not in the format is a violation."""
    ages, unparseable = [], []
    for i, value in enumerate(cells.text[name]):
        try:
            ages.append(float((spec.reference - datetime.strptime(value, spec.format).date()).days))
        except ValueError:
            ages.append(math.nan)
            unparseable.append(i)
    cells.report([i for i in unparseable if not cells.text[name][i]], name, "missing value")
    cells.report([i for i in unparseable if cells.text[name][i]], name, f"not a date in the format {spec.format!r}")
    return ages


def _check_categorical(cells: _Cells, name: str, allowed: Sequence[str], missing_level: str | None) -> list[str]:
    values, known = cells.text[name], set(allowed)
    if missing_level is not None:  # a blank is a level of its own (the schema's missing_level)
        values = [v or missing_level for v in values]
    cells.report([i for i, v in enumerate(values) if not v], name, "missing value")
    cells.report([i for i, v in enumerate(values) if v and v not in known], name,
                 f"unknown category, expected one of {allowed}")  # fmt: skip
    return values


def _check_target(cells: _Cells, schema: DataSchema) -> list[int]:
    target = schema.target
    labels = cells.text[target.column]
    cells.report([i for i, v in enumerate(labels) if not v], target.column, "missing target")
    cells.report([i for i, v in enumerate(labels) if v and v not in {target.positive, target.negative}],
                 target.column, f"target must be {target.positive!r} or {target.negative!r}")  # fmt: skip
    return [int(v == target.positive) for v in labels]


def _texts(column: list) -> list[str]:
    """``_as_text`` of every cell: text cells (a CSV's, a JSON request's strings) in a faster pass."""
    if all(type(cell) is str for cell in column):
        return [cell.strip() for cell in column]
    return [_as_text(cell) for cell in column]


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
    if name in schema.numeric_inputs:
        return np.asarray(values, dtype="float64")
    if name == ROW and schema.id_column is None:
        return np.asarray(values, dtype="int64")
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
