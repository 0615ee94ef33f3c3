from __future__ import annotations

import pytest

from pipeline.data.contract import Purpose, validate_records
from pipeline.data.schema import DataSchema
from pipeline.data.split import stratified_split
from pipeline.features.encoded import Split
from pipeline.features.preprocessing import Preprocessor
from pipeline.training.job import TrainingData
from tests.synthetic import make_customers


@pytest.fixture(scope="session")
def training_data(schema: DataSchema) -> TrainingData:
    """Synthetic train/validation splits with a strong, known signal."""
    clean = validate_records(make_customers(schema, n=500, seed=11), schema, Purpose.TRAINING)
    parts = stratified_split(clean, schema.target.column, {"train": 0.6, "validation": 0.2, "test": 0.2}, 0)
    pre = Preprocessor.fit(parts["train"], schema)

    def split(name: str) -> Split:
        frame = parts[name]
        return Split(name, frame, pre.transform(frame), frame[schema.target.column].to_numpy("float32"))

    return TrainingData(split("train"), split("validation"), schema, pre)
