"""Segments partition the customers by the cut points and separate churners when the signal is real."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Params, SegmentConfig
from pipeline.data.contract import Purpose, validate_records
from pipeline.data.schema import DataSchema
from pipeline.segmentation import personas, segments
from tests.conftest import REPO
from tests.synthetic import make_customers

Signal = tuple[np.ndarray, np.ndarray, np.ndarray]


@pytest.fixture(scope="module")
def cfg() -> SegmentConfig:
    return Params.load(REPO / "params.yaml").segment.model_copy(update={"value_cut": 70.0})


@pytest.fixture(scope="module")
def known_signal() -> Signal:
    """Churn drawn from a probability we know, and a monthly value unrelated to it."""
    rng = np.random.default_rng(3)
    probability = rng.beta(1.2, 3.0, 5000)
    churned = (rng.random(5000) < probability).astype(int)
    value = rng.uniform(18, 120, 5000)
    return probability, churned, value


def test_every_customer_gets_exactly_one_segment_by_the_cut_points(cfg: SegmentConfig, known_signal: Signal) -> None:
    probability, _, value = known_signal
    cells = segments.cell(probability, value, cfg)
    assert set(cells) == set(segments.CELLS)
    high_risk = probability >= cfg.risk_cut
    high_value = value >= cfg.cut
    assert np.array_equal(np.char.startswith(cells.astype(str), "high_risk"), high_risk)
    assert np.array_equal(np.char.endswith(cells.astype(str), "high_value"), high_value)
    assigned = segments.assign(probability, value, cfg)
    assert len(assigned) == len(probability) and assigned["segment"].notna().all()
    assert set(assigned["segment"]) == {spec.name for spec in cfg.segments.values()}
    np.testing.assert_allclose(assigned["revenue_at_risk"], probability * value * cfg.horizon_months)


def test_actual_churn_is_higher_in_high_risk_segments(cfg: SegmentConfig, known_signal: Signal) -> None:
    probability, churned, value = known_signal
    assigned = segments.assign(probability, value, cfg)
    table = segments.evidence(assigned["segment"], probability, churned, assigned["revenue_at_risk"].to_numpy())
    rates = dict(zip(table["segment"], table["actual_churn_rate"], strict=True))
    names = {cell: spec.name for cell, spec in cfg.segments.items()}
    for high in ("high_risk_high_value", "high_risk_low_value"):
        for low in ("low_risk_high_value", "low_risk_low_value"):
            assert rates[names[high]] > rates[names[low]] + 0.2
    assert table["customers"].sum() == len(probability)
    assert table["share"].sum() == pytest.approx(1.0)


def test_deciles_and_gains(known_signal: Signal) -> None:
    probability, churned, _ = known_signal
    table = segments.deciles(probability, churned)
    assert table["customers"].sum() == len(probability)
    assert table.loc[0, "lift"] > 2 > 1 > table.loc[9, "lift"]
    assert table["cumulative_share_of_churners"].iloc[-1] == pytest.approx(1.0)
    targeted, reached = segments.gains(probability, churned)
    assert reached[0] == 0 and reached[-1] == pytest.approx(1.0)
    assert np.all(np.diff(reached) >= 0)
    assert reached[20] > targeted[20]  # better than random targeting
    top = segments.churners_reached(probability, churned, 0.2)
    assert top == pytest.approx(reached[20] * churned.sum(), abs=1)


def test_personas_are_chosen_by_silhouette_and_survive_json(schema: DataSchema, cfg: SegmentConfig) -> None:
    frame = validate_records(make_customers(schema, n=600, seed=8), schema, Purpose.TRAINING)
    columns = {c: schema.categorical[c] for c in cfg.persona_columns}
    fitted = personas.fit(frame, columns, (2, 4), seed=0)
    assert set(fitted.silhouettes) == {2, 3, 4}
    assert fitted.silhouettes[fitted.k] == max(fitted.silhouettes.values())
    assert fitted.silhouette == max(fitted.silhouettes.values())
    labels = fitted.assign(frame)
    assert set(labels) <= set(range(1, fitted.k + 1)) and len(labels) == len(frame)
    again = personas.Personas.from_json(fitted.to_json())
    assert np.array_equal(again.assign(frame), labels)
    described = fitted.describe(frame)
    assert described["customers"].sum() == len(frame)
    assert all(isinstance(d, str) and "=" in d for d in described["defining"])
    assert described["name"].is_unique and described["name"].str.len().gt(0).all()


def test_churners_reached_per_campaign_size_and_model() -> None:
    churned = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    good = np.linspace(1, 0, 10)  # targets rows 0, 1, 2, ... first
    reached = segments.churners_reached_at({"champion": good, "baseline": -good}, churned, [0.2, 0.5])
    # top 20 %: rows 0-1 (2 churners) against rows 9-8 (none); top 50 %: rows 0-4 (3) against rows 9-5 (none)
    assert reached == {"top_20pct": {"champion": 2, "baseline": 0}, "top_50pct": {"champion": 3, "baseline": 0}}


def test_evidence_comes_from_the_rows_given_only(cfg: SegmentConfig, known_signal: Signal) -> None:
    probability, churned, value = known_signal
    assigned = segments.assign(probability, value, cfg)
    rows = np.zeros(len(probability), dtype=bool)
    rows[::5] = True
    noise = np.random.default_rng(0).random(len(probability))  # a ranking that knows nothing
    found = segments.evidence_on(rows, assigned, probability, noise, churned, [0.1, 0.2])
    assert found.segments["customers"].sum() == rows.sum()
    alone = segments.evidence(
        assigned["segment"][rows], probability[rows], churned[rows], assigned["revenue_at_risk"][rows].to_numpy()
    )
    pd.testing.assert_frame_equal(found.segments, alone)
    assert set(found.deciles) == set(found.gains) == {"champion", "baseline"}
    pd.testing.assert_frame_equal(found.deciles["baseline"], segments.deciles(noise[rows], churned[rows]))
    assert set(found.churners_reached) == {"top_10pct", "top_20pct"}
    reached = found.churners_reached["top_20pct"]
    assert reached["champion"] > reached["baseline"] * 1.5  # the true probability ranks far better than noise
    assert found.gains["champion"][1][20] > found.gains["baseline"][1][20]


def test_the_evidence_summary_keeps_the_headline_numbers_per_segment(cfg: SegmentConfig, known_signal: Signal) -> None:
    probability, churned, value = known_signal
    assigned = segments.assign(probability, value, cfg)
    table = segments.evidence(assigned["segment"], probability, churned, assigned["revenue_at_risk"].to_numpy())
    summary = segments.summarize(table)
    assert list(summary) == table["segment"].tolist()  # riskiest segment first, as in the table
    for row in table.itertuples():
        assert summary[row.segment] == {
            "customers": float(row.customers),
            "predicted_churn_rate": pytest.approx(row.predicted_churn_rate),
            "actual_churn_rate": pytest.approx(row.actual_churn_rate),
            "lift": pytest.approx(row.lift),
        }


def test_persona_by_segment_counts_each_customer_once() -> None:
    persona = pd.Series([1, 1, 2, 2, 2], name="persona")
    segment = pd.Series(["Grow", "Retain", "Grow", "Grow", "Retain"], name="segment")
    table = personas.by_segment(persona, segment)
    assert list(table.columns) == ["persona", "Grow", "Retain"]
    assert table.set_index("persona").loc[2].tolist() == [2, 1]
    assert table[["Grow", "Retain"]].to_numpy().sum() == len(persona)


PERSONA_COLUMNS = {
    "Contract": ["Month-to-month", "One year", "Two year"],
    "InternetService": ["DSL", "Fiber optic", "No"],
    "TechSupport": ["No", "No internet service", "Yes"],
    "PaymentMethod": ["Bank transfer (automatic)", "Credit card (automatic)", "Electronic check", "Mailed check"],
}
# three groups of 100 customers, each of a few kinds: (Contract, InternetService, TechSupport, PaymentMethod) ->
# customers. The shares make each group's ranking unambiguous, e.g. month-to-month: 100 % of its group vs 33 %
# overall, ahead of fiber optic: 100 % vs 37 %, as some DSL customers have fiber optic too.
KNOWN_GROUPS = {
    "no internet service, mailed check payment": {
        ("Two year", "No", "No internet service", "Mailed check"): 70,
        ("One year", "No", "No internet service", "Credit card (automatic)"): 30,
    },
    "month-to-month contract, fiber optic internet": {
        ("Month-to-month", "Fiber optic", "No", "Electronic check"): 70,
        ("Month-to-month", "Fiber optic", "Yes", "Bank transfer (automatic)"): 30,
    },
    "DSL internet, tech support": {
        ("One year", "DSL", "Yes", "Credit card (automatic)"): 60,
        ("Two year", "DSL", "Yes", "Bank transfer (automatic)"): 30,
        ("Two year", "Fiber optic", "Yes", "Credit card (automatic)"): 10,
    },
}


def _known_customers() -> pd.DataFrame:
    rows = [(*kind, group) for group, kinds in KNOWN_GROUPS.items() for kind, n in kinds.items() for _ in range(n)]
    return pd.DataFrame(rows, columns=[*PERSONA_COLUMNS, "group"])


def test_personas_are_named_after_their_most_over_represented_traits() -> None:
    frame = _known_customers()
    fitted = personas.fit(frame, PERSONA_COLUMNS, (3, 3), seed=0)
    names = fitted.describe(frame).set_index("persona")["name"]
    most = pd.crosstab(frame["group"], fitted.assign(frame)).idxmax(axis=1)  # a group's customers: mostly one persona
    assert {group: names[persona] for group, persona in most.items()} == {group: group for group in KNOWN_GROUPS}


def test_persona_names_are_stable_across_runs_and_row_orders() -> None:
    frame = _known_customers()
    first = personas.fit(frame, PERSONA_COLUMNS, (2, 4), seed=0).describe(frame)
    assert first.equals(personas.fit(frame, PERSONA_COLUMNS, (2, 4), seed=0).describe(frame))
    shuffled = frame.sample(frac=1.0, random_state=5)
    again = personas.fit(shuffled, PERSONA_COLUMNS, (2, 4), seed=0).describe(shuffled)
    assert sorted(again["name"]) == sorted(first["name"])


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("TechSupport", "Yes", "tech support"),
        ("TechSupport", "No", "no tech support"),
        ("StreamingTV", "Yes", "streaming TV"),
        ("OnlineBackup", "No internet service", "no internet service"),
        ("Contract", "Month-to-month", "month-to-month contract"),
        ("InternetService", "DSL", "DSL internet"),
        ("PaymentMethod", "Credit card (automatic)", "credit card payment"),
    ],
)
def test_a_trait_reads_as_words_made_from_the_contract_names(column: str, value: str, words: str) -> None:
    assert personas.phrase(column, value) == words


def test_names_are_unique_even_when_the_leading_traits_coincide() -> None:
    phrases = [["a", "b", "a", "c"], ["a", "b", "d"], ["e", "f"], ["e", "f"]]
    assert personas.unique_names(phrases) == ["a, b, c", "a, b, d", "e, f (3)", "e, f (4)"]


def test_segment_names_and_actions_are_looked_up_per_cell(cfg: SegmentConfig, known_signal: Signal) -> None:
    """``names_and_actions`` (the served model's) gives each customer his cell's name and action, as a
    lookup of ``cell`` would, including at the cut points exactly."""
    probability, _, value = known_signal
    probability = np.r_[probability, cfg.risk_cut, cfg.risk_cut, 0.0]
    value = np.r_[value, cfg.cut, 0.0, cfg.cut]
    names, actions = segments.names_and_actions(probability, value, cfg)
    cells = segments.cell(probability, value, cfg)
    assert names.dtype == object and actions.dtype == object
    assert names.tolist() == [cfg.segments[c].name for c in cells]
    assert actions.tolist() == [cfg.segments[c].action for c in cells]
    assert cells[-3:].tolist() == ["high_risk_high_value", "high_risk_low_value", "low_risk_high_value"]
