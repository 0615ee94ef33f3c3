"""The vectorized contract check against the per-cell one, its reference: on valid records the same
typed columns (names, order, dtypes, values to the bit) and blank counts; on records that break any
rule, ``check_records`` raises exactly the per-cell check's error, every violation's message included.

Records come as a CSV gives them (object cells), as pandas reads text (Arrow strings) and as a JSON
request does (numbers as floats or integers, None for a missing value), each corrupted at random by
every rule of the contract, for the project's schema and for one with every other kind of column."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from pipeline.data import contract
from pipeline.data.contract import CheckedRecords, DataContractError, Purpose, check_records
from pipeline.data.schema import DataSchema
from tests.synthetic import make_customers

KINDS = DataSchema.model_validate(
    {
        "target": {"column": "left", "positive": "yes", "negative": "no"},
        "numeric": {"minutes": {"min": 0, "max": 1000, "blank_fill": 0.0}, "age": {"min": 18, "integer": True}},
        "binary": {"has_app": {"positive": "Y", "negative": "N"}},
        "dates": {"signed_up": {"format": "%Y-%m-%d", "reference": "2024-01-31"}},
        "categorical": {"plan": ["basic", "premium", "(missing)"], "region": ["north", "south"]},
        "missing_level": {"plan": "(missing)"},
        "ignore": ["notes"],
    }
)

Outcome = tuple[str, object]
Corruption = Callable[[pd.DataFrame, np.random.Generator], None]


def _kinds_records(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Valid records of ``KINDS`` (no id column: records are named by their place)."""
    return pd.DataFrame(
        {
            "minutes": [f"{v:.2f}" if v > 50 else "" for v in rng.uniform(0, 1000, n)],
            "age": [str(v) for v in rng.integers(18, 90, n)],
            "has_app": rng.choice(["Y", "N", " Y"], n).astype(object),
            "signed_up": [
                f"2023-{m:02d}-{d:02d}" for m, d in zip(rng.integers(1, 13, n), rng.integers(1, 29, n), strict=True)
            ],
            "plan": rng.choice(["basic", "premium", "", " basic "], n).astype(object),
            "region": rng.choice(["north", "south"], n).astype(object),
            "notes": rng.choice(["", "called", "x"], n).astype(object),
            "left": rng.choice(["yes", "no"], n).astype(object),
        }
    )


def _outcome(
    check: Callable[..., CheckedRecords], records: pd.DataFrame, schema: DataSchema, purpose: Purpose
) -> Outcome:
    try:
        checked = check(records, schema, purpose, source="request")
    except DataContractError as err:
        return "error", (str(err), [str(v) for v in err.violations])
    return "ok", checked


def _same_columns(a: CheckedRecords, b: CheckedRecords) -> None:
    assert list(a.columns) == list(b.columns)
    assert a.blank_filled == b.blank_filled
    for name, left in a.columns.items():
        right = b.columns[name]
        assert (left.dtype, left.shape) == (right.dtype, right.shape), name
        if left.dtype == object:
            assert left.tolist() == right.tolist(), name
            assert [type(v) for v in left.tolist()] == [type(v) for v in right.tolist()], name
        else:
            assert left.tobytes() == right.tobytes(), name  # to the bit: -0.0 and NaN included


def _agree(
    records: pd.DataFrame, schema: DataSchema, purpose: Purpose, monkeypatch: pytest.MonkeyPatch, fast_path: bool = True
) -> bool:
    """Both paths give the same outcome; returns whether the records were valid. ``fast_path``: valid
    records must be taken by the vectorized check."""
    reference = _outcome(functools.partial(check_records, per_cell=True), records, schema, purpose)
    with monkeypatch.context() as patch:
        patch.setattr(contract, "FAST_MIN_ROWS", 1)  # the vectorized check for any number of records
        combined = _outcome(check_records, records, schema, purpose)
    fast = contract._all_valid(records, schema, purpose)
    assert combined[0] == reference[0]
    if reference[0] == "error":
        assert fast is None
        assert combined[1] == reference[1]
        return False
    if fast_path:
        assert fast is not None, "valid records must take the vectorized path"
        _same_columns(fast, reference[1])  # type: ignore[arg-type]
    _same_columns(combined[1], reference[1])  # type: ignore[arg-type]
    return True


def _set(column: str, value: object) -> Corruption:
    def corrupt(frame: pd.DataFrame, rng: np.random.Generator) -> None:
        frame.iat[int(rng.integers(len(frame))), frame.columns.get_loc(column)] = value

    corrupt.__name__ = f"{column}={value!r}"
    return corrupt


def _duplicate_id(padded: bool) -> Corruption:
    def corrupt(frame: pd.DataFrame, rng: np.random.Generator) -> None:
        i, j = rng.choice(len(frame), 2, replace=False)
        frame.iat[int(j), 0] = f" {frame.iat[int(i), 0]} " if padded else frame.iat[int(i), 0]

    return corrupt


def _new_customer_without_charges(tenure: str) -> Corruption:
    """A blank TotalCharges: allowed (and 0.0) only when tenure is 0."""

    def corrupt(frame: pd.DataFrame, rng: np.random.Generator) -> None:
        i = int(rng.integers(len(frame)))
        frame.loc[frame.index[i], ["tenure", "TotalCharges"]] = [tenure, " "]

    return corrupt


TELCO: list[Corruption] = [
    _set("tenure", "twelve"),
    _set("tenure", "-3"),
    _set("tenure", "2.5"),
    _set("tenure", "121"),
    _set("tenure", ""),
    _set("tenure", " 12 "),  # valid: cells are trimmed
    _set("tenure", "1_2"),  # valid: Python reads it as 12
    _set("tenure", "-0"),  # valid, and -0.0 to the bit
    _set("MonthlyCharges", "inf"),
    _set("MonthlyCharges", "nan"),
    _set("MonthlyCharges", "1e400"),
    _set("MonthlyCharges", "0x10"),
    _set("MonthlyCharges", "500.0000001"),
    _set("MonthlyCharges", None),
    _set("SeniorCitizen", "2"),
    _set("TotalCharges", ""),
    _new_customer_without_charges("0"),  # valid
    _new_customer_without_charges("7"),
    _set("Contract", "Monthly"),
    _set("Contract", ""),
    _set("Contract", " One year "),  # valid
    _set("Contract", "one year"),
    _set("gender", None),
    _set("customerID", ""),
    _set("customerID", "   "),
    _duplicate_id(padded=False),
    _duplicate_id(padded=True),
]

KINDS_CORRUPTIONS: list[Corruption] = [
    _set("minutes", "-1"),
    _set("minutes", "abc"),
    _set("minutes", ""),  # valid: a blank is 0.0
    _set("age", "17"),
    _set("age", "30.5"),
    _set("age", ""),
    _set("has_app", "yes"),
    _set("has_app", ""),
    _set("signed_up", "2023-02-30"),
    _set("signed_up", "31/01/2023"),
    _set("signed_up", ""),
    _set("signed_up", " 2023-01-05 "),
    _set("plan", "gold"),
    _set("plan", None),  # valid: the missing level
    _set("region", ""),
    _set("notes", "anything"),  # valid: ignored
    _set("left", "maybe"),
    _set("left", ""),
]


def _as_json(frame: pd.DataFrame, schema: DataSchema, rng: np.random.Generator) -> pd.DataFrame:
    """Records as a JSON request gives them: some numeric columns as numbers (floats, or integers when
    whole), missing values as None (NaN in a float column)."""
    frame = frame.copy()
    for name in schema.numeric:
        if name in frame and rng.random() < 0.7:
            cells = frame[name].tolist()
            try:
                numbers = [float(c) if str(c).strip() else None for c in cells]
            except (TypeError, ValueError):
                continue  # a corrupted cell stays text: the column is of mixed types, as JSON allows
            whole = all(v is not None and v.is_integer() and abs(v) < 2**53 for v in numbers)
            frame[name] = [int(v) for v in numbers] if whole and rng.random() < 0.5 else numbers  # type: ignore[arg-type]
    return frame


def _variants(frame: pd.DataFrame, schema: DataSchema, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    return {
        "object cells (a CSV)": frame.astype(object),
        "Arrow strings (pandas)": frame.astype("str"),
        "numbers (JSON)": _as_json(frame.astype(object), schema, rng),
    }


@pytest.mark.parametrize(
    ("schema_name", "purpose"),
    [("telco", Purpose.SCORING), ("telco", Purpose.TRAINING), ("kinds", Purpose.SCORING), ("kinds", Purpose.TRAINING)],
)
def test_fast_and_per_cell_checks_agree_on_corrupted_records(
    schema: DataSchema, schema_name: str, purpose: Purpose, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(2026)
    valid = invalid = 0
    for case in range(60):
        n = int(rng.choice([1, 2, 5, 40]))
        if schema_name == "telco":
            used, corruptions = schema, TELCO
            frame = make_customers(schema, n=n, seed=case)
            if purpose is Purpose.SCORING and rng.random() < 0.5:
                frame = frame.drop(columns=[schema.target.column])
        else:
            used, corruptions = KINDS, KINDS_CORRUPTIONS
            frame = _kinds_records(n, rng)
        frame = frame.astype(object)
        for k in rng.choice(len(corruptions), int(rng.integers(0, 3)), replace=False):
            corruptions[int(k)](frame, rng)
        for variant, records in _variants(frame, used, rng).items():
            try:
                ok = _agree(records, used, purpose, monkeypatch)
            except AssertionError as err:
                raise AssertionError(f"case {case}, {variant}:\n{records}") from err
            valid += ok
            invalid += not ok
    assert valid > 20 and invalid > 20  # both outcomes were exercised


@pytest.mark.parametrize(
    ("change", "vectorized"),
    [
        (lambda f: f.drop(columns=["tenure"]), False),
        (lambda f: f.assign(Favourite="blue"), False),
        (lambda f: f.set_axis([*f.columns[:-1], f.columns[0]], axis=1), False),  # a column twice
        (lambda f: f.astype({"tenure": "Int64"}), False),  # pandas' nullable integers: left to the per-cell check
        (lambda f: f.iloc[:0], False),
        (lambda f: f.astype({"MonthlyCharges": "float32"}), True),  # read as text, as the per-cell check does
        (lambda f: f.astype({"gender": "category"}), False),
    ],
)
def test_headers_and_unusual_columns(
    schema: DataSchema,
    change: Callable[[pd.DataFrame], pd.DataFrame],
    vectorized: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = make_customers(schema, n=40, seed=4).drop(columns=[schema.target.column])
    frame[["tenure", "MonthlyCharges"]] = frame[["tenure", "MonthlyCharges"]].astype("float64")
    records = change(frame)
    _agree(records, schema, Purpose.SCORING, monkeypatch, fast_path=vectorized)
    assert (contract._all_valid(records, schema, Purpose.SCORING) is not None) == vectorized


def test_a_batch_is_checked_by_the_fast_path(schema: DataSchema, monkeypatch: pytest.MonkeyPatch) -> None:
    """``check_records`` takes the vectorized check from ``FAST_MIN_ROWS`` records on, and the per-cell
    one below, when asked, or when a CSV's reading already found violations."""
    records = make_customers(schema, n=contract.FAST_MIN_ROWS, seed=8)
    per_cell: list[int] = []

    class Counted(contract._Cells):
        def __init__(self, *args: object) -> None:
            per_cell.append(1)
            super().__init__(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(contract, "_Cells", Counted)
    check_records(records, schema, Purpose.TRAINING)
    assert per_cell == []
    check_records(records.head(contract.FAST_MIN_ROWS - 1), schema, Purpose.TRAINING)
    check_records(records, schema, Purpose.TRAINING, per_cell=True)
    assert per_cell == [1, 1]
    with pytest.raises(DataContractError, match="line 9: has 3 fields"):
        ragged = contract.Violation("line 9", "has 3 fields, the header has 22")
        check_records(records, schema, Purpose.TRAINING, earlier=[ragged])
    assert per_cell == [1, 1, 1]
