"""Focal loss (Lin et al., 2017) as a class-imbalance treatment: the packed engine minimizes exactly
what Keras's ``BinaryFocalCrossentropy`` makes ``model.fit`` minimize, and a "focal" candidate trains
through the ordinary job while early stopping keeps watching the plain validation log loss."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from pydantic import ValidationError

from pipeline.evaluation import metrics
from pipeline.model.architecture import build_model
from pipeline.model.config import Candidate, ModelConfig, TrainingConfig
from pipeline.model.optimizers import OptimizerConfig
from pipeline.model.packed import PackedNetwork
from pipeline.training.engine import Member, PackedTrainer
from pipeline.training.job import TrainingData, train

SMALL = ModelConfig(hidden_units=[8])
SEED, BATCH, EPOCHS, LR = 3, 32, 3, 0.1


def _engine_weights(data: TrainingData, focal_gamma: float | None) -> list[np.ndarray]:
    x, y = data.train.x, data.train.y
    network = PackedNetwork(x.shape[1], SMALL, seeds=[SEED])
    member = Member(x, y, data.validation.x, data.validation.y)
    trainer = PackedTrainer(network, keras.optimizers.SGD(LR), focal_gamma=focal_gamma)
    trainer.fit([member], epochs=EPOCHS, batch_size=BATCH)
    return network.models[0].get_weights()


def _fit_weights(data: TrainingData, loss: keras.losses.Loss) -> list[np.ndarray]:
    """``model.fit`` over the engine's batches: each epoch's row order is the permutation the engine
    draws from ``default_rng(seed)``, then the padding draw it makes for the short last batch
    (those rows have weight 0 in the engine; ``fit`` simply averages over a shorter batch)."""
    x, y = data.train.x, data.train.y
    n = len(x)
    padding = -(-n // BATCH) * BATCH - n
    assert padding > 0, "the data should leave a short last batch, to compare the padding too"
    model = build_model(x.shape[1], SMALL, seed=SEED)
    model.compile(optimizer=keras.optimizers.SGD(LR), loss=loss)
    rng = np.random.default_rng(SEED)
    for _ in range(EPOCHS):
        order = rng.permutation(n)
        rng.integers(0, n, padding)
        model.fit(x[order], y[order], batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    return model.get_weights()


def _max_difference(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.max(np.abs(u - v))) for u, v in zip(a, b, strict=True))


@pytest.mark.slow  # trains for seconds
def test_engine_focal_loss_matches_model_fit(training_data: TrainingData) -> None:
    """Mini-batches, shuffled and padded as in the pipeline: the same weights as ``fit`` with
    ``BinaryFocalCrossentropy(gamma=2)``, and clearly not those of binary cross-entropy."""
    ours = _engine_weights(training_data, focal_gamma=2.0)
    focal = _fit_weights(training_data, keras.losses.BinaryFocalCrossentropy(gamma=2.0))
    assert _max_difference(ours, focal) < 1e-5
    cross_entropy = _fit_weights(training_data, keras.losses.BinaryCrossentropy())
    assert _max_difference(ours, cross_entropy) > 1e-3  # the control: the loss does change the weights
    assert _max_difference(_engine_weights(training_data, focal_gamma=None), cross_entropy) < 1e-5


def _candidate(imbalance: str, **training: object) -> Candidate:
    return Candidate(
        model=SMALL,
        optimizer=OptimizerConfig(name="adam", hyperparameters={"learning_rate": 0.01}),
        training=TrainingConfig(epochs=12, batch_size=32, early_stopping_patience=3, imbalance=imbalance, **training),
    )


@pytest.mark.slow  # trains for seconds
def test_a_focal_candidate_trains_through_the_job(training_data: TrainingData) -> None:
    """Plain rows and no weights, as "none", but another loss: other weights, and a finite
    validation log loss; the validation curve and the early stopping use the log loss, not focal loss."""
    focal = train(_candidate("focal"), training_data, seed=0)
    plain = train(_candidate("none"), training_data, seed=0)
    history = focal.history
    assert np.isfinite(focal.val_metrics["log_loss"])
    assert np.all(np.isfinite(history.val_loss))
    assert focal.val_metrics["log_loss"] == pytest.approx(history.val_loss[history.best_epoch - 1], abs=1e-6)
    assert focal.val_metrics["log_loss"] == pytest.approx(
        metrics.log_loss(training_data.validation.y, focal.val_probabilities), abs=1e-9
    )
    assert _max_difference(focal.model.get_weights(), plain.model.get_weights()) > 1e-3
    # the training curve is focal loss, below the cross-entropy it down-weights
    assert history.train_loss[0] < plain.history.train_loss[0]
    # gamma reaches the engine
    other_gamma = train(_candidate("focal", focal_gamma=0.5), training_data, seed=0)
    assert _max_difference(focal.model.get_weights(), other_gamma.model.get_weights()) > 1e-3


def test_focal_gamma_defaults_to_lin_et_al_and_must_be_positive() -> None:
    assert TrainingConfig(epochs=1, batch_size=1, imbalance="focal").focal_gamma == 2.0
    with pytest.raises(ValidationError):
        TrainingConfig(epochs=1, batch_size=1, imbalance="focal", focal_gamma=0.0)
