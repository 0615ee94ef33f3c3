"""Typed, validated view of ``params.yaml``: one section per stage, unknown keys rejected."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

PARAMS_FILE = Path("params.yaml")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathsConfig(Section):
    """Where each stage reads and writes, relative to the project root (``dvc.yaml`` uses the same keys)."""

    raw_data: Path
    schema_file: Path
    prepared: Path
    models: Path
    metrics: Path
    plots: Path
    studies: Path

    def split(self, name: str) -> Path:
        return self.prepared / f"{name}.parquet"

    @property
    def preprocessor(self) -> Path:
        return self.prepared / "preprocessor.json"

    @property
    def manifest(self) -> Path:
        return self.prepared / "manifest.json"


class TrackingConfig(Section):
    experiment: str
    registered_model: str


class PrepareConfig(Section):
    seed: int
    fractions: dict[str, float]

    @field_validator("fractions")
    @classmethod
    def _three_parts_summing_to_one(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != {"train", "validation", "test"}:
            raise ValueError("fractions needs exactly train, validation and test")
        if any(not 0 < f < 1 for f in value.values()) or abs(sum(value.values()) - 1) > 1e-9:
            raise ValueError(f"fractions must be in (0, 1) and sum to 1, got {value}")
        return value


class Params(Section):
    paths: PathsConfig
    tracking: TrackingConfig
    prepare: PrepareConfig

    @classmethod
    def load(cls, path: str | Path = PARAMS_FILE) -> Params:
        with open(path, encoding="utf-8") as fh:
            return cls.model_validate(yaml.safe_load(fh))
