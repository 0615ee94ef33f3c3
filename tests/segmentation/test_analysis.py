"""Every customer scored once by a stand-in model; evidence only from the test rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Params, SegmentConfig
from pipeline.data.contract import Purpose, validate_records
from pipeline.data.schema import DataSchema
from pipeline.features.preprocessing import Preprocessor
from pipeline.segmentation import analysis, campaign, segments
from tests.conftest import REPO
from tests.synthetic import make_customers

SCORED_COLUMNS = [
    "split", "unseen_in_training", "churn_probability", "segment", "action", "persona", "persona_name",
    "revenue_at_risk", "expected_value", "contact", "reason_1", "reason_2", "reason_3",
]  # fmt: skip


@pytest.fixture(scope="module")
def cfg() -> SegmentConfig:
    small = {"persona_k": (2, 3), "shap_background": 20, "permutation_repeats": 1}
    return Params.load(REPO / "params.yaml").segment.model_copy(update=small)


def test_scored_table_rounds_and_names_each_customer(cfg: SegmentConfig) -> None:
    customers = pd.DataFrame({"id": ["c1", "c2", "c3"], "split": ["train", "test", "validation"]})
    probability = np.array([0.1234567, 0.9, 0.5])
    value = np.array([30.0, 100.0, 80.0])
    assigned = segments.assign(probability, value, cfg.resolved(value))
    expected = np.array([-1.234, 12.345678, 0.004])
    described = pd.DataFrame({"persona": [1, 2], "name": ["savers", "streamers"]})
    reasons = [["r1", "r2", "r3"], ["s1", "s2", "s3"], ["t1", "t2", "t3"]]
    table = analysis.scored_table(customers, "id", probability, assigned, expected, np.array([2, 1, 2]), described,
                                  reasons)  # fmt: skip
    assert list(table.columns) == ["id", *SCORED_COLUMNS]
    assert table["unseen_in_training"].tolist() == [False, True, False]
    assert table["churn_probability"].tolist() == [0.123457, 0.9, 0.5]
    assert table["persona_name"].tolist() == ["streamers", "savers", "streamers"]
    assert table["expected_value"].tolist() == [-1.23, 12.35, 0.0]
    assert table["contact"].tolist() == [False, True, False]  # decided on the value shown, 0.00
    assert table["revenue_at_risk"].tolist() == list(assigned["revenue_at_risk"].round(2))
    assert table["reason_2"].tolist() == ["r2", "s2", "t2"]


@pytest.mark.slow  # seconds of SHAP and permutations
def test_every_customer_is_scored_once_and_the_evidence_is_from_test_only(
    schema: DataSchema, cfg: SegmentConfig
) -> None:
    frame = validate_records(make_customers(schema, n=300, seed=11), schema, Purpose.TRAINING)
    splits = {"train": frame.iloc[:180], "validation": frame.iloc[180:240], "test": frame.iloc[240:]}
    pre = Preprocessor.fit(frame, schema)
    weights = np.random.default_rng(1).normal(size=pre.n_features)

    def champion(columns: dict[str, np.ndarray]) -> np.ndarray:  # a non-linear stand-in for the network
        return 1 / (1 + np.exp(-np.tanh(pre.transform(columns) @ weights) * 3))

    def baseline(columns: dict[str, np.ndarray]) -> np.ndarray:
        return np.full(len(next(iter(columns.values()))), 0.3)  # ranks nobody above anybody

    result = analysis.segment_customers(splits, schema, cfg, champion, baseline)
    scored, ids = result.scored, schema.id_column
    assert list(scored.columns) == [ids, *SCORED_COLUMNS]
    assert sorted(scored[ids]) == sorted(frame[ids])
    assert set(scored.loc[scored["unseen_in_training"], ids]) == set(splits["test"][ids])
    p = champion({c: frame[c].to_numpy() for c in schema.feature_columns})
    np.testing.assert_allclose(scored["churn_probability"], p.round(6))
    value = frame[cfg.value_column].to_numpy("float64")
    expected = campaign.net_value(p, value, cfg.campaign, cfg.horizon_months)
    assert scored["contact"].tolist() == campaign.contact(expected).tolist()
    assert result.evidence.segments["customers"].sum() == len(splits["test"])
    assert result.described["customers"].sum() == len(splits["train"])  # personas described on train
    assert set(result.importance.index) == set(schema.feature_columns)
    assert result.explanations.values.shape == (len(frame), len(schema.feature_columns))
    crossed = result.persona_by_segment.set_index("persona")
    assert crossed.to_numpy().sum() == len(frame) and set(crossed.columns) == set(scored["segment"])
    assert set(result.drivers["segment"]) == set(scored["segment"])
