"""The split is stratified, disjoint, complete and reproducible."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.data.contract import Purpose, validate_records
from pipeline.data.schema import DataSchema
from pipeline.data.split import SPLITS, stratified_split
from tests.synthetic import make_customers

FRACTIONS = {"train": 0.6, "validation": 0.2, "test": 0.2}


@pytest.fixture
def clean(schema: DataSchema) -> pd.DataFrame:
    return validate_records(make_customers(schema, n=1000, seed=2), schema, Purpose.TRAINING)


def test_disjoint_and_complete(clean: pd.DataFrame, schema: DataSchema) -> None:
    parts = stratified_split(clean, schema.target.column, FRACTIONS, seed=7)
    ids = {name: set(parts[name][schema.id_column]) for name in SPLITS}
    assert not ids["train"] & ids["validation"]
    assert not ids["train"] & ids["test"]
    assert not ids["validation"] & ids["test"]
    assert ids["train"] | ids["validation"] | ids["test"] == set(clean[schema.id_column])
    assert [len(parts[n]) for n in SPLITS] == [600, 200, 200]


def test_stratified(clean: pd.DataFrame, schema: DataSchema) -> None:
    target = schema.target.column
    parts = stratified_split(clean, target, FRACTIONS, seed=7)
    overall = clean[target].mean()
    for name in SPLITS:
        # stratification keeps each split's rate within one customer of the overall rate
        assert abs(parts[name][target].mean() - overall) <= 1 / len(parts[name]) + 1e-12


def test_same_seed_same_split(clean: pd.DataFrame, schema: DataSchema) -> None:
    first = stratified_split(clean, schema.target.column, FRACTIONS, seed=3)
    again = stratified_split(clean, schema.target.column, FRACTIONS, seed=3)
    other = stratified_split(clean, schema.target.column, FRACTIONS, seed=4)
    for name in SPLITS:
        pd.testing.assert_frame_equal(first[name], again[name])
    assert not first["test"][schema.id_column].equals(other["test"][schema.id_column])
