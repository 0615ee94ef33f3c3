"""A training job: one model config, one optimizer, one training recipe, one seed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from pipeline.config import PathsConfig
from pipeline.data.schema import DataSchema
from pipeline.evaluation import metrics
from pipeline.features.encoded import Split, load_split
from pipeline.features.preprocessing import Preprocessor
from pipeline.model.config import Candidate, Imbalance
from pipeline.model.files import save_model
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
    started = time.perf_counter()
    members = [_member(candidate.training.imbalance, data, seed) for seed in seeds]
    network = PackedNetwork(data.preprocessor.n_features, candidate.model, seeds)
    trainer = PackedTrainer(network, candidate.optimizer.build())
    histories = trainer.fit(
        members,
        epochs=candidate.training.epochs,
        batch_size=candidate.training.batch_size,
        patience=candidate.training.early_stopping_patience,
        on_epoch=on_epoch,
    )
    p_val = trainer.predict(data.validation.x)
    seconds = (time.perf_counter() - started) / len(seeds)  # the pack's time, shared evenly
    results = []
    for k, (seed, model, history) in enumerate(zip(seeds, network.models, histories, strict=True)):
        summary = metrics.summary(data.validation.y, p_val[k], threshold)
        summary["best_epoch"] = history.best_epoch
        summary["epochs_run"] = history.epochs_run
        summary["final_train_loss"] = history.train_loss[-1]
        results.append(
            TrainedModel(candidate, seed, threshold, model, history, data.validation.y, p_val[k], summary, seconds)
        )
    return results


def _member(how: Imbalance, data: TrainingData, seed: int) -> Member:
    x, y, weights = _training_arrays(how, data, seed)
    return Member(x, y, data.validation.x, data.validation.y, weights)


def _training_arrays(how: Imbalance, data: TrainingData, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    train = data.train
    if how == "class_weight":
        return train.x, train.y, imbalance.balanced_weights(train.y)
    if how == "smote":
        return (*data.smote_arrays(seed), None)
    return train.x, train.y, None


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
