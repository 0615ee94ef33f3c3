"""The inference pass every scored network takes: a row's bits whatever the batch, each seed's bits in
or out of its ensemble, NumPy's mean, Keras's probabilities to float32 rounding, and calibration."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import keras
import numpy as np
import pytest

from pipeline.evaluation.calibration import Calibrator
from pipeline.model import inference
from pipeline.model.architecture import build_model
from pipeline.model.config import ModelConfig
from pipeline.model.inference import Ensemble
from pipeline.numerics import NUMPY_AVX512
from pipeline.training.job import predict

FEATURES = 12
CONFIGS = [
    ModelConfig(hidden_units=[24, 8], activation="relu", dropout=[0.0, 0.3], batch_norm=[True, False]),
    ModelConfig(hidden_units=[16], activation="gelu", batch_norm=True),
    ModelConfig(hidden_units=[10, 6], activation="elu", dropout=0.2),
]
SIZES = [1, 2, 3, 63, 64, 65, 200, 4096, 4100]


def _trained_like(config: ModelConfig, seeds: range) -> list[keras.Model]:
    """Seed models with weights and moving statistics moved away from their initial values."""
    rng = np.random.default_rng(7)
    models = [build_model(FEATURES, config, seed) for seed in seeds]
    for model in models:
        model.set_weights([w + rng.normal(0, 0.3, w.shape).astype("float32") for w in model.get_weights()])
        for layer in model.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.moving_variance.assign(rng.uniform(0.2, 3.0, layer.moving_variance.shape).astype("float32"))
    return models


@pytest.fixture(scope="module")
def rows() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(5000, FEATURES)).astype("float32")


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.activation)
def test_a_row_has_the_same_bits_alone_in_any_batch_and_at_any_position(config: ModelConfig, rows: np.ndarray) -> None:
    ensemble = Ensemble.from_models(_trained_like(config, range(3)))
    whole = ensemble.predict(rows)
    for n in SIZES:
        for start in (0, 5, len(rows) - n):
            part = ensemble.predict(rows[start : start + n])
            assert np.array_equal(part.seeds, whole.seeds[:, start : start + n]), (n, start)
            assert np.array_equal(part.mean, whole.mean[start : start + n]), (n, start)


def test_without_the_padding_a_lone_row_gets_other_bits(rows: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: XLA multiplies a few rows another way than many, which ``MIN_ROWS`` hides."""
    ensemble = Ensemble.from_models(_trained_like(CONFIGS[0], range(3)))
    whole = ensemble.predict(rows[:4096]).seeds
    monkeypatch.setattr(inference, "MIN_ROWS", 1)
    alone = np.concatenate([ensemble.predict(rows[i : i + 1]).seeds for i in range(64)], axis=1)
    assert not np.array_equal(alone, whole[:, :64])


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.activation)
def test_each_seed_scored_alone_has_its_bits_in_the_ensemble(config: ModelConfig, rows: np.ndarray) -> None:
    models = _trained_like(config, range(4))
    packed = Ensemble.from_models(models).predict(rows[:300])
    for k, model in enumerate(models):
        assert np.array_equal(predict(model, rows[:300]), packed.seeds[k])
    assert np.array_equal(packed.mean, packed.seeds.mean(axis=0))  # what evaluate averages


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.activation)
def test_the_pass_computes_what_keras_does(config: ModelConfig, rows: np.ndarray) -> None:
    """Batch normalization folded, dropout the identity: Keras's probabilities to float32 rounding."""
    models = _trained_like(config, range(2))
    packed = Ensemble.from_models(models).predict(rows[:500])
    for k, model in enumerate(models):
        expected = np.asarray(model(rows[:500], training=False))[:, 0]
        np.testing.assert_allclose(packed.seeds[k], expected, rtol=0, atol=2e-6)


def test_models_of_different_architectures_are_refused() -> None:
    models = [build_model(FEATURES, CONFIGS[0], 0), build_model(FEATURES, CONFIGS[2], 0)]
    with pytest.raises(ValueError, match="differ"):
        Ensemble.from_models(models)


def test_rows_of_the_wrong_width_are_refused() -> None:
    ensemble = Ensemble.from_models([build_model(FEATURES, CONFIGS[1], 0)])
    with pytest.raises(ValueError, match=f"{FEATURES} features"):
        ensemble.predict(np.zeros((3, FEATURES + 1), "float32"))


@pytest.mark.parametrize(
    "calibrator",
    [Calibrator("platt", (1.7, -0.4)), Calibrator("isotonic", (0.1, 0.2, 0.2, 0.5, 0.9, 0.0, 0.3, 0.35, 0.6, 1.0))],
    ids=["platt", "isotonic"],
)
def test_calibration_is_the_formula_and_the_same_bits_in_any_batch(calibrator: Calibrator) -> None:
    p = np.concatenate([np.random.default_rng(1).uniform(0, 1, 5000), [0.0, 1.0, 0.1, 0.2, 0.5, 0.9, 0.95]])
    out = calibrator.apply(p)
    clipped = np.clip(p, 1e-7, 1 - 1e-7)
    if calibrator.kind == "platt":
        a, b = calibrator.params
        expected = 1 / (1 + np.exp(-(a * np.log(clipped / (1 - clipped)) + b)))
        np.testing.assert_allclose(out, expected, rtol=1e-14)
    else:
        # at a repeated point (0.2) NumPy takes the upper value, as sklearn's isotonic predictions do
        np.testing.assert_allclose(out, np.interp(clipped, calibrator.params[:5], calibrator.params[5:]), atol=1e-15)
    for n in (1, 63, 700):
        for start in (0, 3, len(p) - n):
            assert np.array_equal(calibrator.apply(p[start : start + n]), out[start : start + n]), (n, start)


PLATT = (1.7, -0.4)
UNPINNED_CHILD = f"""
import numpy  # before pipeline, as `mlflow models serve` does: NumPy's AVX-512 loops stay on
import hashlib
import pipeline
from numpy._core._multiarray_umath import __cpu_features__
from pipeline.evaluation.calibration import Calibrator
p = numpy.clip(numpy.random.default_rng(3).uniform(0, 1, 4096), 1e-7, 1 - 1e-7)
new = Calibrator("platt", {PLATT}).apply(p)
old = 1 / (1 + numpy.exp(-({PLATT[0]} * numpy.log(p / (1 - p)) + {PLATT[1]})))
avx512 = any(__cpu_features__.get(group) for group in {NUMPY_AVX512.split()!r})
print(hashlib.md5(new.tobytes()).hexdigest(), hashlib.md5(old.tobytes()).hexdigest(), int(avx512))
"""


@pytest.mark.slow
def test_calibration_does_not_follow_numpys_cpu_dispatch() -> None:
    """A process that loads NumPy before the pin (the scoring server) calibrates to the bit as a pinned
    one. The control: NumPy's exp and log, which the calibration used before, do follow it on an
    AVX-512 machine."""
    child = subprocess.run([sys.executable, "-c", UNPINNED_CHILD], capture_output=True, text=True, check=True)
    new, old, avx512 = child.stdout.split()
    p = np.clip(np.random.default_rng(3).uniform(0, 1, 4096), 1e-7, 1 - 1e-7)
    assert new == hashlib.md5(Calibrator("platt", PLATT).apply(p).tobytes()).hexdigest()
    pinned_old = 1 / (1 + np.exp(-(PLATT[0] * np.log(p / (1 - p)) + PLATT[1])))
    if avx512 == "1":  # NumPy dispatches AVX-512 loops there: the old formula gets other bits
        assert old != hashlib.md5(pinned_old.tobytes()).hexdigest()
