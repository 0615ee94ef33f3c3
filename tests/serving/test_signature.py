"""The served model's signature: the response and the ``reasons`` parameter, and no input schema, so
MLflow neither casts nor rebuilds a request's DataFrame; the input columns are documented in the
model's metadata, and the data contract inside the model checks every cell."""

from __future__ import annotations

from mlflow.types.schema import AnyType

from pipeline.data.schema import DataSchema
from pipeline.serving.package import input_columns, signature


def test_the_signature_has_no_input_schema_but_the_response_and_the_parameter(schema: DataSchema) -> None:
    described = signature(schema)
    assert described.inputs is None  # nothing for MLflow to enforce per request
    assert described.outputs is not None
    assert described.outputs.input_names() == [
        schema.record_id, "churn_probability", "churn", "segment", "action", "expected_value", "contact", "reasons"
    ]  # fmt: skip
    assert described.params is not None and [p.name for p in described.params.params] == ["reasons"]


def test_the_input_columns_are_documented_all_optional(schema: DataSchema) -> None:
    columns = input_columns(schema)
    assert columns.input_names() == [schema.id_column, *schema.feature_columns]
    assert all(not spec.required for spec in columns.inputs)
    numeric = {spec.name for spec in columns.inputs if isinstance(spec.type, AnyType)}
    assert numeric == set(schema.numeric) | set(schema.binary)  # numbers or text: the contract reads both
