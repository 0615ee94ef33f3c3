"""The prepared splits on disk: one Parquet file per split, so each stage reads only what it may."""

from __future__ import annotations

import pandas as pd

from pipeline.config import PathsConfig
from pipeline.io import read_json, write_atomic


def write_split(paths: PathsConfig, name: str, frame: pd.DataFrame) -> None:
    write_atomic(paths.split(name), lambda tmp: frame.to_parquet(tmp, index=False, engine="pyarrow"))


def read_split(paths: PathsConfig, name: str) -> pd.DataFrame:
    return pd.read_parquet(paths.split(name), engine="pyarrow")


def data_md5(paths: PathsConfig) -> str:
    """md5 of the raw file the prepared data came from (recorded by ``prepare``)."""
    return str(read_json(paths.manifest)["source_md5"])
