"""Scoring trained networks: K seed models as one packed, XLA-compiled forward pass.

Every place a trained network is scored (validation and held-out probabilities in training and
resampling, ``evaluate``'s test probabilities, the served model) goes through ``Ensemble``, and
every calibration through ``calibrate``, so a record gets the same bits everywhere:

- **On every machine.** XLA (``jit_compile=True``) computes matrix products, ``exp``, ``log``,
  ``sigmoid`` and ``tanh`` identically on AVX2-only and AVX-512 machines under the pin
  (``pipeline.numerics``); TensorFlow's graph and eager kernels (oneDNN, Eigen) pick their
  summation order by CPU. Batch normalization is folded into a scale and a shift when the weights
  are exported, with NumPy's correctly rounded ``sqrt`` and division: never the hardware's
  approximate ``rsqrt``. Dropout is the identity at inference. Calibration runs in XLA too, so
  NumPy's CPU dispatch (which ``mlflow models serve`` loads before the pin) plays no part.
- **Whatever the batch.** XLA compiles one program per input shape, so a batch is padded to a
  power of two rows (``MIN_ROWS`` at least) and longer inputs are cut into ``CHUNK``-row chunks: a
  few programs in all, and a row's bits do not depend on the batch it came in or its position
  (tested).
- **One pass for the ensemble.** The K seeds' dense kernels are stacked ``[K, inputs, units]``,
  each seed's probability comes out of one batched product per layer, and the ensemble's
  probability is their float64 mean, summed seed by seed in order: the same bits as NumPy's
  ``seeds.mean(axis=0)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from pipeline.model import exact

MIN_ROWS = 64  # smallest padded batch: XLA multiplies fewer rows another way (other bits)
CHUNK = 4096  # largest compiled batch; longer inputs are scored chunk by chunk


@dataclass(frozen=True)
class PackedLayer:
    """One dense layer of K networks: ``activation((x @ kernel) * scale + shift)``, where ``scale``
    and ``shift`` are batch normalization folded (``scale`` None: no batch normalization, and
    ``shift`` is the bias)."""

    kernel: np.ndarray  # [K, inputs, units] float32
    scale: np.ndarray | None  # [K, 1, units] float32
    shift: np.ndarray  # [K, 1, units] float32
    activation: str  # a Keras activation's name


@dataclass(frozen=True)
class Prediction:
    seeds: np.ndarray  # [K, rows]: each seed's churn probability (float32 values, as float64)
    mean: np.ndarray  # [rows]: the ensemble's probability, their float64 mean


class Ensemble:
    """Seed models of one architecture, scored together."""

    def __init__(self, layers: Sequence[PackedLayer]) -> None:
        if not layers:
            raise ValueError("an ensemble needs at least one layer")
        self.layers = list(layers)
        # one network is scored as a pack of two copies: XLA multiplies a pack of one another way
        copies = 2 if self.size == 1 else 1
        weights = [(layer.kernel, layer.scale, layer.shift) for layer in self.layers]
        self._weights = [
            tf.constant(np.concatenate([w] * copies)) for triple in weights for w in triple if w is not None
        ]
        structure = tuple((layer.activation, layer.scale is not None) for layer in self.layers)
        self._function = _forward_function(structure, self.size)
        self._count = tf.constant(float(self.size), tf.float64)
        self._compiled: dict[int, tf.types.experimental.ConcreteFunction] = {}  # by padded rows

    @classmethod
    def from_models(cls, models: Sequence[keras.Model]) -> Ensemble:
        """The exported weights of ``build_model``'s networks (any number of seeds, one architecture)."""
        if not models:
            raise ValueError("an ensemble needs at least one model")
        per_model = [export(model) for model in models]
        layers = []
        for parts in zip(*per_model, strict=True):
            activations = {p.activation for p in parts}
            if len(activations) != 1 or len({p.kernel.shape for p in parts}) != 1:
                raise ValueError(f"the models differ in architecture: {activations}, {[p.kernel.shape for p in parts]}")
            scales = [p.scale for p in parts]
            layers.append(
                PackedLayer(
                    np.concatenate([p.kernel for p in parts]),
                    None if scales[0] is None else np.concatenate(scales),
                    np.concatenate([p.shift for p in parts]),
                    parts[0].activation,
                )
            )
        return cls(layers)

    @property
    def size(self) -> int:
        return self.layers[0].kernel.shape[0]

    @property
    def n_features(self) -> int:
        return self.layers[0].kernel.shape[1]

    def predict(self, x: np.ndarray) -> Prediction:
        """Encoded rows [rows, features] -> each seed's probability and the ensemble's."""
        x = np.asarray(x, dtype="float32")
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features, got shape {x.shape}")
        seeds, means = [], []
        for chunk, rows in _padded_chunks(x):
            p, mean = self._pass(len(chunk))(tf.constant(chunk), self._weights, self._count)
            seeds.append(p.numpy()[:, :rows])
            means.append(mean.numpy()[:rows])
        if not seeds:
            return Prediction(np.empty((self.size, 0)), np.empty(0))
        return Prediction(np.concatenate(seeds, axis=1).astype("float64"), np.concatenate(means))

    def _pass(self, rows: int) -> tf.types.experimental.ConcreteFunction:
        """The pass for ``rows`` padded rows, as a concrete function: calling one skips
        ``tf.function``'s dispatch on its arguments, most of a single record's time."""
        if rows not in self._compiled:
            x = tf.TensorSpec([rows, self.n_features], tf.float32)
            weights = [tf.TensorSpec(w.shape, w.dtype) for w in self._weights]
            self._compiled[rows] = self._function.get_concrete_function(x, weights, tf.TensorSpec([], tf.float64))
        return self._compiled[rows]


def export(model: keras.Model) -> list[PackedLayer]:
    """One network's dense layers, K = 1, batch normalization folded, dropout left out."""
    layers: list[PackedLayer] = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            kernel = layer.kernel.numpy()[None]
            bias = layer.bias.numpy() if layer.use_bias else np.zeros(layer.units, "float32")
            layers.append(PackedLayer(kernel, None, bias.reshape(1, 1, -1), _name(layer.activation)))
        elif isinstance(layer, keras.layers.BatchNormalization):
            scale, shift = fold_batch_norm(layer)
            last = layers[-1]
            layers[-1] = PackedLayer(last.kernel, scale, shift + last.shift * scale, last.activation)
        elif isinstance(layer, keras.layers.Activation):
            last = layers[-1]
            layers[-1] = PackedLayer(last.kernel, last.scale, last.shift, _name(layer.activation))
        elif not isinstance(layer, keras.layers.Dropout | keras.layers.InputLayer):  # dropout: identity at inference
            raise ValueError(f"cannot export layer {layer.name} ({type(layer).__name__})")
    return layers


def fold_batch_norm(layer: keras.layers.BatchNormalization) -> tuple[np.ndarray, np.ndarray]:
    """Inference-time batch normalization as ``x * scale + shift`` ([1, 1, units] each), with
    correctly rounded float32 operations: ``scale = gamma / sqrt(variance + epsilon)``,
    ``shift = beta - mean * scale``."""
    units = layer.moving_mean.shape[-1]
    gamma = layer.gamma.numpy() if layer.scale else np.ones(units, "float32")
    beta = layer.beta.numpy() if layer.center else np.zeros(units, "float32")
    variance = layer.moving_variance.numpy() + np.float32(layer.epsilon)
    scale = gamma / np.sqrt(variance)
    shift = beta - layer.moving_mean.numpy() * scale
    return scale.reshape(1, 1, -1), shift.reshape(1, 1, -1)


def _name(activation: Callable) -> str:
    return keras.activations.serialize(activation)


def _padded_chunks(x: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """``x`` cut into chunks of at most ``CHUNK`` rows, each padded with zero rows to a power of
    two (``MIN_ROWS`` at least); with each chunk's number of real rows."""
    chunks = []
    for start in range(0, len(x), CHUNK):
        chunk = x[start : start + CHUNK]
        rows = len(chunk)
        padded = max(MIN_ROWS, 1 << (rows - 1).bit_length())
        if padded > rows:
            chunk = np.concatenate([chunk, np.zeros((padded - rows, *chunk.shape[1:]), chunk.dtype)])
        chunks.append((chunk, rows))
    return chunks


@functools.cache
def _forward_function(structure: tuple[tuple[str, bool], ...], size: int) -> tf.types.experimental.PolymorphicFunction:
    """The compiled pass for one architecture (``structure``: activation and batch normalization per
    layer) and ``size`` seeds (the first ``size`` of the pack; the rest are copies)."""

    def forward(x: tf.Tensor, weights: list[tf.Tensor], count: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        remaining = iter(weights)
        h = None
        for activation, normalized in structure:
            kernel = next(remaining)
            scale = next(remaining) if normalized else None
            shift = next(remaining)
            inputs = tf.broadcast_to(x, [kernel.shape[0], *x.shape]) if h is None else h
            h = exact.matmul(inputs, kernel)  # not tf.matmul (Eigen): see pipeline.model.exact
            h = h * scale + shift if normalized else h + shift
            h = keras.activations.get(activation)(h)
        assert h is not None, "no layers"  # at tracing; Ensemble refuses an empty structure
        p = h[:size, :, 0]  # [K, rows]
        total = tf.cast(p[0], tf.float64)
        for k in range(1, size):  # seed by seed, in order: NumPy's mean over axis 0
            total = total + tf.cast(p[k], tf.float64)
        return p, total / count  # K as an input: XLA turns division by a constant into a product

    return tf.function(forward, jit_compile=True)


def calibrate(kind: str, params: Sequence[float], p: np.ndarray, epsilon: float) -> np.ndarray:
    """Probabilities (clipped to [epsilon, 1 - epsilon]) through a calibration map, in float64 in
    XLA: ``platt``, params (a, b): sigmoid(a logit(p) + b); ``isotonic``, params (x..., y...):
    linear interpolation through the points, constant beyond them (NumPy's ``interp``)."""
    if kind not in ("platt", "isotonic"):
        raise ValueError(f"unknown calibration {kind!r}")
    p = np.asarray(p, dtype="float64")
    values = tf.constant(np.asarray(params, dtype="float64"))
    out = [
        _calibration_pass(kind, epsilon, len(chunk), len(params))(tf.constant(chunk), values).numpy()[:rows]
        for chunk, rows in _padded_chunks(p.reshape(-1, 1))
    ]
    return np.concatenate(out)[:, 0] if out else np.empty(0)


@functools.cache
def _calibration_pass(kind: str, epsilon: float, rows: int, n_params: int) -> tf.types.experimental.ConcreteFunction:
    spec = (tf.TensorSpec([rows, 1], tf.float64), tf.TensorSpec([n_params], tf.float64))
    return _calibration_function(kind, epsilon).get_concrete_function(*spec)


@functools.cache
def _calibration_function(kind: str, epsilon: float) -> tf.types.experimental.PolymorphicFunction:
    def platt(p: tf.Tensor, params: tf.Tensor) -> tf.Tensor:
        p = tf.clip_by_value(p, epsilon, 1 - epsilon)
        return tf.sigmoid(params[0] * tf.math.log(p / (1 - p)) + params[1])

    def isotonic(p: tf.Tensor, params: tf.Tensor) -> tf.Tensor:
        p = tf.clip_by_value(p, epsilon, 1 - epsilon)
        xs, ys = tf.split(params, 2)
        n = tf.shape(xs)[0]
        # the point at or below each p: xs[j] <= p < xs[j + 1], so the slope's denominator is > 0
        j = tf.reduce_sum(tf.cast(xs[None, :] <= p, tf.int32), axis=1, keepdims=True) - 1
        lo, hi = tf.clip_by_value(j, 0, n - 1), tf.clip_by_value(j + 1, 0, n - 1)
        x0, x1, y0, y1 = tf.gather(xs, lo), tf.gather(xs, hi), tf.gather(ys, lo), tf.gather(ys, hi)
        inside = (j >= 0) & (j < n - 1)
        slope = (y1 - y0) / tf.where(inside, x1 - x0, tf.ones_like(x0))
        return tf.where(j < 0, ys[0], tf.where(inside, slope * (p - x0) + y0, ys[-1]))

    return tf.function(platt if kind == "platt" else isotonic, jit_compile=True)
