"""Train the baseline configuration briefly on seeded synthetic data; print the md5 of the weights.

Run as ``python -m tests.training.golden_training`` (the numerics tests run it in fresh
processes with different environments). ``--numpy`` prints instead the md5 of what NumPy,
OpenBLAS and scikit-learn compute for the pipeline (a logistic regression's probabilities, a
log loss, k-means centres); ``--rmsprop [--stock]`` that of two epochs under the project's RMSprop
(or Keras's own). ``--unpinned [KEY=VALUE ...]`` undoes ``pipeline.numerics.pin``
before TensorFlow and NumPy load and sets the given variables instead, to show what the pin
prevents.
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


def numpy_md5() -> str:
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression

    from pipeline.evaluation import metrics

    rng = np.random.default_rng(7)
    x = rng.normal(size=(3000, 40))
    y = (x @ rng.normal(size=40) + rng.normal(size=3000) > 0.5).astype("float64")
    p = LogisticRegression(max_iter=2000).fit(x, y).predict_proba(x)[:, 1]
    centres = KMeans(4, n_init=3, random_state=0).fit(x).cluster_centers_
    digest = hashlib.md5()
    for values in (p, metrics.log_loss_by_row(y, p[None, :]), np.exp(-x), centres):
        digest.update(np.ascontiguousarray(values, "<f8").tobytes())
    return digest.hexdigest()


def toy_member():
    """300 seeded rows of 20 features and a label, its first 60 as validation: the small data the
    optimizer fingerprints and the RMSprop control train on."""
    import numpy as np

    from pipeline.training.engine import Member

    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 20)).astype("float32")
    y = (x[:, 0] + rng.normal(size=300) > 0.5).astype("float32")
    return Member(x, y, x[:60], y[:60], None)


def rmsprop_md5(stock: bool) -> str:
    """Two epochs of a batch-normalized network under RMSprop: Keras's own update (``stock``, whose
    ``g / sqrt(v)`` XLA computes with the CPU's approximate reciprocal square root) or the
    project's (``pipeline.model.exact_optimizers``)."""
    import keras

    from pipeline.model import exact_optimizers
    from pipeline.model.config import ModelConfig
    from pipeline.model.packed import PackedNetwork
    from pipeline.training.engine import PackedTrainer

    network = PackedNetwork(20, ModelConfig(hidden_units=[24], batch_norm=[True]), [0])
    optimizer = (keras.optimizers.RMSprop if stock else exact_optimizers.RMSprop)(learning_rate=0.01)
    PackedTrainer(network, optimizer).fit([toy_member()], epochs=2, batch_size=32)
    digest = hashlib.md5()
    for variable in network.variables:
        digest.update(variable.numpy().astype("<f4").tobytes())
    return digest.hexdigest()


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--unpinned" in args:
        for key in (*numerics.PINNED, "XLA_FLAGS"):
            os.environ.pop(key, None)
        os.environ.update(arg.split("=", 1) for arg in args if "=" in arg)
    assert pipeline.__version__
    if "--numpy" in args:
        print(numpy_md5())
    elif "--rmsprop" in args:
        print(rmsprop_md5(stock="--stock" in args))
    else:
        print(weights_md5())
