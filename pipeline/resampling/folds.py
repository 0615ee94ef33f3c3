"""Repeated stratified folds of the development data, each with an inner tuning slice."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split


@dataclass(frozen=True)
class Fold:
    """Row positions of one fold: the model is fitted on ``fit``, stopped early and given its
    decision (calibration, threshold) on ``tune``, and scored on ``held`` (rows it never saw)."""

    index: int  # 0-based over all repeats; also the training seed of the fold's networks
    repeat: int  # 1-based
    fold: int  # 1-based within the repeat
    fit: np.ndarray
    tune: np.ndarray
    held: np.ndarray

    @property
    def training_rows(self) -> int:
        return len(self.fit) + len(self.tune)


def make_folds(y: np.ndarray, repeats: int, folds: int, tune_fraction: float, seed: int) -> list[Fold]:
    """``repeats`` x ``folds`` stratified folds; in each, a stratified ``tune_fraction`` of the
    training part is held back for tuning, so the held-out part influences nothing."""
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    result = []
    for index, (training, held) in enumerate(splitter.split(np.zeros(len(y)), y)):
        fit, tune = train_test_split(training, test_size=tune_fraction, stratify=y[training], random_state=seed + index)
        result.append(Fold(index, index // folds + 1, index % folds + 1, np.sort(fit), np.sort(tune), held))
    return result
