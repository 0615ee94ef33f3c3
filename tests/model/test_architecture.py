from __future__ import annotations

import zipfile
from pathlib import Path

import keras
import numpy as np

from pipeline.model.architecture import build_model
from pipeline.model.config import ModelConfig


def test_config_shapes_the_network() -> None:
    config = ModelConfig(hidden_units=[32, 8], dropout=0.25, batch_norm=True, l2=1e-3, activation="elu")
    model = build_model(10, config, seed=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "Dense", "BatchNormalization", "Activation", "Dropout",
        "Dense", "BatchNormalization", "Activation", "Dropout",
        "Dense",
    ]  # fmt: skip
    assert model.layers[0].kernel_regularizer is not None
    assert model.output_shape == (None, 1)
    assert model.layers[-1].activation.__name__ == "sigmoid"


def test_keras_file_round_trip_without_pickle(tmp_path: Path) -> None:
    model = build_model(6, ModelConfig(hidden_units=[4]), seed=1)
    path = tmp_path / "model.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    loaded = keras.saving.load_model(path, compile=False)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
