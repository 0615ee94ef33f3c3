"""A prepared split encoded for the model, beside the raw frame a marketer reads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.config import PathsConfig
from pipeline.data.prepared import read_split
from pipeline.data.schema import DataSchema
from pipeline.features.preprocessing import Preprocessor


@dataclass(frozen=True)
class Split:
    """One split as the model sees it (``x``, ``y``) and as a marketer does (``frame``)."""

    name: str
    frame: pd.DataFrame
    x: np.ndarray
    y: np.ndarray


def load_split(paths: PathsConfig, name: str, schema: DataSchema, preprocessor: Preprocessor) -> Split:
    frame = read_split(paths, name)
    y = frame[schema.target.column].to_numpy(dtype="float32")
    return Split(name=name, frame=frame, x=preprocessor.transform(frame), y=y)
