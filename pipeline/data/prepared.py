"""The prepared splits on disk: one Parquet file per split, so each stage reads only what it may."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.config import PathsConfig
from pipeline.data.schema import DataSchema
from pipeline.features.preprocessing import Preprocessor
from pipeline.io import read_json, write_atomic


@dataclass(frozen=True)
class Split:
    """One split as the model sees it (``x``, ``y``) and as a marketer does (``frame``)."""

    name: str
    frame: pd.DataFrame
    x: np.ndarray
    y: np.ndarray


def write_split(paths: PathsConfig, name: str, frame: pd.DataFrame) -> None:
    write_atomic(paths.split(name), lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow"))


def read_split(paths: PathsConfig, name: str) -> pd.DataFrame:
    return pd.read_parquet(paths.split(name), engine="pyarrow")


def load_split(paths: PathsConfig, name: str, schema: DataSchema, preprocessor: Preprocessor) -> Split:
    frame = read_split(paths, name)
    y = frame[schema.target.column].to_numpy(dtype="float32")
    return Split(name=name, frame=frame, x=preprocessor.transform(frame), y=y)


def data_md5(paths: PathsConfig) -> str:
    """md5 of the raw file the prepared data came from (recorded by ``prepare``)."""
    return str(read_json(paths.manifest)["source_md5"])
