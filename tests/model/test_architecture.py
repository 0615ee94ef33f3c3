from __future__ import annotations

import zipfile
from pathlib import Path

import keras
import numpy as np
import pytest
from pydantic import ValidationError

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


def test_batch_norm_and_dropout_per_layer() -> None:
    """Two hidden layers of 64 ReLU units, batch normalization after the first, dropout 0.5 after the second."""
    config = ModelConfig(hidden_units=[64, 64], batch_norm=[True, False], dropout=[0.0, 0.5])
    model = build_model(10, config, seed=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "BatchNormalization", "Activation", "Dense", "Activation", "Dropout", "Dense"]
    first, _, _, second, _, dropout, output = model.layers
    assert first.bias is None  # batch normalization's shift replaces it
    assert second.bias is not None and output.bias is not None
    assert dropout.rate == 0.5
    assert (first.units, second.units, output.units) == (64, 64, 1)
    assert [config.batch_norm_at(i) for i in range(2)] == [True, False]
    assert [config.dropout_at(i) for i in range(2)] == [0.0, 0.5]


def test_a_scalar_applies_to_every_layer() -> None:
    config = ModelConfig(hidden_units=[8, 4, 2], batch_norm=True, dropout=0.25)
    assert [config.batch_norm_at(i) for i in range(3)] == [True, True, True]
    assert [config.dropout_at(i) for i in range(3)] == [0.25, 0.25, 0.25]


@pytest.mark.parametrize(
    ("field", "value"), [("dropout", [0.5]), ("batch_norm", [True, False, True]), ("dropout", [0.0, 1.0])]
)
def test_per_layer_values_are_validated(field: str, value: list) -> None:
    with pytest.raises(ValidationError) as error:
        ModelConfig(hidden_units=[64, 64], **{field: value})
    if len(value) != 2:
        assert f"{field} has {len(value)} values but hidden_units has 2 layers" in str(error.value)


def test_keras_file_round_trip_without_pickle(tmp_path: Path) -> None:
    model = build_model(6, ModelConfig(hidden_units=[4]), seed=1)
    path = tmp_path / "model.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        config = archive.read("config.json").decode()
    assert "lambda" not in config.lower()  # nothing that only unpickling could rebuild
    x = np.random.default_rng(0).normal(size=(5, 6)).astype("float32")
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)  # refuses pickled code
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
