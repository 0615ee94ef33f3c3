"""Preprocessing is fitted on training data only and survives a JSON round trip exactly."""

from __future__ import annotations

import numpy as np

from pipeline.data.contract import Purpose, validate_records
from pipeline.data.schema import DataSchema
from pipeline.data.split import stratified_split
from pipeline.features.preprocessing import Preprocessor
from tests.synthetic import make_customers


def test_statistics_come_from_train_only_and_round_trip(schema: DataSchema) -> None:
    clean = validate_records(make_customers(schema, n=800, seed=4), schema, Purpose.TRAINING)
    parts = stratified_split(clean, schema.target.column, {"train": 0.6, "validation": 0.2, "test": 0.2}, 1)
    pre = Preprocessor.fit(parts["train"], schema)
    for col, (mean, std) in pre.numeric.items():
        assert mean == parts["train"][col].mean()
        assert np.isclose(std, parts["train"][col].std(ddof=0))
        assert mean != clean[col].mean()  # the full data would give other numbers

    x = pre.transform(parts["train"])
    assert x.dtype == np.float32 and x.shape == (len(parts["train"]), pre.n_features)
    np.testing.assert_allclose(x[:, : len(pre.numeric)].mean(axis=0), 0, atol=1e-5)
    onehot = x[:, len(pre.numeric) :]
    assert set(np.unique(onehot)) <= {0.0, 1.0}
    assert (onehot.sum(axis=1) == len(schema.categorical)).all()  # exactly one level per column

    again = Preprocessor.from_json(pre.to_json())
    assert again == pre
    np.testing.assert_array_equal(again.transform(parts["test"]), pre.transform(parts["test"]))
