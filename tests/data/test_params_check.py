"""Every column params.yaml names is checked against the schema by ``prepare``, before any data is read."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.config import Params
from pipeline.data.params_check import ParamsSchemaError, check_params
from pipeline.data.schema import DataSchema
from tests.conftest import REPO
from tests.other_churn import set_dotted

CATEGORICAL = ["gender", "Partner", "Dependents", "PhoneService", "MultipleLines", "InternetService",
               "OnlineSecurity", "OnlineBackup", "DeviceProtection", "TechSupport", "StreamingTV",
               "StreamingMovies", "Contract", "PaperlessBilling", "PaymentMethod"]  # fmt: skip
NUMERIC = ["SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges"]


def _params(tmp_path: Path, changes: dict[str, object]) -> Params:
    path = tmp_path / "params.yaml"
    shutil.copy(REPO / "params.yaml", path)
    set_dotted(path, changes)
    return Params.load(path)


def test_the_projects_params_fit_its_schema(tmp_path: Path, schema: DataSchema) -> None:
    check_params(_params(tmp_path, {}), schema)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"segment.value_column": "Revenue"},
            [f"segment.value_column: column 'Revenue' is not in data/schema.yaml; "
             f"numeric columns that would fit: {NUMERIC}"],
        ),
        (
            {"segment.persona_columns": ["Contract", "tenure", "customerID"]},
            [f"segment.persona_columns[1]: column 'tenure' is numeric, not categorical; "
             f"categorical columns that would fit: {CATEGORICAL}",
             f"segment.persona_columns[2]: column 'customerID' is the id column, not categorical; "
             f"categorical columns that would fit: {CATEGORICAL}"],
        ),
        (
            {"evaluate.error_analysis.columns": ["Churn"], "evaluate.error_analysis.bands": {"Contract": [0, 1]}},
            [f"evaluate.error_analysis.columns[0]: column 'Churn' is the target, not categorical or binary; "
             f"categorical or binary columns that would fit: {CATEGORICAL}",
             f"evaluate.error_analysis.bands.Contract: column 'Contract' is categorical, not numeric or date; "
             f"numeric or date columns that would fit: {NUMERIC}"],
        ),
    ],
)  # fmt: skip
def test_a_column_that_does_not_fit_names_parameter_column_and_fitting_columns(
    tmp_path: Path, schema: DataSchema, changes: dict, expected: list[str]
) -> None:
    with pytest.raises(ParamsSchemaError) as info:
        check_params(_params(tmp_path, changes), schema)
    assert [str(v) for v in info.value.violations] == expected
    assert str(info.value).startswith(f"{tmp_path / 'params.yaml'} breaks the data contract")


@pytest.mark.slow  # on a project (conftest.HEAVY_FIXTURES)
def test_prepare_stops_at_once_and_writes_nothing(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    set_dotted(project / "params.yaml", {"segment.value_column": "monthly_fee"})
    assert main(["prepare"]) == 2
    assert (
        "params.yaml: segment.value_column: column 'monthly_fee' is not in data/schema.yaml" in capsys.readouterr().err
    )
    assert not (project / "data" / "prepared").exists() and not (project / "mlflow.db").exists()
