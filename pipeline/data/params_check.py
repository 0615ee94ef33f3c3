"""Every column ``params.yaml`` names must exist in the data contract with a type that fits its use.

Checked by ``prepare`` before it reads the data, so a stale column name fails at once, naming the
parameter, the column and the columns that would fit, rather than minutes later in a later stage.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

from pipeline.config import Params
from pipeline.data.contract import DataContractError, Violation
from pipeline.data.schema import DataSchema


class ParamsSchemaError(DataContractError):
    """Parameters that name columns the schema lacks, or columns of the wrong type."""


def named_columns(params: Params, schema: DataSchema) -> Iterator[tuple[str, str, str, list[str]]]:
    """(parameter path, column, the type it needs, the schema's columns of that type) for every use."""
    numeric, categorical = list(schema.numeric), list(schema.categorical)
    seg, errors = params.segment, params.evaluate.error_analysis
    yield "segment.value_column", seg.value_column, "numeric", numeric
    for i, name in enumerate(seg.persona_columns):
        yield f"segment.persona_columns[{i}]", name, "categorical", categorical
    for i, name in enumerate(errors.columns):
        yield f"evaluate.error_analysis.columns[{i}]", name, "categorical or binary", [*categorical, *schema.binary]
    for name in errors.bands:
        yield f"evaluate.error_analysis.bands.{name}", name, "numeric or date", [*numeric, *schema.dates]


def check_params(params: Params, schema: DataSchema) -> None:
    """Raise ``ParamsSchemaError`` with every parameter whose column is missing or of the wrong type."""
    violations = []
    for path, column, needed, fitting in named_columns(params, schema):
        if column in fitting:
            continue
        kind = _kind(schema, column)
        found = f"is {kind}, not {needed}" if kind else f"is not in {params.paths.schema_file}"
        rule = f"column {column!r} {found}; {needed} columns that would fit: {fitting}"
        violations.append(Violation(path, rule))
    if violations:
        raise ParamsSchemaError(str(params.source), violations)


def _kind(schema: DataSchema, column: str) -> str | None:
    kinds: dict[str, Collection[str]] = {
        "numeric": schema.numeric, "binary": schema.binary, "a date": schema.dates,
        "categorical": schema.categorical, "ignored": schema.ignore,
    }  # fmt: skip
    if column == schema.id_column:
        return "the id column"
    if column == schema.target.column:
        return "the target"
    return next((kind for kind, columns in kinds.items() if column in columns), None)
