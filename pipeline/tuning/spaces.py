"""Turning an Optuna trial into a trainable candidate, for each of the two studies."""

from __future__ import annotations

import optuna

from pipeline.config import OptimizeConfig, SearchConfig
from pipeline.model.config import Candidate, ModelConfig, TrainingConfig
from pipeline.model.optimizers import OptimizerConfig, spec


def suggest_optimizer(trial: optuna.Trial, name: str, prefix: str = "") -> OptimizerConfig:
    """Sample the optimizer's own hyperparameters from its registered space."""
    values = {
        key: trial.suggest_float(f"{prefix}{key}", r.low, r.high, log=r.log) for key, r in spec(name).space.items()
    }
    return OptimizerConfig(name=name, hyperparameters=values)


def comparison_candidate(trial: optuna.Trial, optimizer: str, baseline: Candidate, cfg: OptimizeConfig) -> Candidate:
    """The baseline network and batch size; only the optimizer and its hyperparameters vary."""
    training = TrainingConfig(
        epochs=cfg.epochs,
        batch_size=baseline.training.batch_size,
        early_stopping_patience=cfg.early_stopping_patience,
        imbalance="none",
    )
    return Candidate(model=baseline.model, optimizer=suggest_optimizer(trial, optimizer), training=training)


def search_candidate(trial: optuna.Trial, space: SearchConfig, baseline: Candidate, cfg: OptimizeConfig) -> Candidate:
    """Architecture, regularization, optimizer, batch size and imbalance handling together."""
    layers = trial.suggest_int("hidden_layers", *space.hidden_layers)
    units = [trial.suggest_int(f"units_{i + 1}", *space.units, log=True) for i in range(layers)]
    model = ModelConfig(
        hidden_units=units,
        activation=baseline.model.activation,
        dropout=trial.suggest_float("dropout", *space.dropout),
        batch_norm=trial.suggest_categorical("batch_norm", space.batch_norm),
        l2=trial.suggest_float("l2", *space.l2, log=True),
        initializer=baseline.model.initializer,
    )
    name = trial.suggest_categorical("optimizer", space.optimizers)
    training = TrainingConfig(
        epochs=cfg.epochs,
        batch_size=trial.suggest_categorical("batch_size", space.batch_sizes),
        early_stopping_patience=cfg.early_stopping_patience,
        imbalance=trial.suggest_categorical("imbalance", space.imbalance),
    )
    return Candidate(model=model, optimizer=suggest_optimizer(trial, name, prefix=f"{name}."), training=training)
