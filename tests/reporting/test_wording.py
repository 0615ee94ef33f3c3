"""The report's words about the data come from the schema and params.yaml: for the project's own data they
are today's, for another dataset its own, and no template or reporting code names the project's data."""

from __future__ import annotations

import json

import pytest

from pipeline.config import Params
from pipeline.data.schema import DataSchema
from pipeline.reporting import facts as report_facts
from pipeline.reporting.facts import ValueAxis
from pipeline.reporting.notebook import NOTEBOOK
from pipeline.segmentation.summaries import ValueCutSummary
from tests.conftest import REPO
from tests.other_churn import project_words, words_in

MEDIAN = ValueCutSummary(amount=70.4, training_share_below=0.488)  # the project's training split


@pytest.fixture(scope="module")
def params() -> Params:
    return Params.load(REPO / "params.yaml")


def test_the_projects_words_are_todays(params: Params, schema: DataSchema) -> None:
    facts = report_facts.data_facts(params, schema, MEDIAN)
    assert (facts.checked_columns, facts.ignored_columns, facts.feature_columns) == (21, 0, 19)
    assert facts.split == "60/20/20"
    assert facts.value == ValueAxis("monthly charges", 70.4, "about the median", "probability x monthly charges x 12")
    assert facts.persona_columns == "the service and contract columns"
    assert facts.high_risk_segments == ["Retain now", "Nurture"]


def test_another_datasets_words_are_its_own(params: Params) -> None:
    seg = params.segment.model_copy(update={"value_column": "annual_fee", "value_unit": "year"})
    other = params.model_copy(
        update={"segment": seg.model_copy(update={"persona_columns": ["plan_tier", "intl_plan", "state"]}),
                "report": params.report.model_copy(update={"persona_columns_text": None})}
    )  # fmt: skip
    schema = DataSchema.model_validate(
        {"target": {"column": "churned", "positive": "yes", "negative": "no"},
         "numeric": {"annual_fee": {}}, "categorical": {"plan_tier": ["basic"], "intl_plan": ["no"], "state": ["S"]},
         "ignore": ["notes", "phone"]}
    )  # fmt: skip
    facts = report_facts.data_facts(other, schema, ValueCutSummary(amount=250.0, training_share_below=0.7))
    assert (facts.checked_columns, facts.ignored_columns) == (5, 2)  # no id column
    assert facts.value.words == "annual fee" and facts.value.position == "about the 70th percentile"
    assert facts.value.revenue_at_risk == "probability x annual fee / 12 x 12"
    assert facts.persona_columns == "the columns plan_tier, intl_plan and state"
    lifetime = report_facts.value_facts(seg.model_copy(update={"value_unit": "lifetime"}), MEDIAN)
    assert lifetime.revenue_at_risk == "probability x annual fee"


@pytest.mark.parametrize(
    ("share", "words"),
    [(0.5, "about the median"), (0.45, "about the median"), (0.3, "about the 30th percentile"),
     (0.21, "about the 21st percentile"), (0.12, "about the 12th percentile"), (0.923, "about the 92nd percentile")],
)  # fmt: skip
def test_where_a_cut_sits(share: float, words: str) -> None:
    assert report_facts.position(share) == words


def test_lists_read_as_prose() -> None:
    assert [report_facts.listed(n) for n in (["a"], ["a", "b"], ["a", "b", "c"])] == ["a", "a and b", "a, b and c"]


def test_no_template_nor_reporting_code_names_the_projects_data(schema: DataSchema) -> None:
    """What the report, the diagrams and the notebook say of the data comes from the schema and params.yaml
    (tests/test_other_dataset.py checks the rendered text of another dataset)."""
    reporting = REPO / "pipeline" / "reporting"
    sources = {p.relative_to(REPO).as_posix(): p.read_text() for p in sorted(reporting.rglob("*.py"))}
    templates = [*reporting.rglob("*.j2"), *reporting.rglob("*.drawio")]  # the report's and the diagrams'
    sources |= {p.relative_to(REPO).as_posix(): p.read_text() for p in sorted(templates)}
    cells = json.loads((REPO / NOTEBOOK).read_text())["cells"]
    sources[str(NOTEBOOK)] = "\n".join("".join(c["source"]) for c in cells)
    words = project_words(schema)
    assert {name: words_in(text, words) for name, text in sources.items()} == {name: [] for name in sources}
