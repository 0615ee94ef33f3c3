"""docs/ADAPT.md followed to the letter on a generated churn dataset shaped unlike teleconnect.csv
(tests/other_churn.py): draft the schema, set the documented parameters, run every stage at the
tests' small budgets. Minutes: marked slow."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.cli import main
from tests.conftest import REPO, SMALL_BUDGETS, STAGES, set_params, use_project
from tests.other_churn import PARAMS, make_other_customers, set_dotted

pytestmark = [pytest.mark.slow]

CUSTOMERS = 800


@pytest.fixture(scope="module")
def adapted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("adapt") / "project"
    (root / "data" / "raw").mkdir(parents=True)
    make_other_customers(n=CUSTOMERS, seed=0).to_csv(root / "data" / "raw" / "customers.csv", index=False)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    shutil.copy(REPO / "dvc.yaml", root / "dvc.yaml")
    with pytest.MonkeyPatch.context() as mp:
        use_project(root, mp)
        assert main(["schema", "draft", "data/raw/customers.csv", "--target", "churned", "--output",
                     "data/schema.yaml"]) == 0  # fmt: skip  # docs/ADAPT.md step 2; its review notes need no edit
        set_params(root, SMALL_BUDGETS)  # the tests' budgets, not a step of the page
        set_dotted(root / "params.yaml", {"paths.raw_data": "data/raw/customers.csv", **PARAMS})  # step 4
        for stage in STAGES:
            assert main([stage]) == 0, stage
    return root


def test_every_customer_is_scored_and_named_by_row(adapted: Path) -> None:
    scored = pd.read_csv(adapted / "data" / "scored" / "customers.csv")
    assert scored.columns[0] == "row"  # no id column in the data
    assert sorted(scored["row"]) == list(range(1, CUSTOMERS + 1))


def test_revenue_at_risk_reads_the_yearly_value_as_yearly(adapted: Path) -> None:
    """A yearly fee over a 12-month horizon: revenue at risk is the probability times one year's fee."""
    raw = pd.read_csv(adapted / "data" / "raw" / "customers.csv")
    scored = pd.read_csv(adapted / "data" / "scored" / "customers.csv")
    fee = raw["annual_fee"].to_numpy()[scored["row"].to_numpy() - 1]
    np.testing.assert_allclose(scored["revenue_at_risk"], scored["churn_probability"] * fee, atol=0.006)


def test_the_report_renders_with_the_datasets_columns(adapted: Path) -> None:
    report = (adapted / "docs" / "REPORT.md").read_text()
    assert "plan_tier" in report and "state=S" in report  # personas are described by the dataset's columns
