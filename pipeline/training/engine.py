"""A fast training loop that stays Keras: Keras model, Keras optimizer, Keras loss.

``model.fit`` spends almost all its time on per-step Python work for a network this
small (about 3 ms a step for a few kFLOP). Here one compiled call runs a whole epoch:
the batches of the (host-shuffled) epoch are stacked into one tensor and a
``tf.while_loop`` applies the Keras optimizer to each in turn. The epoch is compiled
with XLA, except for models with dropout: XLA's CPU random-number kernels make a
dropout mask cost more than the rest of the step, and the plain TensorFlow graph is
then several times faster. The loss is the one
``model.fit`` minimizes: binary cross-entropy with sample weights, summed over the
batch and divided by its size, plus the layers' regularization losses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from pipeline.evaluation import metrics


def limit_threads(threads: int) -> None:
    """Cap TensorFlow's thread pools; call before the first TensorFlow operation. Several
    worker processes on one machine each want one thread per core they may use, or they
    oversubscribe the cores and all slow down."""
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite (typically a learning rate far too high)."""


@dataclass
class History:
    """Per-epoch curves. ``best_epoch`` (1-based) has the lowest validation loss: the epoch the
    model converged at, and the weights it ends with when early stopping restores them."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_roc_auc: list[float] = field(default_factory=list)
    best_epoch: int = 0

    @property
    def epochs_run(self) -> int:
        return len(self.train_loss)


EpochCallback = Callable[[int, dict[str, float]], None]


class Trainer:
    """Trains one Keras model with one Keras optimizer; build one per model."""

    def __init__(
        self, model: keras.Model, optimizer: keras.optimizers.Optimizer, jit_compile: bool | None = None
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        optimizer.build(model.trainable_variables)
        if jit_compile is None:
            jit_compile = not any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
        self.jit_compile = jit_compile
        self._epoch = tf.function(self._epoch_graph, jit_compile=jit_compile, reduce_retracing=True)
        self._predict = tf.function(lambda x: model(x, training=False)[:, 0], jit_compile=True)

    def _epoch_graph(self, x: tf.Tensor, y: tf.Tensor, w: tf.Tensor, real: tf.Tensor) -> tf.Tensor:
        """x: [batches, batch, features]; w: sample weights; real: 1 for rows, 0 for padding."""
        model, optimizer = self.model, self.optimizer
        variables = model.trainable_variables

        def step(i: tf.Tensor, weighted_sum: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            rows = tf.reduce_sum(real[i])
            with tf.GradientTape() as tape:
                p = model(x[i], training=True)
                per_row = keras.losses.binary_crossentropy(y[i][:, None], p)
                loss = tf.reduce_sum(per_row * w[i] * real[i]) / rows
                for extra in model.losses:
                    loss = loss + extra
            optimizer.apply(tape.gradient(loss, variables), variables)
            return i + 1, weighted_sum + loss * rows

        n_batches = tf.shape(x)[0]
        _, total = tf.while_loop(lambda i, _: i < n_batches, step, (tf.constant(0), tf.constant(0.0)))
        return total / tf.reduce_sum(real)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self._predict(tf.constant(x, dtype=tf.float32)).numpy().astype("float64")

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        validation: tuple[np.ndarray, np.ndarray],
        *,
        epochs: int,
        batch_size: int,
        seed: int,
        sample_weight: np.ndarray | None = None,
        patience: int | None = None,
        on_epoch: EpochCallback | None = None,
    ) -> History:
        """Train; with ``patience``, stop when validation loss has not improved for that many
        epochs and restore the best weights. ``on_epoch`` sees each epoch's metrics (and may
        raise, e.g. to prune an Optuna trial)."""
        rng = np.random.default_rng(seed)
        n = len(x)
        n_batches = -(-n // batch_size)
        padded = n_batches * batch_size
        weights = np.ones(n, "float32") if sample_weight is None else sample_weight.astype("float32")
        real = np.zeros(padded, "float32")
        real[:n] = 1.0
        real_t = tf.constant(real.reshape(n_batches, batch_size))
        x_val, y_val = validation
        history = History()
        best_loss, best_weights, stale = np.inf, None, 0

        for epoch in range(1, epochs + 1):
            # padding rows are real rows with weight 0: they move no weight, only fill the last batch
            order = np.concatenate([rng.permutation(n), rng.integers(0, n, padded - n)])
            batches = (
                tf.constant(x[order].reshape(n_batches, batch_size, -1), dtype=tf.float32),
                tf.constant(y[order].reshape(n_batches, batch_size), dtype=tf.float32),
                tf.constant(weights[order].reshape(n_batches, batch_size)),
                real_t,
            )
            train_loss = float(self._epoch(*batches))
            if not np.isfinite(train_loss):
                raise TrainingDivergedError(f"training loss is {train_loss} at epoch {epoch}")
            p_val = self.predict(x_val)
            val_loss = metrics.log_loss(y_val, p_val)
            history.train_loss.append(train_loss)
            history.val_loss.append(val_loss)
            history.val_roc_auc.append(metrics.roc_auc(y_val, p_val))
            if on_epoch is not None:
                on_epoch(
                    epoch, {"train_loss": train_loss, "val_loss": val_loss, "val_roc_auc": history.val_roc_auc[-1]}
                )
            if val_loss < best_loss:
                best_loss, history.best_epoch, stale = val_loss, epoch, 0
                if patience is not None:
                    best_weights = self.model.get_weights()
            elif patience is not None:
                stale += 1
                if stale >= patience:
                    break
        if best_weights is not None:
            self.model.set_weights(best_weights)
        return history
