"""Every kind of contract violation is reported with line, column, value and rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.data.contract import DataContractError, Purpose, load_dataset, validate_records
from pipeline.data.schema import DataSchema
from tests.synthetic import make_customers, write_csv


@pytest.fixture
def good(schema: DataSchema) -> pd.DataFrame:
    return make_customers(schema, n=40, seed=3)


def _violations(path: Path, schema: DataSchema) -> list[str]:
    with pytest.raises(DataContractError) as info:
        load_dataset(path, schema)
    return [str(v) for v in info.value.violations]


def _csv(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "customers.csv"
    write_csv(frame, path)
    return path


def test_valid_file_loads_with_types(tmp_path: Path, schema: DataSchema, good: pd.DataFrame) -> None:
    clean = load_dataset(_csv(tmp_path, good), schema).frame()
    assert list(clean.columns) == schema.columns
    assert len(clean) == len(good)
    for name in schema.numeric:
        assert clean[name].dtype == np.float64
    assert set(clean[schema.target.column]) <= {0, 1}


@pytest.mark.parametrize(
    ("column", "bad_value", "rule"),
    [
        ("tenure", "twelve", "not a number"),
        ("tenure", "-3", "out of range [0, 120]"),
        ("tenure", "2.5", "must be a whole number"),
        ("MonthlyCharges", "inf", "not a finite number"),
        ("Contract", "Monthly", "unknown category"),
        ("Contract", "", "missing value"),
        ("Churn", "", "missing target"),
        ("Churn", "Maybe", "target must be 'Yes' or 'No'"),
        ("customerID", "", "missing id"),
    ],
)
def test_bad_cell_names_line_column_value_and_rule(
    tmp_path: Path, schema: DataSchema, good: pd.DataFrame, column: str, bad_value: str, rule: str
) -> None:
    good.loc[6, column] = bad_value
    messages = _violations(_csv(tmp_path, good), schema)
    assert len(messages) == 1
    assert messages[0].startswith(f"line 8: column {column!r}: value {bad_value!r}: {rule}")


def test_every_violation_is_reported_at_once(tmp_path: Path, schema: DataSchema, good: pd.DataFrame) -> None:
    good.loc[0, "tenure"] = "abc"
    good.loc[5, "gender"] = "Robot"
    good.loc[9, "customerID"] = good.loc[2, "customerID"]
    messages = _violations(_csv(tmp_path, good), schema)
    assert messages == [
        "line 2: column 'tenure': value 'abc': not a number",
        f"line 7: column 'gender': value 'Robot': unknown category, expected one of {schema.categorical['gender']}",
        f"line 11: column 'customerID': value {good.loc[2, 'customerID']!r}: duplicate id, first seen at line 4",
    ]


def test_blank_total_charges_is_zero_only_for_new_customers(tmp_path: Path, schema: DataSchema) -> None:
    frame = make_customers(schema, n=30, seed=5)
    frame.loc[0, "tenure"], frame.loc[0, "TotalCharges"] = "0", " "
    checked = load_dataset(_csv(tmp_path, frame), schema)
    assert checked.frame().loc[0, "TotalCharges"] == 0.0
    assert checked.blank_filled["TotalCharges"] >= 1

    frame.loc[1, "tenure"], frame.loc[1, "TotalCharges"] = "7", " "
    messages = _violations(_csv(tmp_path, frame), schema)
    assert messages == [
        "line 3: column 'TotalCharges': value ' ': missing value (blank is allowed only when tenure == 0)"
    ]


def test_missing_and_unexpected_columns(tmp_path: Path, schema: DataSchema, good: pd.DataFrame) -> None:
    frame = good.drop(columns=["PaymentMethod"]).assign(Favourite="blue")
    messages = _violations(_csv(tmp_path, frame), schema)
    assert "line 1: missing column 'PaymentMethod'" in messages
    assert "line 1: unexpected column 'Favourite'" in messages


def test_empty_file(tmp_path: Path, schema: DataSchema) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    assert _violations(path, schema) == ["line 1: the file is empty"]


def test_header_only(tmp_path: Path, schema: DataSchema) -> None:
    path = tmp_path / "header.csv"
    path.write_text(",".join(schema.columns) + "\n")
    assert _violations(path, schema) == ["line 2: the file has a header but no records"]


def test_not_utf8(tmp_path: Path, schema: DataSchema, good: pd.DataFrame) -> None:
    path = _csv(tmp_path, good)
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"Male", b"M\xe4le", 1).replace(b"Female", b"F\xe9male", 1)
    path.write_bytes(b"\n".join(lines))
    [message] = _violations(path, schema)
    assert message.startswith("line 4: not UTF-8 text")


def test_ragged_row(tmp_path: Path, schema: DataSchema, good: pd.DataFrame) -> None:
    path = _csv(tmp_path, good)
    lines = path.read_text().splitlines()
    lines[4] += ",extra"
    path.write_text("\n".join(lines) + "\n")
    assert _violations(path, schema) == [
        f"line 5: has {len(schema.columns) + 1} fields, the header has {len(schema.columns)}"
    ]


def test_crlf_and_whitespace_give_identical_results(tmp_path: Path, schema: DataSchema, good: pd.DataFrame) -> None:
    lf = tmp_path / "lf.csv"
    crlf = tmp_path / "crlf.csv"
    write_csv(good, lf)
    padded = good.map(lambda cell: f"  {cell} ")
    write_csv(padded, crlf, line_terminator="\r\n")
    assert b"\r\n" in crlf.read_bytes()
    pd.testing.assert_frame_equal(load_dataset(lf, schema).frame(), load_dataset(crlf, schema).frame())


def test_scoring_records_from_json_values(schema: DataSchema, good: pd.DataFrame) -> None:
    """Records as a served model receives them: numbers as numbers, no target, no id."""
    records = good.drop(columns=["Churn", "customerID"]).copy()
    for name in schema.numeric:
        records[name] = pd.to_numeric(records[name].str.strip().replace("", "0"))
    clean = validate_records(records, schema, Purpose.SCORING)
    assert list(clean.columns) == schema.feature_columns
    records.loc[2, "Contract"] = "Weekly"
    with pytest.raises(DataContractError, match=r"record 3: column 'Contract': value 'Weekly': unknown category"):
        validate_records(records, schema, Purpose.SCORING)
