"""Train the baseline configuration briefly on seeded synthetic data; print the md5 of the weights.

Run as ``python -m tests.training.golden_training`` (the numerics tests run it in fresh
processes with different environments). ``--unpinned [KEY=VALUE ...]`` undoes
``pipeline.numerics.pin`` before TensorFlow starts and sets the given variables instead, to
show what the pin prevents.
"""

from __future__ import annotations

import hashlib
import os
import sys

import pipeline
from pipeline import numerics


def weights_md5() -> str:
    from pipeline.config import Params
    from pipeline.data.contract import Purpose, validate_records
    from pipeline.data.schema import DataSchema
    from pipeline.data.split import stratified_split
    from pipeline.features.encoded import Split
    from pipeline.features.preprocessing import Preprocessor
    from pipeline.training.job import TrainingData, train_pack
    from tests.conftest import REPO
    from tests.synthetic import make_customers

    schema = DataSchema.from_yaml(REPO / "data" / "schema.yaml")
    clean = validate_records(make_customers(schema, n=400, seed=5), schema, Purpose.TRAINING)
    parts = stratified_split(clean, schema.target.column, {"train": 0.6, "validation": 0.2, "test": 0.2}, 0)
    pre = Preprocessor.fit(parts["train"], schema)
    splits = {
        name: Split(
            name, parts[name], pre.transform(parts[name]), parts[name][schema.target.column].to_numpy("float32")
        )
        for name in ("train", "validation")
    }
    data = TrainingData(splits["train"], splits["validation"], schema, pre)
    baseline = Params.load(REPO / "params.yaml").baseline.candidate
    candidate = baseline.model_copy(update={"training": baseline.training.model_copy(update={"epochs": 5})})
    digest = hashlib.md5()
    for trained in train_pack(candidate, data, [0, 1]):
        for weights in trained.model.get_weights():
            digest.update(weights.astype("<f4").tobytes())
    return digest.hexdigest()


if __name__ == "__main__":
    if "--unpinned" in sys.argv:
        for key in (*numerics.PINNED, "XLA_FLAGS"):
            os.environ.pop(key, None)
        os.environ.update(arg.split("=", 1) for arg in sys.argv[2:])
    assert pipeline.__version__
    print(weights_md5())
