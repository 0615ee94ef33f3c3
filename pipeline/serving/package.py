"""Logging the scorer as an MLflow pyfunc model: artifacts, signature, example, requirements, and
the code it runs.

The served model carries only the project modules it runs (the model code and everything it
imports, also inside functions) and requires every third-party package those modules import,
pinned as in ``requirements.lock``, which also constrains their dependencies. So an environment
MLflow builds from the model alone (``mlflow models serve --env-manager uv``) serves it.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shutil
import sys
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.models.model import ModelInfo
from mlflow.types.schema import AnyType, ColSpec, ParamSchema, ParamSpec, Schema, TensorSpec

import pipeline
from pipeline.config import SegmentConfig
from pipeline.data.contract import as_raw
from pipeline.data.schema import DataSchema
from pipeline.serving.scorer import BACKGROUND_FILE, DECISION_FILE, SEGMENTS_FILE, Decision

PACKAGE = pipeline.__name__
SOURCE_ROOT = Path(pipeline.__file__).resolve().parents[1]  # holds the package and requirements.lock
LOCK_FILE = SOURCE_ROOT / "requirements.lock"
INPUT_CHECK = "the data contract (artifact schema.json), inside the model"  # not MLflow: see signature()
MODEL_CODE = f"{PACKAGE}.serving.model_code"  # what MLflow loads: every served module is imported from it


def input_columns(schema: DataSchema) -> Schema:
    """The raw records' columns, all optional: the data contract, inside the model, names every
    missing column and bad value, where MLflow would stop at the first with a generic message.
    Numeric columns are typed ``Any``, as they arrive as numbers (JSON) or text (CSV, and the blank
    ``TotalCharges`` of new customers); categorical ones ``string``. Documentation only (the model's
    metadata): see ``signature``."""
    inputs: list[ColSpec | TensorSpec] = [  # Schema's element type (list is invariant)
        ColSpec(AnyType() if name in {*schema.numeric, *schema.binary} else "string", name, required=False)
        for name in [*([schema.id_column] if schema.id_column else []), *schema.feature_columns]
    ]
    return Schema(inputs)


def signature(schema: DataSchema) -> ModelSignature:
    """The response's columns and the ``reasons`` parameter; no input schema. MLflow enforces an input
    schema on every request (a DataFrame rebuilt column by column, then the types cast at parsing),
    which cost more than scoring a record and checked less than the contract does for every cell, so
    the records' columns are documented in the model's metadata (``input_columns``) instead."""
    outputs: list[ColSpec | TensorSpec] = [
        ColSpec("string" if schema.id_column else "long", schema.record_id, required=False),
        ColSpec("double", "churn_probability"),
        ColSpec("long", "churn"),
        ColSpec("string", "segment", required=False),
        ColSpec("string", "action", required=False),
        ColSpec("double", "expected_value", required=False),  # net value of contacting (segment.campaign)
        ColSpec("boolean", "contact", required=False),
        ColSpec("string", "reasons", required=False),  # with params {"reasons": true}
    ]
    params = ParamSchema([ParamSpec("reasons", "boolean", False)])
    return ModelSignature(inputs=None, outputs=Schema(outputs), params=params)


def served_modules() -> set[str]:
    """The project modules serving runs: the model code, what it imports (also inside functions,
    like the scorer's SHAP reasons), and the packages holding them (importing ``a.b`` runs ``a``)."""
    todo, seen = [MODEL_CODE], set()
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            parts = module.split(".")
            todo += [".".join(parts[:i]) for i in range(1, len(parts))]
            todo += [name for name in _imported_names(module) if _source(name).is_file()]
    return seen


def _imported_names(module: str) -> set[str]:
    """Every dotted name an import statement of a project module names (``from a import b`` names
    ``a`` and ``a.b``), except under ``if TYPE_CHECKING:``, which never runs."""
    found: set[str] = set()
    todo: list[ast.AST] = [ast.parse(_source(module).read_text())]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            todo += node.orelse
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        todo += ast.iter_child_nodes(node)
    return found


def _source(module: str) -> Path:
    path = SOURCE_ROOT.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def _third_party_imports(modules: set[str]) -> set[str]:
    """Top-level names of what ``modules`` import from outside the project and the standard library."""
    tops = {name.split(".")[0] for module in modules for name in _imported_names(module)}
    return {top for top in tops if top != PACKAGE and top not in sys.stdlib_module_names}


def requirements(modules: set[str]) -> list[str]:
    """A pin from ``requirements.lock`` for each distribution that provides a package ``modules`` import."""
    providers = importlib.metadata.packages_distributions()
    locked = _locked()
    pins = set()
    for top in _third_party_imports(modules):
        if top not in providers:
            raise RuntimeError(f"the served code imports {top!r}, which no installed distribution provides")
        for distribution in providers[top]:
            if _normalized(distribution) not in locked:
                raise RuntimeError(f"{distribution} (imported as {top!r}) is not pinned in {LOCK_FILE.name}")
            pins.add(locked[_normalized(distribution)])
    return sorted(pins)


def _locked() -> dict[str, str]:
    lines = [line.strip() for line in LOCK_FILE.read_text().splitlines()]
    return {_normalized(line.partition("==")[0]): line for line in lines if "==" in line}


def _normalized(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _copy_code(modules: set[str], dest: Path) -> Path:
    """The served modules' files under ``dest``, laid out as in the package; returns the package copy."""
    for module in modules:
        source = _source(module)
        target = dest / source.relative_to(SOURCE_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return dest / PACKAGE


def log_pyfunc(
    name: str,
    schema: DataSchema,
    preprocessor: Path,
    keras_models: list[Path],
    decision: Decision,
    input_example: pd.DataFrame,
    segmentation: SegmentConfig,
    background: pd.DataFrame,
) -> ModelInfo:
    """Log the model into the active run; it loads anywhere ``pipeline`` is not installed.
    ``keras_models``: the seed models it averages, logged as one directory under their file names.
    ``input_example`` and ``background`` (training records that SHAP reasons are computed against):
    checked records, stored as the raw cells the contract checks again when the model loads."""
    _ = segmentation.cut  # served segments need the value cut as an amount: a quantile not yet taken raises here
    names = [Path(path).name for path in keras_models]
    if not names or len(set(names)) != len(names):
        raise ValueError(f"need one or more .keras files with distinct names, got {names}")
    modules = served_modules()
    with tempfile.TemporaryDirectory() as tmp:
        models = Path(tmp) / "keras_models"
        models.mkdir()
        for path in keras_models:
            shutil.copy2(path, models / Path(path).name)
        (Path(tmp) / "schema.json").write_text(schema.to_json())
        (Path(tmp) / DECISION_FILE).write_text(decision.to_json())
        (Path(tmp) / SEGMENTS_FILE).write_text(segmentation.model_dump_json(indent=2))
        as_raw(background, schema).to_csv(Path(tmp) / BACKGROUND_FILE, index=False)
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(_source(MODEL_CODE)),
            artifacts={
                "schema": str(Path(tmp) / "schema.json"),
                "preprocessor": str(preprocessor),
                "keras_models": str(models),
                "decision": str(Path(tmp) / DECISION_FILE),
                "segmentation": str(Path(tmp) / SEGMENTS_FILE),
                "background": str(Path(tmp) / BACKGROUND_FILE),
            },
            code_paths=[str(_copy_code(modules, Path(tmp) / "code"))],
            signature=signature(schema),
            input_example=as_raw(input_example, schema),
            metadata={"input_columns": input_columns(schema).to_dict(), "input_checked_by": INPUT_CHECK},
            pip_requirements=[*requirements(modules), f"-c {LOCK_FILE}"],  # the lock pins their dependencies
        )
