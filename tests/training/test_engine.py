"""The packed engine trains like model.fit, deterministically, with every registered optimizer, and
each network of a pack exactly as it would train alone."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from pipeline.model.architecture import build_model
from pipeline.model.config import Candidate, ModelConfig, TrainingConfig
from pipeline.model.optimizers import REGISTRY, OptimizerConfig
from pipeline.model.packed import PackedNetwork
from pipeline.training.engine import Member, PackedTrainer
from pipeline.training.job import TrainingData, train, train_pack

SMALL = ModelConfig(hidden_units=[8])


def _candidate(optimizer: str, lr: float, model: ModelConfig = SMALL, **training: object) -> Candidate:
    recipe = {"epochs": 15, "batch_size": 32, "early_stopping_patience": None, "imbalance": "none", **training}
    return Candidate(
        model=model,
        optimizer=OptimizerConfig(name=optimizer, hyperparameters={"learning_rate": lr}),
        training=TrainingConfig(**recipe),
    )


@pytest.mark.slow  # trains for seconds
def test_engine_matches_model_fit(training_data: TrainingData) -> None:
    """Full-batch training removes shuffling from the comparison: the curves must coincide."""
    x, y = training_data.train.x, training_data.train.y
    epochs = 40
    reference = build_model(x.shape[1], SMALL, seed=3)
    reference.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    fit_losses = reference.fit(x, y, batch_size=len(x), epochs=epochs, shuffle=False, verbose=0).history["loss"]

    network = PackedNetwork(x.shape[1], SMALL, seeds=[3])
    member = Member(x, y, training_data.validation.x, training_data.validation.y)
    [history] = PackedTrainer(network, keras.optimizers.SGD(0.1)).fit([member], epochs=epochs, batch_size=len(x))
    [ours] = network.models
    np.testing.assert_allclose(history.train_loss, fit_losses, rtol=1e-4)
    np.testing.assert_allclose(ours.predict(x, verbose=0), reference.predict(x, verbose=0), atol=1e-5)


REGULARIZED = ModelConfig(hidden_units=[16, 8], batch_norm=True, dropout=0.3, l2=1e-3)


@pytest.mark.slow  # trains for seconds
@pytest.mark.parametrize("model", [ModelConfig(hidden_units=[16]), REGULARIZED], ids=["baseline", "bn-dropout"])
def test_each_network_of_a_pack_trains_as_it_would_alone(model: ModelConfig, training_data: TrainingData) -> None:
    """5 seeds packed and one at a time: per seed the same best epoch, epochs run (own early
    stopping) and validation loss; the unpacked Keras models predict what the pack predicted."""
    candidate = _candidate("adam", 0.01, model, epochs=40, early_stopping_patience=4, imbalance="class_weight")
    seeds = [0, 1, 2, 3, 4]
    packed = train_pack(candidate, training_data, seeds)
    alone = [train(candidate, training_data, seed) for seed in seeds]
    for p, a in zip(packed, alone, strict=True):
        assert p.seed == a.seed
        assert p.history.best_epoch == a.history.best_epoch
        assert p.history.epochs_run == a.history.epochs_run == p.history.best_epoch + 4
        assert p.val_metrics["log_loss"] == pytest.approx(a.val_metrics["log_loss"], abs=1e-5)
        np.testing.assert_allclose(p.history.val_loss, a.history.val_loss, atol=1e-5)
        keras_p = p.model.predict(training_data.validation.x, verbose=0)[:, 0]
        np.testing.assert_allclose(keras_p, p.val_probabilities, atol=1e-6)
    assert len({p.history.epochs_run for p in packed}) > 1  # the seeds stopped at different epochs


PER_LAYER = ModelConfig(hidden_units=[64, 64], batch_norm=[True, False], dropout=[0.0, 0.5])


@pytest.mark.slow  # trains for seconds
def test_per_layer_regularization_trains_in_a_pack_as_alone(training_data: TrainingData) -> None:
    """Batch norm after the first layer only and dropout after the second only: one mask, for
    the second layer, and per seed the same curves packed as one at a time."""
    assert PackedNetwork(training_data.preprocessor.n_features, PER_LAYER, seeds=[0]).dropout_widths == [64]
    candidate = _candidate("adam", 0.01, PER_LAYER, epochs=6)
    seeds = [0, 1]
    packed = train_pack(candidate, training_data, seeds)
    alone = [train(candidate, training_data, seed) for seed in seeds]
    for p, a in zip(packed, alone, strict=True):
        assert p.seed == a.seed
        assert p.history.best_epoch == a.history.best_epoch
        assert p.history.epochs_run == a.history.epochs_run == 6
        assert p.val_metrics["log_loss"] == pytest.approx(a.val_metrics["log_loss"], abs=1e-5)
        np.testing.assert_allclose(p.history.train_loss, a.history.train_loss, atol=1e-5)
        np.testing.assert_allclose(p.history.val_loss, a.history.val_loss, atol=1e-5)
        keras_p = p.model.predict(training_data.validation.x, verbose=0)[:, 0]
        np.testing.assert_allclose(keras_p, p.val_probabilities, atol=1e-6)
    assert packed[0].history.train_loss != packed[1].history.train_loss


@pytest.mark.slow  # trains for seconds
def test_a_stopped_network_no_longer_changes(training_data: TrainingData) -> None:
    """Two networks in a pack, the first stopping long before the second: its weights after the
    pack equal those of its best epoch, as when it trains alone."""
    x, y = training_data.train.x, training_data.train.y
    val = (training_data.validation.x, training_data.validation.y)
    model = ModelConfig(hidden_units=[32], batch_norm=True)
    members = [Member(x, y, *val), Member(x[:150], y[:150], *val)]  # uneven sizes too
    network = PackedNetwork(x.shape[1], model, seeds=[1, 2])
    histories = PackedTrainer(network, keras.optimizers.Adam(0.05)).fit(members, epochs=60, batch_size=32, patience=2)
    for k, (seed, member) in enumerate(zip([1, 2], members, strict=True)):
        alone = PackedNetwork(x.shape[1], model, seeds=[seed])
        [history] = PackedTrainer(alone, keras.optimizers.Adam(0.05)).fit(
            [member], epochs=60, batch_size=32, patience=2
        )
        assert history.epochs_run == histories[k].epochs_run
        for packed_weight, alone_weight in zip(
            network.models[k].get_weights(), alone.models[0].get_weights(), strict=True
        ):
            np.testing.assert_allclose(packed_weight, alone_weight, atol=1e-5)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_registered_optimizer_reduces_the_training_loss(name: str, training_data: TrainingData) -> None:
    lr = 0.05 if name in {"sgd", "momentum", "nesterov", "adagrad"} else 0.01
    result = train(_candidate(name, lr), training_data, seed=0)
    assert result.history.train_loss[-1] < 0.9 * result.history.train_loss[0]


@pytest.mark.slow  # trains for seconds
@pytest.mark.parametrize("model", [SMALL, ModelConfig(hidden_units=[8, 4], dropout=0.2, batch_norm=True, l2=1e-3)])
def test_same_seed_gives_identical_metrics(model: ModelConfig, training_data: TrainingData) -> None:
    candidate = _candidate("adam", 0.01, model)
    first, again = train(candidate, training_data, seed=5), train(candidate, training_data, seed=5)
    other = train(candidate, training_data, seed=6)
    assert first.history.train_loss == again.history.train_loss
    assert first.history.val_loss == again.history.val_loss
    assert first.val_metrics == again.val_metrics
    assert first.history.train_loss != other.history.train_loss


def test_early_stopping_restores_the_best_epoch(training_data: TrainingData) -> None:
    candidate = _candidate("adam", 0.05, ModelConfig(hidden_units=[64]), epochs=60, early_stopping_patience=3)
    result = train(candidate, training_data, seed=1)
    history = result.history
    assert history.epochs_run < 60  # a large learning rate overfits 300 rows quickly
    assert history.epochs_run == history.best_epoch + 3
    assert result.val_metrics["log_loss"] == pytest.approx(min(history.val_loss), rel=1e-6)


@pytest.mark.slow  # trains for seconds
def test_class_weights_and_smote_raise_the_learned_churn_prior(training_data: TrainingData) -> None:
    """Fitted on imbalanced data, a model's mean probability is near the churn rate; balancing
    the classes (by weights or by synthetic churners) moves it towards one half."""
    x = training_data.train.x
    base_rate = float(training_data.train.y.mean())
    assert base_rate < 0.4

    def mean_probability(imbalance: str) -> float:
        result = train(_candidate("adam", 0.01, epochs=10, imbalance=imbalance), training_data, seed=0)
        return float(result.model.predict(x, verbose=0).mean())

    plain = mean_probability("none")
    assert abs(plain - base_rate) < 0.1
    assert mean_probability("class_weight") > plain + 0.05
    assert mean_probability("smote") > plain + 0.02  # a smaller shift: the synthetic churners are separable
