"""One configuration trained over several seeds: its spread, and the seed that represents it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.metric_registry import VALIDATION
from pipeline.model.config import Candidate
from pipeline.training.job import TrainedModel, TrainingData, train_pack


@dataclass
class SeedResults:
    name: str
    candidate: Candidate
    threshold: float
    runs: list[TrainedModel]

    @property
    def selected(self) -> TrainedModel:
        """The seed with the lowest validation loss: the same rule for the baseline and every
        candidate, applied to validation data only."""
        return min(self.runs, key=lambda r: r.val_metrics["log_loss"])

    def summary(self) -> dict[str, float]:
        """Mean and standard deviation across seeds of each validation metric."""
        out: dict[str, float] = {}
        for key in VALIDATION:
            values = np.array([r.val_metrics[key] for r in self.runs], dtype="float64")
            out[f"val_{key}_mean"] = float(values.mean())
            out[f"val_{key}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
        return out


def train_over_seeds(
    name: str, candidate: Candidate, data: TrainingData, seeds: list[int], threshold: float
) -> SeedResults:
    """All seeds in one packed training."""
    return SeedResults(name, candidate, threshold, train_pack(candidate, data, seeds, threshold))
