"""A fast training loop that stays Keras, for K networks of one configuration at once.

``model.fit`` spends almost all its time on per-step Python work for a network this
small (about 3 ms a step for a few kFLOP), and even a compiled loop is bound by the
per-step overhead (about 60 µs). So one compiled XLA call runs a whole epoch of K
packed networks (``pipeline.model.packed``): the batches of the epoch, shuffled on the
host per network, are stacked into one tensor and a ``tf.while_loop`` applies one
Keras optimizer to the packed weights. Keras optimizers update elementwise, the loss
is a sum of per-network losses, and nothing else mixes across the model axis, so every
network trains as it would alone: its own seed (initial weights, shuffling, dropout
masks), its own sample weights and data, its own early stopping. The loss is the one
``model.fit`` minimizes: binary cross-entropy (or, if asked, Keras's binary focal
cross-entropy; Lin et al., 2017) with sample weights, summed over the batch and divided
by its size, plus the L2 penalty. Early stopping always watches the validation log loss.

Dropout masks are drawn on the host (uint16 per unit, from a generator seeded by the
network's seed), not by XLA's CPU random-number kernels: those made a dropout step cost
more than the rest of it, and host draws do not depend on K or on the machine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

from pipeline.evaluation import metrics
from pipeline.model.packed import PackedNetwork


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


@dataclass(frozen=True)
class Member:
    """One network's data in a pack: its training rows (and their weights) and validation rows."""

    x: np.ndarray
    y: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    sample_weight: np.ndarray | None = None


class _Epochs:
    """Host side of one network's epochs: its shuffling and dropout draws, seeded by its seed."""

    def __init__(self, rows: int, seed: int, batch_size: int, n_batches: int, widths: list[int]) -> None:
        self.rows, self.batch_size, self.n_batches, self.widths = rows, batch_size, n_batches, widths
        self.shuffle = np.random.default_rng(seed)
        self.dropout = np.random.default_rng([seed, 1])  # a stream of its own: shuffling stays as without dropout
        self.own_batches = -(-rows // batch_size)

    def next(self) -> tuple[np.ndarray, ...]:
        """Row order [batches, batch], real (1 for rows, 0 for padding) and one dropout draw per layer."""
        n, b = self.rows, self.batch_size
        own, total = self.own_batches * b, self.n_batches * b
        # padding rows are real rows with weight 0: they move no weight, only fill the last batch;
        # batches beyond this network's own are empty, and its weights do not move in them
        order = np.zeros(total, "int32")
        order[:n] = self.shuffle.permutation(n)
        order[n:own] = self.shuffle.integers(0, n, own - n)
        real = np.zeros(total, "float32")
        real[:n] = 1.0
        masks = []
        for width in self.widths:
            mask = np.zeros((self.n_batches, b, width), "uint16")
            draws = self.dropout.bytes(2 * own * width)
            mask[: self.own_batches] = np.frombuffer(draws, "uint16").reshape(self.own_batches, b, width)
            masks.append(mask)
        return order.reshape(self.n_batches, b), real.reshape(self.n_batches, b), *masks


class PackedTrainer:
    """Trains a ``PackedNetwork`` with one Keras optimizer; build one per pack.

    ``focal_gamma`` None minimizes binary cross-entropy; a number minimizes Keras's binary focal
    cross-entropy with that gamma and no alpha (class) balancing, which down-weights rows already
    well classified. Either way the validation loss that early stopping watches and ``History``
    reports is the plain log loss: a proper scoring rule, comparable across losses."""

    def __init__(
        self, network: PackedNetwork, optimizer: keras.optimizers.Optimizer, *, focal_gamma: float | None = None
    ) -> None:
        self.network, self.optimizer, self.focal_gamma = network, optimizer, focal_gamma
        optimizer.build(network.trainable_variables)
        self._epoch = {
            frozen: tf.function(lambda *a, frozen=frozen: self._epoch_graph(*a, frozen=frozen), jit_compile=True)
            for frozen in (False, True)
        }

    def _epoch_graph(
        self, x: tf.Tensor, y: tf.Tensor, w: tf.Tensor, order: tf.Tensor, real: tf.Tensor, training: tf.Tensor,
        x_val: tf.Tensor, *masks: tf.Tensor, frozen: bool,
    ) -> tuple[tf.Tensor, tf.Tensor]:  # fmt: skip
        """x: [K, rows, features], y and w (sample weights): [K, rows]; order: [batches, K, batch]
        row numbers; real: 1 for rows, 0 for padding; training: [K], 1 for networks still training.
        With ``frozen``, a network that is not training, or has no rows in a step, keeps its weights
        and moving averages (two traces: the common case needs no copy). Returns each network's
        epoch loss and its probabilities on ``x_val`` after the epoch (one call, not two)."""
        network, optimizer = self.network, self.optimizer
        trainable, every = network.trainable_variables, network.variables

        def step(i: tf.Tensor, sums: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            rows = tf.reduce_sum(real[i], axis=1)  # [K]
            before = [tf.identity(v.value) for v in every] if frozen else []  # snapshots, not the variables
            batch = order[i]
            x_i, y_i, w_i = (tf.gather(t, batch, batch_dims=1) for t in (x, y, w))
            with tf.GradientTape() as tape:
                p = network(x_i, training=True, masks=[m[i] for m in masks])
                per_row = self._loss(y_i[..., None], p[..., None])
                losses = tf.reduce_sum(per_row * w_i * real[i], axis=1) / tf.maximum(rows, 1.0)
                losses = losses + network.l2_penalty()
                total = tf.reduce_sum(losses)
            optimizer.apply(tape.gradient(total, trainable), trainable)
            if frozen:
                moving = training * tf.cast(rows > 0, tf.float32)
                for variable, old in zip(every, before, strict=True):
                    keep = tf.reshape(moving, [-1] + [1] * (len(variable.shape) - 1)) > 0
                    variable.assign(tf.where(keep, variable.value, old))
            return i + 1, sums + losses * rows

        n_batches = tf.shape(order)[0]
        zeros = tf.zeros(tf.shape(real)[1:2])
        _, sums = tf.while_loop(lambda i, _: i < n_batches, step, (tf.constant(0), zeros))
        with tf.control_dependencies([sums]):  # the validation pass sees the epoch's final weights
            p_val = network(tf.identity(x_val), training=False)
        return sums / tf.reduce_sum(real, axis=[0, 2]), p_val

    def _loss(self, y: tf.Tensor, p: tf.Tensor) -> tf.Tensor:
        """Per-row training loss, averaged over the last axis (one unit) as Keras's losses do."""
        if self.focal_gamma is None:
            return keras.losses.binary_crossentropy(y, p)
        return keras.losses.binary_focal_crossentropy(y, p, apply_class_balancing=False, gamma=self.focal_gamma)

    def fit(
        self,
        members: list[Member],
        *,
        epochs: int,
        batch_size: int,
        patience: int | None = None,
        on_epoch: EpochCallback | None = None,
    ) -> list[History]:
        """Train each network on its member's data; with ``patience``, each stops when its validation
        loss has not improved for that many epochs and gets its best weights back. ``on_epoch``
        (one network only) sees each epoch's metrics and may raise, e.g. to prune an Optuna trial."""
        network = self.network
        if len(members) != network.size:
            raise ValueError(f"{len(members)} members for a pack of {network.size} networks")
        if on_epoch is not None and network.size != 1:
            raise ValueError("on_epoch follows one network; train a pack of one")
        n_batches = max(-(-len(m.x) // batch_size) for m in members)
        feeds = [
            _Epochs(len(m.x), seed, batch_size, n_batches, network.dropout_widths)
            for m, seed in zip(members, network.seeds, strict=True)
        ]
        uneven = any(f.own_batches != n_batches for f in feeds)
        data = _resident(members)
        x_val, val_rows = _stack_validation(members)
        x_val = _packed(x_val, network.size)
        progress = _Progress.start(len(members))

        for epoch in range(1, epochs + 1):
            sums, p_val = self._run_epoch(feeds, uneven, data, x_val, progress.training)
            val_loss, val_auc = _validation_metrics(members, p_val, val_rows)
            improved = progress.record(epoch, sums, val_loss, val_auc, patience, on_epoch)
            if patience is not None and improved:
                values = network.slices()
                for k in improved:
                    progress.best_weights[k] = values[k]
            if not progress.training.any():
                break
        for k, weights in enumerate(progress.best_weights):
            if weights is not None:
                network.restore(k, weights)
        network.unpack()
        return progress.histories

    def _run_epoch(
        self,
        feeds: list[_Epochs],
        uneven: bool,
        data: tuple[tf.Tensor, tf.Tensor, tf.Tensor],
        x_val: tf.Tensor,
        training: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """One compiled epoch of the pack: each network's epoch loss [K] and validation probabilities
        [K, rows] (float64), as NumPy arrays."""
        parts = [f.next() for f in feeds]
        order, real, *masks = (tf.constant(np.stack(p, axis=1)) for p in zip(*parts, strict=True))
        frozen = uneven or not training.all()
        sums, p_val = self._epoch[frozen](*data, order, real, tf.constant(training), x_val, *masks)
        return sums.numpy(), p_val.numpy().astype("float64")


@dataclass
class _Progress:
    """Each network's curves and early-stopping state while a pack trains."""

    histories: list[History]
    best: list[float]  # lowest validation loss so far
    best_weights: list[list[np.ndarray] | None]  # the variables' values at that epoch (with patience)
    stale: list[int]  # epochs since the last improvement
    training: np.ndarray  # [K] float32: 1 while a network trains, 0 once early stopping stopped it

    @classmethod
    def start(cls, size: int) -> _Progress:
        histories = [History() for _ in range(size)]
        return cls(histories, [np.inf] * size, [None] * size, [0] * size, np.ones(size, "float32"))

    def record(
        self,
        epoch: int,
        sums: np.ndarray,
        val_loss: np.ndarray,
        val_auc: np.ndarray,
        patience: int | None,
        on_epoch: EpochCallback | None,
    ) -> list[int]:
        """Append the epoch's metrics of each network still training and stop those out of patience;
        returns the networks whose validation loss improved."""
        improved = []
        for k in range(len(self.histories)):
            if not self.training[k]:
                continue
            if not np.isfinite(sums[k]):
                raise TrainingDivergedError(f"training loss is {sums[k]} at epoch {epoch}")
            history = self.histories[k]
            history.train_loss.append(float(sums[k]))
            history.val_loss.append(float(val_loss[k]))
            history.val_roc_auc.append(float(val_auc[k]))
            if on_epoch is not None:
                on_epoch(epoch, {"train_loss": float(sums[k]), "val_loss": history.val_loss[-1],
                                 "val_roc_auc": history.val_roc_auc[-1]})  # fmt: skip
            if history.val_loss[-1] < self.best[k]:
                self.best[k], history.best_epoch, self.stale[k] = history.val_loss[-1], epoch, 0
                improved.append(k)
            elif patience is not None:
                self.stale[k] += 1
                if self.stale[k] >= patience:
                    self.training[k] = 0.0  # stopped: its weights no longer change
        return improved


def _resident(members: list[Member]) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Every network's training rows, labels and sample weights, [K, rows(, features)], uploaded once."""
    rows = max(len(m.x) for m in members)
    x = np.zeros((len(members), rows, members[0].x.shape[1]), "float32")
    y = np.zeros((len(members), rows), "float32")
    w = np.zeros((len(members), rows), "float32")
    for k, m in enumerate(members):
        n = len(m.x)
        x[k, :n], y[k, :n] = m.x, m.y
        w[k, :n] = 1.0 if m.sample_weight is None else m.sample_weight
    return tf.constant(x), tf.constant(y), tf.constant(w)


def _packed(x: np.ndarray, size: int) -> tf.Tensor:
    return tf.constant(np.broadcast_to(x, (size, *x.shape)) if x.ndim == 2 else x)


def _validation_metrics(members: list[Member], p_val: np.ndarray, rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Each network's validation log loss and ROC-AUC: in one pass when they share the validation set."""
    if all(m.y_val is members[0].y_val for m in members):
        y = members[0].y_val
        return metrics.log_loss_by_row(y, p_val), metrics.roc_auc_by_row(y, p_val)
    pairs = [(m.y_val, p_val[k : k + 1, : rows[k]]) for k, m in enumerate(members)]
    return (np.array([metrics.log_loss_by_row(y, p)[0] for y, p in pairs]),
            np.array([metrics.roc_auc_by_row(y, p)[0] for y, p in pairs]))  # fmt: skip


def _stack_validation(members: list[Member]) -> tuple[np.ndarray, list[int]]:
    """One [K, rows, features] array (shorter sets padded), and each member's row count."""
    rows = [len(m.x_val) for m in members]
    if all(m.x_val is members[0].x_val for m in members):
        return np.asarray(members[0].x_val, "float32"), rows
    x = np.zeros((len(members), max(rows), members[0].x_val.shape[1]), "float32")
    for k, m in enumerate(members):
        x[k, : rows[k]] = m.x_val
    return x, rows
