"""Logging the scorer as an MLflow pyfunc model: artifacts, signature, example, requirements."""

from __future__ import annotations

import importlib.metadata
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.models.model import ModelInfo
from mlflow.types.schema import AnyType, ColSpec, ParamSchema, ParamSpec, Schema

import pipeline
from pipeline.config import SegmentConfig
from pipeline.data.schema import DataSchema
from pipeline.serving.scorer import BACKGROUND_FILE, DECISION_FILE, SEGMENTS_FILE, Decision

# what the pyfunc imports at serving time, pinned to the versions it was logged with
SERVING_PACKAGES = (
    "mlflow",
    "keras",
    "tensorflow-cpu",
    "pandas",
    "numpy",
    "scipy",
    "scikit-learn",
    "pydantic",
    "pyyaml",
)


def signature(schema: DataSchema) -> ModelSignature:
    """Columns of the raw records, all optional: the data contract, inside the model, names every
    missing column and bad value, where MLflow would stop at the first with a generic message.
    Numeric columns are typed ``Any`` because they arrive as numbers (JSON) or text (CSV, and the
    blank ``TotalCharges`` of new customers); categorical ones ``string``, which MLflow checks
    much faster than ``Any``."""
    inputs = [
        ColSpec(AnyType() if name in schema.numeric else "string", name, required=False)
        for name in [schema.id_column, *schema.feature_columns]
    ]
    outputs = [
        ColSpec("string", schema.id_column, required=False),
        ColSpec("double", "churn_probability"),
        ColSpec("long", "churn"),
        ColSpec("string", "segment", required=False),
        ColSpec("string", "action", required=False),
        ColSpec("double", "expected_value", required=False),  # net value of contacting (segment.campaign)
        ColSpec("boolean", "contact", required=False),
        ColSpec("string", "reasons", required=False),  # with params {"reasons": true}
    ]
    params = ParamSchema([ParamSpec("reasons", "boolean", False)])
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs), params=params)


def requirements() -> list[str]:
    return [f"{name}=={importlib.metadata.version(name)}" for name in SERVING_PACKAGES]


def log_pyfunc(
    name: str,
    schema: DataSchema,
    preprocessor: Path,
    keras_model: Path,
    decision: Decision,
    input_example: pd.DataFrame,
    segmentation: SegmentConfig,
    background: pd.DataFrame,
) -> ModelInfo:
    """Log the model into the active run; it loads anywhere ``pipeline`` is not installed.
    ``background``: raw training records that SHAP reasons are computed against."""
    package_dir = Path(pipeline.__file__).parent
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "schema.json").write_text(schema.to_json())
        (Path(tmp) / DECISION_FILE).write_text(decision.to_json())
        (Path(tmp) / SEGMENTS_FILE).write_text(segmentation.model_dump_json(indent=2))
        background.to_csv(Path(tmp) / BACKGROUND_FILE, index=False)
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(package_dir / "serving" / "model_code.py"),
            artifacts={
                "schema": str(Path(tmp) / "schema.json"),
                "preprocessor": str(preprocessor),
                "keras_model": str(keras_model),
                "decision": str(Path(tmp) / DECISION_FILE),
                "segmentation": str(Path(tmp) / SEGMENTS_FILE),
                "background": str(Path(tmp) / BACKGROUND_FILE),
            },
            code_paths=[str(package_dir)],
            signature=signature(schema),
            input_example=input_example,
            pip_requirements=requirements(),
        )
