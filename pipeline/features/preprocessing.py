"""One-hot encoding and standardization, fitted on training data and saved as JSON (no pickle).

The same JSON file drives training, evaluation and the served model, so a raw
record is encoded identically everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from pipeline.data.schema import DataSchema


@dataclass(frozen=True)
class Preprocessor:
    numeric: dict[str, tuple[float, float]]  # column -> (mean, standard deviation) on train
    categorical: dict[str, list[str]]  # column -> levels, one input each
    feature_names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        names = list(self.numeric)
        names += [f"{col}={level}" for col, levels in self.categorical.items() for level in levels]
        object.__setattr__(self, "feature_names", names)

    @classmethod
    def fit(cls, train: pd.DataFrame, schema: DataSchema) -> Preprocessor:
        """Statistics from the training split only; levels from the contract, not the data."""
        numeric = {}
        for col in schema.numeric_inputs:
            values = train[col].to_numpy(dtype="float64")
            std = float(values.std())
            numeric[col] = (float(values.mean()), std if std > 0 else 1.0)
        return cls(numeric=numeric, categorical={c: list(v) for c, v in schema.categorical.items()})

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def transform(self, frame: Mapping[str, ArrayLike] | pd.DataFrame) -> np.ndarray:
        """Validated records (a frame, or columns as arrays) -> float32 matrix in ``feature_names`` order.
        Standardized in float64, then rounded to float32; a category's input is 1 where the cell equals
        the level (looked up once per distinct cell: cells that are no level, or missing, give 0s)."""
        columns = [*self.numeric, *self.categorical]
        rows = np.shape(frame[columns[0]])[0]
        x = np.empty((rows, self.n_features), dtype="float32")
        for j, (col, (mean, std)) in enumerate(self.numeric.items()):
            x[:, j] = (np.asarray(frame[col], dtype="float64") - mean) / std
        start = len(self.numeric)
        for col, levels in self.categorical.items():
            x[:, start : start + len(levels)] = _one_hot(np.asarray(frame[col], dtype=object), levels)
            start += len(levels)
        return x

    def to_json(self) -> str:
        payload = {
            "numeric": {c: {"mean": m, "std": s} for c, (m, s) in self.numeric.items()},
            "categorical": self.categorical,
            "feature_names": self.feature_names,
        }
        return json.dumps(payload, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Preprocessor:
        payload = json.loads(text)
        numeric = {c: (float(v["mean"]), float(v["std"])) for c, v in payload["numeric"].items()}
        return cls(numeric=numeric, categorical=payload["categorical"])

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Preprocessor:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def _one_hot(cells: np.ndarray, levels: list[str]) -> np.ndarray:
    """``cells == level`` for each level, as a (cells, levels) boolean matrix. A few cells (a served
    record) are compared directly; many are looked up once per distinct cell (pandas' hash table)."""
    if len(cells) < 64:
        return cells[:, None] == np.asarray(levels, dtype=object)[None, :]
    codes, distinct = pd.factorize(cells)  # a missing cell (None, NaN) is -1, as is a cell that is no level
    position = {level: k for k, level in enumerate(levels)}
    level_of = np.asarray([*(position.get(cell, -1) for cell in distinct.tolist()), -1], dtype="int64")
    return level_of[codes][:, None] == np.arange(len(levels))[None, :]
