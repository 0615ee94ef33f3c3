"""The report's tables on hand-built evidence (tests/reporting/handmade.py): no registry, no pipeline run.

Each test states the cells a table must hold, so a wrong column, a wrong format or a wrong verdict fails.
"""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.evaluation.summary import BASELINE, BLEND
from pipeline.reporting import tables
from pipeline.reporting.tables import Column, table
from tests.reporting import handmade


def cells(t: tables.Table) -> dict[str, dict[str, str]]:
    """First cell -> column title -> cell."""
    return {row[0]: dict(zip(t.header, row, strict=True)) for row in t.rows}


def test_one_renderer_writes_titles_and_cells_from_the_same_columns() -> None:
    columns: list[Column[tuple[str, float]]] = [
        Column("Name", lambda r: r[0]),
        Column("Value", lambda r: f"{r[1]:.2f}"),
        Column("Note", lambda r: "a | b"),
    ]
    built = table("demo", columns, [("x", 1.0), ("y", 22.5)])
    assert built.header == ["Name", "Value", "Note"]
    assert built.markdown().splitlines() == [
        "<!-- table: demo -->",
        "| Name | Value | Note |",
        "|---|---:|---|",  # numbers right-aligned, never the first column
        "| x | 1.00 | a \\| b |",
        "| y | 22.50 | a \\| b |",
    ]


def test_resampled_order_is_baseline_then_networks_best_first_then_references() -> None:
    order = tables.resampled_order(handmade.summary())
    assert order == [BASELINE, "adam", "sgd", BLEND, "gradient_boosting", "logistic_regression"]


def test_the_verdicts_table_states_each_comparison_by_the_gates_rules() -> None:
    found = cells(tables.resampled_verdicts(handmade.evidence()))
    assert list(found) == ["adam (champion)", "sgd", BLEND, "gradient_boosting", "logistic_regression"]
    assert found["adam (champion)"] == {
        "Model": "adam (champion)",
        "Log loss minus baseline [95 % CI]": "-0.0050 [-0.0080, -0.0020]",
        "p (networks: one-sided, Holm; references: two-sided)": "0.008",  # Holm's p, not the raw 0.004
        "Minimal detectable difference": "0.0031",
        "P(better)": "0.970",
        "P(equivalent)": "0.030",
        "P(worse)": "0.000",
        "Cost, share of baseline's": "10%",
        "Verdict": "significantly better (champion)",
    }
    assert (
        found["sgd"]["Verdict"] == "worse"
        and found["sgd"]["p (networks: one-sided, Holm; references: two-sided)"] == "1"
    )
    reference = found["logistic_regression"]  # never in Holm's family: its own two-sided p, no MDD, no cost
    p, mdd, cost = (
        "p (networks: one-sided, Holm; references: two-sided)",
        "Minimal detectable difference",
        "Cost, share of baseline's",
    )
    assert [reference[k] for k in (p, mdd, cost, "Verdict")] == ["0.2", "n/a", "n/a", "undecided"]


@pytest.mark.parametrize(
    ("champion", "route", "cheap", "adam", "sgd"),
    [
        ("adam", "better", (), "significantly better (champion)", "worse"),
        ("sgd", "equivalent_and_cheaper", ("sgd",), "significantly better",
         "practically equivalent, materially cheaper (champion)"),
        ("baseline", "none", (), "significantly better", "practically equivalent, not materially cheaper"),
    ],
)  # fmt: skip
def test_verdict_words(champion: str, route: str, cheap: tuple[str, ...], adam: str, sgd: str) -> None:
    summary = handmade.summary(champion, route, cheap)  # type: ignore[arg-type]
    if sgd.startswith("practically equivalent"):  # sgd made equivalent: P(equivalent) at the gate's 0.95
        standing = summary.models["sgd"]
        posterior = standing.posterior.model_copy(update={"equivalent": 0.96, "worse": 0.03})  # type: ignore[union-attr]
        summary = summary.model_copy(
            update={"models": summary.models | {"sgd": standing.model_copy(update={"posterior": posterior})}}
        )
    assert (tables.verdict(summary, "adam"), tables.verdict(summary, "sgd")) == (adam, sgd)


def test_the_gate_table_names_the_route_and_says_none_for_empty_lists() -> None:
    found = cells(tables.gate(handmade.evidence("baseline", "none")))
    assert found["Champion"]["Value"] == "baseline (the baseline stays)"
    assert found["Practically equivalent and materially cheaper"]["Value"] == "none"
    assert found["Rows per fold: training, held out"]["Value"] == "4,000, 1,000"
    assert found["The ROPE in campaign value, per 1,000 customers"]["Value"] == "200 (the baseline's campaign: 15,000)"
    assert cells(tables.gate(handmade.evidence()))["Champion"]["Value"] == "adam (significantly better)"


def test_confirmation_sets_resampled_beside_test() -> None:
    found = cells(tables.confirmation(handmade.evidence()))
    test = "Test: log loss minus baseline [paired bootstrap 95 % CI]"
    assert found["adam (champion)"][test] == "-0.0040 [-0.0070, -0.0010]"
    assert found["gradient_boosting"][test] == "reference"  # scored on test, without a paired difference
    assert found[BLEND][test] == "not scored on test"


def test_the_campaign_rules_table_leads_from_the_second_row_and_drops_the_existing_rule_for_a_baseline_champion() -> (
    None
):
    lead = "The plan's lead over it [paired 95 % CI]"
    found = cells(tables.campaign_rules(handmade.evidence()))
    assert list(found) == ["expected net value", "churn probability", "existing model's probability", "random"]
    assert found["expected net value"][lead] == ""  # the plan itself
    assert found["existing model's probability"][lead] == "+500 [-300, +1,300]"
    assert found["random"]["Scaled to the whole base (x 5.00, an assumption)"] == "25,000"
    assert (found["expected net value"]["Best size in hindsight"], found["random"]["Its net value"]) == ("280", "")
    assert "existing model's probability" not in cells(tables.campaign_rules(handmade.evidence("baseline", "none")))


def test_churners_reached_has_one_column_when_the_champion_is_the_baseline() -> None:
    two = tables.churners_reached(handmade.evidence())
    assert two.header == ["Campaign reaches the", "Churners reached: champion", "Baseline"]
    assert two.rows[1] == ["riskiest 20 %", "90", "91"]
    one = tables.churners_reached(handmade.evidence("baseline", "none"))
    assert one.header == ["Campaign reaches the", "Churners reached: champion (the baseline)"]
    assert one.rows[0] == ["riskiest 10 %", "50"]


def test_sensitivity_is_success_rate_by_contact_cost() -> None:
    found = tables.campaign_sensitivity(handmade.evidence())
    assert found.header == ["Success rate", "Contact cost 5", "Contact cost 10"]
    assert found.rows == [["10 %", "9,950 (5.0 %)", "9,900 (5.0 %)"], ["30 %", "29,950 (15.0 %)", "29,900 (15.0 %)"]]


def test_segments_format_counts_rates_and_money() -> None:
    frame = pd.DataFrame([{"segment": "Retain now", "customers": 200.0, "share": 0.125, "predicted_churn_rate": 0.61,
                           "actual_churn_rate": 0.585, "lift": 2.345, "revenue_at_risk": 12345.6}])  # fmt: skip
    built = tables.segments(handmade.evidence(segment_tables={"segments_test": frame}), {"Retain now": "call"})
    assert built.rows == [["Retain now", "200", "12.5", "61.0", "58.5", "2.35", "12,346", "call"]]
