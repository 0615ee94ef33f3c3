"""The declarative description of a tabular churn dataset (see ``data/schema.yaml``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BlankCondition(_Strict):
    """A blank value is legitimate only when another column equals a given value."""

    column: str
    equals: float


class NumericColumn(_Strict):
    min: float | None = None
    max: float | None = None
    integer: bool = False
    blank_allowed_when: BlankCondition | None = None
    blank_fill: float | None = None

    @model_validator(mode="after")
    def _fill_goes_with_condition(self) -> NumericColumn:
        if (self.blank_allowed_when is None) != (self.blank_fill is None):
            raise ValueError("blank_allowed_when and blank_fill must be given together")
        return self


class TargetSpec(_Strict):
    column: str
    positive: str
    negative: str


class DataSchema(_Strict):
    id_column: str
    target: TargetSpec
    numeric: dict[str, NumericColumn]
    categorical: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> DataSchema:
        names = [self.id_column, self.target.column, *self.numeric, *self.categorical]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"columns declared twice: {duplicated}")
        for name, spec in self.numeric.items():
            cond = spec.blank_allowed_when
            if cond is not None and cond.column not in self.numeric:
                raise ValueError(f"{name}: blank_allowed_when refers to non-numeric column {cond.column!r}")
        return self

    @property
    def feature_columns(self) -> list[str]:
        """Model inputs in file order of the schema: numeric first, then categorical."""
        return [*self.numeric, *self.categorical]

    @property
    def columns(self) -> list[str]:
        return [self.id_column, *self.feature_columns, self.target.column]

    @classmethod
    def from_yaml(cls, path: str | Path) -> DataSchema:
        with open(path, encoding="utf-8") as fh:
            return cls.model_validate(yaml.safe_load(fh))

    def to_json(self) -> str:
        return json.dumps(self.model_dump(), indent=2, sort_keys=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> DataSchema:
        data: Any = json.loads(text)
        return cls.model_validate(data)
