"""The arithmetic written to compute alike on every CPU (pipeline.model.exact) computes what it replaces."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from pipeline.model import exact, exact_optimizers
from pipeline.model.packed import PackedDense

RNG = np.random.default_rng(11)


def _exact(x, w, d):
    with tf.GradientTape() as tape:
        tape.watch([x, w])
        y = exact.matmul(x, w)
    return (y, *tape.gradient(y, [x, w], output_gradients=d))


def _reference(x, w, d):
    with tf.GradientTape() as tape:
        tape.watch([x, w])
        y = tf.matmul(x, w)
    return (y, *tape.gradient(y, [x, w], output_gradients=d))


@pytest.mark.parametrize("compiled", [False, True])
def test_matmul_and_its_gradients_are_the_matrix_product_s(compiled: bool) -> None:
    x, w, d = (tf.constant(RNG.normal(size=s).astype("float32")) for s in ((3, 70, 45), (3, 45, 20), (3, 70, 20)))
    ours = tf.function(_exact, jit_compile=True)(x, w, d) if compiled else _exact(x, w, d)
    for a, b in zip(ours, _reference(x, w, d), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


def test_a_packed_dense_layer_runs_eagerly_with_its_keras_variable() -> None:
    layer = PackedDense(2, 4, 3, use_bias=True)
    x = tf.constant(RNG.normal(size=(2, 5, 4)).astype("float32"))
    with tf.GradientTape() as tape:
        y = layer(x)
    assert y.shape == (2, 5, 3)
    assert all(g is not None for g in tape.gradient(y, layer.trainable_variables))


def test_sqrt_is_the_correctly_rounded_root_and_divides_exactly_under_xla() -> None:
    """XLA computes ``a / sqrt(b)`` with the chip's approximate rsqrt; through ``exact.sqrt`` it is the
    correctly rounded float32 division NumPy computes. The control: plain ``tf.sqrt`` is not."""
    b = np.abs(RNG.normal(size=50_000)).astype("float32") + np.float32(1e-3)
    a = RNG.normal(size=50_000).astype("float32")
    expected = a / np.sqrt(b)
    ours = tf.function(lambda a, b: a / exact.sqrt(b), jit_compile=True)(a, b).numpy()
    plain = tf.function(lambda a, b: a / tf.sqrt(b), jit_compile=True)(a, b).numpy()
    np.testing.assert_array_equal(ours, expected)
    assert (plain != expected).any()
    assert np.isnan(exact.sqrt(tf.constant([-1.0])).numpy()).all()


def test_sqrt_s_gradient_is_half_over_the_root() -> None:
    v = tf.constant([0.25, 4.0, 9.0])
    with tf.GradientTape() as tape:
        tape.watch(v)
        r = exact.sqrt(v)
    np.testing.assert_array_equal(tape.gradient(r, v).numpy(), np.float32(0.5) / np.sqrt(v.numpy()))


@pytest.mark.parametrize(
    ("ours", "keras_class"), [(exact_optimizers.RMSprop, "RMSprop"), (exact_optimizers.Adagrad, "Adagrad")]
)
def test_the_optimizers_update_as_keras_s_do_outside_xla(ours: type, keras_class: str) -> None:
    """Eagerly, where TensorFlow divides by a correctly rounded root, Keras's own update and ours give the
    same bits for several steps."""
    start, grads = RNG.normal(size=(4, 3)).astype("float32"), RNG.normal(size=(5, 4, 3)).astype("float32")
    weights = []
    for optimizer in (ours(learning_rate=0.01), getattr(keras.optimizers, keras_class)(learning_rate=0.01)):
        variable = keras.Variable(start)
        for g in grads:
            optimizer.apply([tf.constant(g)], [variable])
        weights.append(variable.numpy())
    np.testing.assert_array_equal(*weights)


def test_rmsprop_refuses_the_variants_it_does_not_cover() -> None:
    with pytest.raises(ValueError, match="momentum=0"):
        exact_optimizers.RMSprop(learning_rate=0.01, momentum=0.9)
