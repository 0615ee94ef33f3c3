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
from pipeline.config import Params
from pipeline.data.schema import DataSchema
from tests.conftest import REPO, SMALL_BUDGETS, STAGES, set_params, use_project
from tests.other_churn import PARAMS, make_other_customers, project_words, set_dotted, words_in

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
    assert report.startswith("# Optimizing Northwind Mobile's churn network: report")
    assert "checks all 11 columns before anything is trained" in report  # 10 features and the target, no id
    assert "annual fee (cut at " in report and "probability x annual fee / 12 x 12" in report
    assert "A k-means clustering of the columns plan_tier, intl_plan and state (k = " in report


def test_no_word_of_the_projects_data_in_the_report_or_its_diagrams(adapted: Path) -> None:
    """Nothing in the templates or the diagrams is written for teleconnect.csv: the other dataset's report
    and draw.io files name none of the project's columns, its value column in words, its file or its company."""
    words = project_words(DataSchema.from_yaml(REPO / "data" / "schema.yaml"))
    texts = {"docs/REPORT.md": (adapted / "docs" / "REPORT.md").read_text()}
    texts |= {f"drawio/{p.name}": p.read_text() for p in sorted((adapted / "drawio").glob("*.drawio"))}
    assert len(texts) == 7  # the report and its six diagrams
    assert {name: words_in(text, words) for name, text in texts.items()} == {name: [] for name in texts}


def test_high_value_starts_at_the_training_median_of_the_value_column(adapted: Path) -> None:
    """segment.value_cut left at its default, {quantile: 0.5}: the cut is the yearly fee's median on the
    training split, and every customer at or above it is in a high-value segment."""
    raw = pd.read_csv(adapted / "data" / "raw" / "customers.csv")
    scored = pd.read_csv(adapted / "data" / "scored" / "customers.csv")
    fee = raw["annual_fee"].to_numpy()[scored["row"].to_numpy() - 1]
    cut = np.quantile(fee[(scored["split"] == "train").to_numpy()], 0.5)
    segments = Params.load(adapted / "params.yaml").segment.segments
    high = {segments[c].name for c in ("high_risk_high_value", "low_risk_high_value")}
    np.testing.assert_array_equal(scored["segment"].isin(high), fee >= cut)
    assert f"annual fee (cut at {cut:g}, about the median)" in (adapted / "docs" / "REPORT.md").read_text()
