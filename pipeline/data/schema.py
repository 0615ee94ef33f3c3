"""The declarative description of a tabular churn dataset (see ``data/schema.yaml``)."""

from __future__ import annotations

import json
from datetime import date
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
    def _condition_needs_fill(self) -> NumericColumn:
        if self.blank_allowed_when is not None and self.blank_fill is None:
            raise ValueError("blank_allowed_when needs blank_fill: the value a legitimate blank stands for")
        return self


class BinaryColumn(_Strict):
    """A two-valued column, one model input: 1.0 for ``positive``, 0.0 for ``negative``."""

    positive: str
    negative: str


class DateColumn(_Strict):
    """A date, turned into its age in days at ``reference`` (``reference`` minus the date): one
    numeric input. ``format`` is a ``strptime`` pattern, e.g. ``"%Y-%m-%d"``."""

    format: str
    reference: date


class TargetSpec(_Strict):
    column: str
    positive: str
    negative: str


ROW = "row"
"""Without an ``id_column``, records are named by their 1-based place in the file or request."""


class DataSchema(_Strict):
    id_column: str | None = None
    target: TargetSpec
    numeric: dict[str, NumericColumn] = Field(default_factory=dict)
    binary: dict[str, BinaryColumn] = Field(default_factory=dict)
    dates: dict[str, DateColumn] = Field(default_factory=dict)
    categorical: dict[str, list[str]] = Field(default_factory=dict)
    missing_level: dict[str, str] = Field(default_factory=dict)  # categorical column -> level a blank becomes
    ignore: list[str] = Field(default_factory=list)  # columns read past: neither checked nor used

    @model_validator(mode="after")
    def _consistent(self) -> DataSchema:
        names = [self.target.column, *self.feature_columns, *self.ignore]
        names += [self.id_column] if self.id_column is not None else []
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"columns declared twice: {duplicated}")
        if self.id_column is None and ROW in names:
            raise ValueError(f"without an id_column, records are named {ROW!r}: rename that column or ignore it")
        for name, spec in self.numeric.items():
            cond = spec.blank_allowed_when
            if cond is not None and cond.column not in self.numeric:
                raise ValueError(f"{name}: blank_allowed_when refers to non-numeric column {cond.column!r}")
        for name, level in self.missing_level.items():
            if level not in self.categorical.get(name, []):
                raise ValueError(f"missing_level {name}: {level!r} must be one of the categorical column's levels")
        return self

    @property
    def numeric_inputs(self) -> list[str]:
        """Columns that are numbers once checked: numeric, binary (0/1) and dates (age in days)."""
        return [*self.numeric, *self.binary, *self.dates]

    @property
    def feature_columns(self) -> list[str]:
        """Model inputs in file order of the schema: numeric, binary, dates, then categorical."""
        return [*self.numeric_inputs, *self.categorical]

    @property
    def record_id(self) -> str:
        """The column that names each customer in checked records: ``id_column``, else ``row``."""
        return self.id_column if self.id_column is not None else ROW

    @property
    def columns(self) -> list[str]:
        """Columns of checked training records, in order."""
        return [self.record_id, *self.feature_columns, self.target.column]

    @classmethod
    def from_yaml(cls, path: str | Path) -> DataSchema:
        with open(path, encoding="utf-8") as fh:
            return cls.model_validate(yaml.safe_load(fh))

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> DataSchema:
        data: Any = json.loads(text)
        return cls.model_validate(data)
