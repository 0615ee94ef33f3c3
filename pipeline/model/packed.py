"""K networks of one configuration held as one: Keras layers with a leading model axis.

A packed dense layer holds ``[K, inputs, units]`` weights and multiplies ``[K, rows,
inputs]`` batches by them, so one step updates all K networks; nothing mixes across the
model axis (batch normalization takes its statistics per model, dropout masks are given
per model), so each network trains exactly as it would alone. Every network starts from
the weights ``build_model`` gives its seed, and ``unpack`` writes the trained slices back
into those ordinary Keras models, which are saved and served as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import numpy as np
from keras import ops

from pipeline.model import exact
from pipeline.model.architecture import build_model
from pipeline.model.config import ModelConfig

if TYPE_CHECKING:
    import tensorflow as tf  # Keras's backend here: its ops take and give TensorFlow tensors

BN_MOMENTUM, BN_EPSILON = 0.99, 1e-3  # keras.layers.BatchNormalization's defaults
MASK_LEVELS = 65536  # dropout masks come as uint16 draws: keep a unit when draw >= rate x levels


class PackedDense(keras.layers.Layer):
    """K dense layers: ``[K, rows, inputs] @ [K, inputs, units] (+ [K, 1, units])``."""

    def __init__(self, models: int, inputs: int, units: int, use_bias: bool, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.kernel = self.add_weight(shape=(models, inputs, units), initializer="zeros", name="kernel")
        self.bias = self.add_weight(shape=(models, 1, units), initializer="zeros", name="bias") if use_bias else None

    def call(self, x: tf.Tensor) -> tf.Tensor:
        # a tensor, not the variable (custom gradients refuse variables eagerly); see pipeline.model.exact
        y = exact.matmul(x, ops.copy(self.kernel))
        return y if self.bias is None else y + self.bias


class PackedBatchNormalization(keras.layers.Layer):
    """K batch normalizations, each with its own batch statistics and moving averages."""

    def __init__(self, models: int, units: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        shape = (models, 1, units)
        self.gamma = self.add_weight(shape=shape, initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=shape, initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(shape=shape, initializer="zeros", name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight(shape=shape, initializer="ones", name="moving_variance", trainable=False)

    def call(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        if training:
            mean, variance = ops.moments(x, axes=[1], keepdims=True)
            self.moving_mean.assign(self.moving_mean * BN_MOMENTUM + mean * (1.0 - BN_MOMENTUM))
            self.moving_variance.assign(self.moving_variance * BN_MOMENTUM + variance * (1.0 - BN_MOMENTUM))
        else:
            mean, variance = self.moving_mean, self.moving_variance
        scale = self.gamma / exact.sqrt(variance + BN_EPSILON)  # not rsqrt: see pipeline.model.exact
        return x * scale + (self.beta - mean * scale)


class PackedNetwork:
    """The packed form of ``build_model``'s network for ``len(seeds)`` seeds."""

    def __init__(self, n_features: int, config: ModelConfig, seeds: list[int]) -> None:
        self.config, self.seeds = config, list(seeds)
        k = len(seeds)
        self.hidden: list[tuple[PackedDense, PackedBatchNormalization | None]] = []
        inputs = n_features
        for i, units in enumerate(config.hidden_units, start=1):
            batch_norm = config.batch_norm_at(i - 1)
            dense = PackedDense(k, inputs, units, use_bias=not batch_norm, name=f"dense_{i}")
            norm = PackedBatchNormalization(k, units, name=f"batch_norm_{i}") if batch_norm else None
            self.hidden.append((dense, norm))
            inputs = units
        self.output = PackedDense(k, inputs, 1, use_bias=True, name="churn_probability")
        self.activation = keras.activations.get(config.activation)
        self.models = [build_model(n_features, config, seed) for seed in seeds]
        self._load(self.models)

    @property
    def size(self) -> int:
        return len(self.seeds)

    @property
    def dropout_widths(self) -> list[int]:
        """Units of each layer that takes a dropout mask (its dropout rate > 0), in order."""
        config = self.config
        return [units for i, units in enumerate(config.hidden_units) if config.dropout_at(i) > 0]

    @property
    def trainable_variables(self) -> list[keras.Variable]:
        return [v for layer in self._layers() for v in layer.trainable_variables]

    @property
    def variables(self) -> list[keras.Variable]:
        """Trainable weights and batch normalization's moving averages."""
        return [v for layer in self._layers() for v in layer.variables]

    def __call__(self, x: tf.Tensor, training: bool = False, masks: list[tf.Tensor] | None = None) -> tf.Tensor:
        """``x``: [K, rows, features] -> churn probabilities [K, rows]. ``masks``: when training,
        one uint16 [K, rows, units] tensor per layer with dropout (as ``dropout_widths``), in order."""
        masks = list(masks or [])
        if training and len(masks) != len(self.dropout_widths):
            raise ValueError(f"{len(masks)} dropout masks for {len(self.dropout_widths)} layers with dropout")
        remaining = iter(masks)
        for i, (dense, norm) in enumerate(self.hidden):
            x = dense(x)
            if norm is not None:
                x = norm(x, training=training)
            x = self.activation(x)
            rate = self.config.dropout_at(i)
            if rate > 0 and training:
                threshold = round(rate * MASK_LEVELS)
                keep = 1.0 - threshold / MASK_LEVELS
                kept = ops.cast(ops.greater_equal(ops.cast(next(remaining), "int32"), threshold), x.dtype)
                x = x * kept / keep
        return ops.sigmoid(self.output(x))[..., 0]

    def l2_penalty(self) -> tf.Tensor:
        """Each model's L2 term, [K]: what ``keras.regularizers.L2`` adds for its kernels."""
        penalty = ops.zeros((self.size,))
        if self.config.l2 > 0:
            for dense, _ in self.hidden:
                penalty = penalty + self.config.l2 * ops.sum(ops.square(dense.kernel), axis=[1, 2])
        return penalty

    def unpack(self) -> list[keras.Model]:
        """The K trained networks as ordinary Keras models (the ones ``build_model`` made)."""
        for k, model in enumerate(self.models):
            for packed, layer in self._pairs(model):
                values = zip(packed.variables, layer.weights, strict=True)
                layer.set_weights([v.numpy()[k].reshape(w.shape) for v, w in values])
        return self.models

    def slices(self) -> list[list[np.ndarray]]:
        """Every variable's value per model, to keep a model's best epoch."""
        values = [v.numpy() for v in self.variables]
        return [[value[k].copy() for value in values] for k in range(self.size)]

    def restore(self, k: int, values: list[np.ndarray]) -> None:
        for variable, value in zip(self.variables, values, strict=True):
            packed = variable.numpy()
            packed[k] = value
            variable.assign(packed)

    def _layers(self) -> list[keras.layers.Layer]:
        return [layer for pair in self.hidden for layer in pair if layer is not None] + [self.output]

    def _pairs(self, model: keras.Model) -> list[tuple[keras.layers.Layer, keras.layers.Layer]]:
        return [(layer, model.get_layer(layer.name)) for layer in self._layers()]

    def _load(self, models: list[keras.Model]) -> None:
        for packed in self._layers():
            layers = [model.get_layer(packed.name) for model in models]
            for j, variable in enumerate(packed.variables):
                stacked = np.stack([layer.weights[j].numpy() for layer in layers])
                variable.assign(stacked.reshape(variable.shape))
