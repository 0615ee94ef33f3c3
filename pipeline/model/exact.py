"""Arithmetic that XLA compiles to the same bits on every x86-64 CPU.

XLA's CPU compiler computes ``rsqrt`` from the processor's approximate reciprocal square
root instruction (``vrsqrtps``) refined by a Newton step, and its algebraic simplifier
rewrites ``a / sqrt(b)`` into ``a * rsqrt(b)``. The instruction's approximation is a
property of the chip, not of the instruction set: an Intel and an AMD processor give
other last bits, which batch normalization, RMSprop and Adagrad then carry into every
weight (measured: docs/DOCUMENTATION.md, *What the instruction-set cap did not cover*). A
square root XLA cannot pattern-match as a divisor keeps the division a correctly rounded
IEEE division and the root a correctly rounded ``vsqrtps``: the same bits everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from keras import ops

if TYPE_CHECKING:
    import tensorflow as tf  # Keras's backend here: its ops take and give TensorFlow tensors


@ops.custom_gradient
def sqrt(x: tf.Tensor) -> tuple[tf.Tensor, Callable[..., tf.Tensor]]:
    """``sqrt(x)`` (NaN below zero) that XLA never turns into an approximate reciprocal: the
    root goes through a select, so ``a / sqrt(x)`` stays a division, in the gradient too
    (TensorFlow's own gradient of ``sqrt`` divides by the root, which XLA would rewrite)."""
    root = ops.where(x >= 0, ops.sqrt(x), math.nan)

    def gradient(*args: tf.Tensor, upstream: tf.Tensor | None = None) -> tf.Tensor:
        if upstream is None:
            (upstream,) = args
        return upstream * 0.5 / root

    return root, gradient


def _matvec(matrices: tf.Tensor, vectors: tf.Tensor) -> tf.Tensor:
    """``[..., r, c] x [..., c] -> [..., r]``: XLA emits a product with a vector side as its own
    loop code, not as a call to Eigen's matrix product."""
    return ops.squeeze(ops.matmul(matrices, ops.expand_dims(vectors, -1)), -1)


@ops.custom_gradient
def matmul(x: tf.Tensor, kernel: tf.Tensor) -> tuple[tf.Tensor, Callable[..., tuple[tf.Tensor, tf.Tensor]]]:
    """``[K, rows, inputs] @ [K, inputs, units]`` as batched matrix-vector products, in the forward
    pass and in both gradients.

    XLA hands a matrix-matrix product to Eigen, whose blocking follows the CPU's cache sizes
    (read from CPUID): an Intel and an AMD machine add the terms of one sum in other groupings
    once a side reaches 48 rows or columns (measured under ``qemu-x86_64 -cpu``; the products at
    the shapes training meets are checked there by ``tests/training/test_numerics.py``). A product
    of a matrix with a vector is compiled by XLA itself, summing in one fixed order on every CPU."""
    k, rows, inputs = ops.shape(x)
    units = ops.shape(kernel)[2]
    by_unit = ops.transpose(kernel, [0, 2, 1])  # [K, units, inputs]
    y = _matvec(ops.broadcast_to(ops.expand_dims(x, 1), (k, units, rows, inputs)), by_unit)  # [K, units, rows]

    def gradient(*args: tf.Tensor, upstream: tf.Tensor | None = None) -> tuple[tf.Tensor, tf.Tensor]:
        if upstream is None:
            (upstream,) = args
        dx = _matvec(ops.broadcast_to(ops.expand_dims(kernel, 1), (k, rows, inputs, units)), upstream)
        by_input = ops.transpose(x, [0, 2, 1])  # [K, inputs, rows]
        d_by_unit = ops.transpose(upstream, [0, 2, 1])  # [K, units, rows]
        dkernel = _matvec(ops.broadcast_to(ops.expand_dims(d_by_unit, 1), (k, inputs, units, rows)), by_input)
        return dx, dkernel

    return ops.transpose(y, [0, 2, 1]), gradient
