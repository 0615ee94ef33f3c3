"""A training job: one model config, one optimizer, one training recipe, one seed."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from pipeline.config import PathsConfig
from pipeline.data.schema import DataSchema
from pipeline.evaluation import metrics
from pipeline.features.encoded import Split, load_split
from pipeline.features.preprocessing import Preprocessor
from pipeline.model.config import Candidate, Imbalance, TrainingConfig
from pipeline.model.files import save_model
from pipeline.model.inference import Ensemble
from pipeline.model.packed import PackedNetwork
from pipeline.training import imbalance
from pipeline.training.engine import EpochCallback, History, Member, PackedTrainer


@dataclass(frozen=True)
class TrainingData:
    """Training and validation splits; the test split is deliberately not part of it."""

    train: Split
    validation: Split
    schema: DataSchema
    preprocessor: Preprocessor
    _smote_cache: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, compare=False, repr=False)

    def smote_arrays(self, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The training split oversampled with SMOTE-NC, encoded; computed once per seed."""
        if seed not in self._smote_cache:
            resampled = imbalance.smote(self.train.frame, self.schema, seed)
            y = resampled[self.schema.target.column].to_numpy(dtype="float32")
            self._smote_cache[seed] = (self.preprocessor.transform(resampled), y)
        return self._smote_cache[seed]


@dataclass
class TrainedModel:
    candidate: Candidate
    seed: int
    threshold: float
    model: keras.Model
    history: History
    validation_labels: np.ndarray
    val_probabilities: np.ndarray
    val_metrics: dict[str, float]
    seconds: float

    def save(self, path: Path) -> None:
        save_model(self.model, path)


def train(
    candidate: Candidate,
    data: TrainingData,
    seed: int,
    threshold: float = 0.5,
    on_epoch: EpochCallback | None = None,
) -> TrainedModel:
    """Build, train and score on validation; the same numbers for a given seed on any machine."""
    [trained] = train_pack(candidate, data, [seed], threshold, on_epoch)
    return trained


def train_pack(
    candidate: Candidate,
    data: TrainingData,
    seeds: list[int],
    threshold: float = 0.5,
    on_epoch: EpochCallback | None = None,
) -> list[TrainedModel]:
    """One configuration over several seeds in one packed training: each seed's model is the
    one it would be alone (its initial weights, shuffling, dropout masks and early stopping)."""
    return train_members(candidate, [data] * len(seeds), seeds, threshold, on_epoch)


def train_members(
    candidate: Candidate,
    datas: Sequence[TrainingData],
    seeds: list[int],
    threshold: float = 0.5,
    on_epoch: EpochCallback | None = None,
) -> list[TrainedModel]:
    """One configuration, one packed training, member k on ``datas[k]`` with ``seeds[k]``: the
    seeds of one split, or the folds of a resampling (each fold its own rows and preprocessor)."""
    started = time.perf_counter()
    members = [_member(candidate.training.imbalance, data, seed) for data, seed in zip(datas, seeds, strict=True)]
    network = PackedNetwork(datas[0].preprocessor.n_features, candidate.model, seeds)
    recipe = candidate.training
    focal_gamma = recipe.focal_gamma if recipe.imbalance == "focal" else None
    trainer = PackedTrainer(network, candidate.optimizer.build(), focal_gamma=focal_gamma)
    histories = trainer.fit(
        members,
        epochs=recipe.epochs,
        batch_size=recipe.batch_size,
        patience=recipe.early_stopping_patience,
        on_epoch=on_epoch,
    )
    if all(data is datas[0] for data in datas):
        p_val = list(Ensemble.from_models(network.models).predict(datas[0].validation.x).seeds)
    else:
        p_val = [predict(model, data.validation.x) for model, data in zip(network.models, datas, strict=True)]
    seconds = (time.perf_counter() - started) / len(seeds)  # the pack's time, shared evenly
    results = []
    trained = zip(datas, members, seeds, network.models, histories, p_val, strict=True)
    for data, member, seed, model, history, p in trained:
        summary = metrics.summary(data.validation.y, p, threshold)
        summary["best_epoch"] = history.best_epoch
        summary["epochs_run"] = history.epochs_run
        summary["final_train_loss"] = history.train_loss[-1]
        summary["updates"] = parameter_updates(history, recipe, len(member.x))
        results.append(TrainedModel(candidate, seed, threshold, model, history, data.validation.y, p, summary, seconds))
    return results


def predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """One network's probabilities, through the inference pass every scored network takes
    (``pipeline.model.inference``): the bits it has as a seed of an ensemble, on any machine."""
    return Ensemble.from_models([model]).predict(x).seeds[0]


def parameter_updates(history: History, recipe: TrainingConfig, rows: int) -> int:
    """Optimizer steps to the weights the model ends with: to its best epoch under early
    stopping (later epochs are undone), else every epoch run. The gate's measure of cost."""
    epochs = history.best_epoch if recipe.early_stopping_patience else history.epochs_run
    return epochs * math.ceil(rows / recipe.batch_size)


def _member(how: Imbalance, data: TrainingData, seed: int) -> Member:
    x, y, weights = _training_arrays(how, data, seed)
    return Member(x, y, data.validation.x, data.validation.y, weights)


def _training_arrays(how: Imbalance, data: TrainingData, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    train = data.train
    if how == "class_weight":
        return train.x, train.y, imbalance.balanced_weights(train.y)
    if how == "smote":
        return (*data.smote_arrays(seed), None)
    return train.x, train.y, None  # "none", and "focal": its loss, not its data, treats the imbalance


def load_training_data(paths: PathsConfig) -> TrainingData:
    """The train and validation splits, encoded; the only data ``baseline`` and ``optimize`` read."""
    schema = DataSchema.from_yaml(paths.schema_file)
    preprocessor = Preprocessor.load(paths.preprocessor)
    return TrainingData(
        train=load_split(paths, "train", schema, preprocessor),
        validation=load_split(paths, "validation", schema, preprocessor),
        schema=schema,
        preprocessor=preprocessor,
    )
