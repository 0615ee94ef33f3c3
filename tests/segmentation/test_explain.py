"""SHAP values add up to the model's output, and reasons read as sentences about real columns."""

from __future__ import annotations

import numpy as np

from pipeline.data.contract import Purpose, validate_records
from pipeline.data.schema import DataSchema
from pipeline.features.preprocessing import Preprocessor
from pipeline.segmentation.explain import Codec, Explanations, drivers_by_segment, explain, reasons
from tests.synthetic import make_customers


def test_values_sum_with_the_base_value_to_the_output_and_reasons_name_columns(schema: DataSchema) -> None:
    frame = validate_records(make_customers(schema, n=300, seed=4), schema, Purpose.TRAINING)
    pre = Preprocessor.fit(frame, schema)
    weights = np.random.default_rng(0).normal(size=pre.n_features)

    def probability(columns: dict[str, np.ndarray]) -> np.ndarray:  # a non-linear stand-in for the network
        x = pre.transform(columns)
        return 1 / (1 + np.exp(-(np.tanh(x @ weights) * 3)))

    codec = Codec(schema)
    rows = frame.head(20)
    result = explain(probability, codec, frame.sample(50, random_state=0), rows, seed=0)
    output = probability({c: rows[c].to_numpy() for c in schema.feature_columns})
    np.testing.assert_allclose(result.values.sum(axis=1) + result.base_value, output, atol=1e-6)
    importance = result.global_importance()
    assert sorted(importance.index) == sorted(schema.feature_columns)
    assert importance.is_monotonic_decreasing

    said = reasons(result, rows, schema)
    assert all(len(r) == 3 for r in said)
    first = said[0][0]
    assert first.endswith(("raises churn risk", "lowers churn risk"))
    assert any(first.startswith(col) for col in schema.feature_columns)


def test_codec_round_trip(schema: DataSchema) -> None:
    frame = validate_records(make_customers(schema, n=50, seed=5), schema, Purpose.TRAINING)
    codec = Codec(schema)
    decoded = codec.decode(codec.encode(frame))
    for col in schema.categorical:
        assert list(decoded[col]) == list(frame[col])
    for col in schema.numeric:
        np.testing.assert_array_equal(decoded[col], frame[col].to_numpy())


def test_drivers_are_the_columns_that_raise_a_segments_risk_most() -> None:
    values = np.array([[0.3, -0.1, 0.2, 0.0], [0.1, -0.1, 0.0, 0.05], [-0.2, 0.4, 0.0, 0.1]])
    explanations = Explanations(["a", "b", "c", "d"], values, 0.2)
    table = drivers_by_segment(explanations, np.array(["risky", "risky", "other"]), top=2)
    assert list(table.columns) == ["segment", "driver_1", "driver_2"]
    drivers = table.set_index("segment")
    # risky: means a +0.2, b -0.1, c +0.1, d +0.025; other: a -0.2, b +0.4, c 0, d +0.1
    assert drivers.loc["risky"].tolist() == ["a (+0.200)", "c (+0.100)"]
    assert drivers.loc["other"].tolist() == ["b (+0.400)", "d (+0.100)"]
