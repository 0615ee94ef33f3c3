"""What real data needs beyond numbers and closed lists: optional ids, blanks as a level, binary
and date columns, ignored columns, unconditional blank fills; the same rules in training and scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from pipeline.data.contract import DataContractError, Purpose, as_raw, load_dataset, validate_records
from pipeline.data.schema import ROW, DataSchema
from pipeline.features.preprocessing import Preprocessor

SCHEMA = {
    "target": {"column": "left", "positive": "yes", "negative": "no"},
    "numeric": {"minutes": {"min": 0, "max": 1000, "blank_fill": 0.0}},
    "binary": {"has_app": {"positive": "Y", "negative": "N"}},
    "dates": {"signed_up": {"format": "%Y-%m-%d", "reference": "2024-01-31"}},
    "categorical": {"plan": ["basic", "premium", "(missing)"]},
    "missing_level": {"plan": "(missing)"},
    "ignore": ["notes"],
}
CSV = """minutes,has_app,signed_up,plan,notes,left
12.5,Y,2024-01-01,basic,called twice,yes
,N,2023-01-31,,,no
300,N,2024-01-31,premium,,no
"""


@pytest.fixture
def kinds() -> DataSchema:
    return DataSchema.model_validate(SCHEMA)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "customers.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_kind_is_checked_and_typed(tmp_path: Path, kinds: DataSchema) -> None:
    frame = load_dataset(_write(tmp_path, CSV), kinds).frame()
    assert list(frame.columns) == [ROW, "minutes", "has_app", "signed_up", "plan", "left"]  # notes: ignored
    assert frame[ROW].tolist() == [1, 2, 3]  # no id column: customers are named by their record number
    assert frame["minutes"].tolist() == [12.5, 0.0, 300.0]  # blank_fill without a condition fills every blank
    assert frame["has_app"].tolist() == [1.0, 0.0, 0.0]
    assert frame["signed_up"].tolist() == [30.0, 365.0, 0.0]  # age in days at the reference date
    assert frame["plan"].tolist() == ["basic", "(missing)", "premium"]
    assert frame["left"].tolist() == [1, 0, 0]


def test_encoded_inputs_of_the_new_kinds(tmp_path: Path, kinds: DataSchema) -> None:
    frame = load_dataset(_write(tmp_path, CSV), kinds).frame()
    pre = Preprocessor.fit(frame, kinds)
    assert pre.feature_names == [
        "minutes", "has_app", "signed_up", "plan=basic", "plan=premium", "plan=(missing)",
    ]  # fmt: skip
    assert pre.transform(frame)[:, 5].tolist() == [0.0, 1.0, 0.0]


def test_scoring_applies_the_same_rules(kinds: DataSchema) -> None:
    records = pd.DataFrame({"minutes": ["", "4"], "has_app": ["N", "Y"], "signed_up": ["2024-01-30", "2024-01-01"],
                            "plan": [None, "basic"]})  # fmt: skip
    frame = validate_records(records, kinds, Purpose.SCORING)
    assert frame[ROW].tolist() == [1, 2]
    assert frame["plan"].tolist() == ["(missing)", "basic"]
    np.testing.assert_array_equal(frame["signed_up"], [1.0, 30.0])


def test_bad_cells_of_the_new_kinds(tmp_path: Path, kinds: DataSchema) -> None:
    bad = CSV.replace("12.5,Y,2024-01-01", "12.5,maybe,01/01/2024").replace("300,N,2024-01-31", "300,N,")
    with pytest.raises(DataContractError) as info:
        load_dataset(_write(tmp_path, bad), kinds)
    assert [str(v) for v in info.value.violations] == [
        "line 2: column 'has_app': value 'maybe': must be 'Y' or 'N'",
        "line 2: column 'signed_up': value '01/01/2024': not a date in the format '%Y-%m-%d'",
        "line 4: column 'signed_up': value '': missing value",
    ]


def test_a_blank_categorical_without_a_missing_level_is_refused(tmp_path: Path) -> None:
    strict = DataSchema.model_validate({**SCHEMA, "missing_level": {}})
    with pytest.raises(DataContractError, match="line 3: column 'plan': value '': missing value"):
        load_dataset(_write(tmp_path, CSV), strict)


def test_an_undeclared_column_is_refused_unless_ignored(tmp_path: Path) -> None:
    unignored = DataSchema.model_validate({**SCHEMA, "ignore": []})
    with pytest.raises(DataContractError, match="line 1: unexpected column 'notes'"):
        load_dataset(_write(tmp_path, CSV), unignored)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"missing_level": {"plan": "none"}}, "missing_level plan: 'none' must be one of"),
        ({"ignore": ["minutes"]}, r"columns declared twice: \['minutes'\]"),
        ({"numeric": {"row": {}}}, "without an id_column, records are named 'row'"),
        (
            {"numeric": {"m": {"blank_allowed_when": {"column": "x", "equals": 0}}}},
            "blank_allowed_when needs blank_fill",
        ),
    ],
)
def test_inconsistent_schemas_are_refused(change: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DataSchema.model_validate({**SCHEMA, **change})


def test_the_schema_travels_with_the_model_as_json(kinds: DataSchema) -> None:
    assert DataSchema.from_json(kinds.to_json()) == kinds  # dates included: the served model reads it back


def test_checked_records_go_back_to_cells_that_pass_the_contract_again(tmp_path: Path, kinds: DataSchema) -> None:
    """The served model's input example and SHAP background are checked records stored as raw cells."""
    checked = load_dataset(_write(tmp_path, CSV), kinds).frame()
    features = checked[kinds.feature_columns]
    raw = as_raw(features, kinds)
    assert raw["has_app"].tolist() == ["Y", "N", "N"] and raw["signed_up"].tolist()[0] == "2024-01-01"
    again = validate_records(raw, kinds, Purpose.SCORING).drop(columns=ROW)
    pd.testing.assert_frame_equal(again, features)
    with pytest.raises(DataContractError, match="must be 'Y' or 'N'"):  # the checked form itself would not pass
        validate_records(features, kinds, Purpose.SCORING)
