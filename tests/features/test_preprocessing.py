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


def _transform_cell_by_cell(pre: Preprocessor, frame: dict[str, np.ndarray]) -> np.ndarray:
    """The encoding as first written: every cell compared with every level, blocks stacked, then float32."""
    blocks = [((np.asarray(frame[c], dtype="float64") - m) / s)[:, None] for c, (m, s) in pre.numeric.items()]
    for col, levels in pre.categorical.items():
        blocks.append(np.asarray(frame[col], dtype=object)[:, None] == np.asarray(levels, dtype=object)[None, :])
    return np.hstack(blocks).astype("float32")


def test_the_encoding_is_the_cell_by_cell_one_to_the_bit(schema: DataSchema) -> None:
    """Batches look each distinct cell up once, a few records compare directly: the same bits either
    way, also for cells that are no level or missing (all zeros), which only unchecked frames hold."""
    clean = validate_records(make_customers(schema, n=700, seed=6), schema, Purpose.TRAINING)
    pre = Preprocessor.fit(clean, schema)
    columns = {name: clean[name].to_numpy() for name in clean.columns}
    odd = columns["Contract"].copy()
    odd[[3, 50, 400]] = ["Weekly", None, np.nan]
    for frame in (columns, {**columns, "Contract": odd}):
        for rows in (1, 2, 63, 64, 700):
            part = {name: values[:rows] for name, values in frame.items()}
            expected = _transform_cell_by_cell(pre, part)
            assert pre.transform(part).tobytes() == expected.tobytes()
    assert pre.transform(clean).tobytes() == _transform_cell_by_cell(pre, columns).tobytes()  # a frame too
