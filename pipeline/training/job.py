"""A training job: one model config, one optimizer, one training recipe, one seed."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from pipeline.config import PathsConfig
from pipeline.data.prepared import Split, load_split
from pipeline.data.schema import DataSchema
from pipeline.evaluation import metrics
from pipeline.features.preprocessing import Preprocessor
from pipeline.model.architecture import build_model
from pipeline.model.config import Candidate, Imbalance
from pipeline.training import imbalance
from pipeline.training.engine import EpochCallback, History, Trainer


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
        path.parent.mkdir(parents=True, exist_ok=True)
        self.model.save(path)


def train(
    candidate: Candidate,
    data: TrainingData,
    seed: int,
    threshold: float = 0.5,
    on_epoch: EpochCallback | None = None,
) -> TrainedModel:
    """Build, train and score on validation; deterministic for a given seed on a given machine."""
    started = time.perf_counter()
    x, y, weights = _training_arrays(candidate.training.imbalance, data, seed)
    model = build_model(data.preprocessor.n_features, candidate.model, seed)
    trainer = Trainer(model, candidate.optimizer.build())
    history = trainer.fit(
        x,
        y,
        (data.validation.x, data.validation.y),
        epochs=candidate.training.epochs,
        batch_size=candidate.training.batch_size,
        seed=seed,
        sample_weight=weights,
        patience=candidate.training.early_stopping_patience,
        on_epoch=on_epoch,
    )
    p_val = trainer.predict(data.validation.x)
    summary = metrics.summary(data.validation.y, p_val, threshold)
    summary["best_epoch"] = history.best_epoch
    summary["epochs_run"] = history.epochs_run
    summary["final_train_loss"] = history.train_loss[-1]
    return TrainedModel(
        candidate, seed, threshold, model, history, data.validation.y, p_val, summary, time.perf_counter() - started
    )


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
