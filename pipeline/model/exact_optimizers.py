"""Keras's RMSprop and Adagrad with updates XLA computes alike on every CPU.

Both divide the gradient by the square root of a running sum of squares; XLA rewrites
``g / sqrt(v)`` into ``g * rsqrt(v)`` and computes ``rsqrt`` from the processor's own
approximation, so an Intel and an AMD machine train other weights (``pipeline.model.exact``).
These subclasses make the same update with ``exact.sqrt``: Keras's formula, correctly
rounded. Only the variants this project uses (no momentum, not centered) are overridden;
the others are refused rather than left to the approximate path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
from keras import ops

from pipeline.model import exact

if TYPE_CHECKING:
    import tensorflow as tf  # Keras's backend here: its ops take and give TensorFlow tensors


class RMSprop(keras.optimizers.RMSprop):
    """``v <- rho v + (1 - rho) g^2``; ``w <- w - lr g / sqrt(v + epsilon)``."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if self.momentum > 0 or self.centered:
            raise ValueError("exact RMSprop covers momentum=0, centered=False (the variant under study)")

    def update_step(self, gradient: tf.Tensor, variable: keras.Variable, learning_rate: tf.Tensor) -> None:
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        velocity = self._velocities[self._get_variable_index(variable)]
        self.assign(
            velocity, ops.add(ops.multiply(self.rho, velocity), ops.multiply(1 - self.rho, ops.square(gradient)))
        )
        denominator = exact.sqrt(ops.add(velocity, self.epsilon))
        self.assign_sub(variable, ops.divide(ops.multiply(lr, gradient), denominator))


class Adagrad(keras.optimizers.Adagrad):
    """``a <- a + g^2``; ``w <- w - lr g / sqrt(a + epsilon)``."""

    def update_step(self, gradient: tf.Tensor, variable: keras.Variable, learning_rate: tf.Tensor) -> None:
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        accumulator = self._accumulators[self._get_variable_index(variable)]
        self.assign_add(accumulator, ops.square(gradient))
        denominator = exact.sqrt(ops.add(accumulator, self.epsilon))
        self.assign_sub(variable, ops.divide(ops.multiply(lr, gradient), denominator))


EXACT: dict[str, type[keras.optimizers.Optimizer]] = {"RMSprop": RMSprop, "Adagrad": Adagrad}  # by Keras class name
