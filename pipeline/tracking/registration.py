"""Registering the champion and the baseline: each seed ensemble as a pyfunc model, logged into its
evaluate run, registered with the tags that say where it comes from, and pointed at by its alias."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.entities.model_registry import ModelVersion

from pipeline.config import SegmentConfig
from pipeline.data.schema import DataSchema
from pipeline.evaluation.compare import ModelResult
from pipeline.serving.package import log_pyfunc
from pipeline.serving.scorer import Decision
from pipeline.tracking import registry, store
from pipeline.training.store import StoredCandidate


@dataclass(frozen=True)
class Registrant:
    """A model to register: its seed models, the decision evaluate fitted for it, its evaluate run, and
    its mean of the gate's criterion over the resampling folds (what selected it)."""

    stored: StoredCandidate
    result: ModelResult
    run_id: str
    selection_value: float


@dataclass(frozen=True)
class RegistrationInputs:
    registered_model: str
    schema: DataSchema
    preprocessor: Path
    segment: SegmentConfig  # resolved: the served value cut is an amount
    data_md5: str
    criterion: str  # the gate's
    example: pd.DataFrame  # a few raw validation records
    background: pd.DataFrame  # the training records SHAP reasons are computed against
    champion: Registrant
    baseline: Registrant


def register(inputs: RegistrationInputs) -> dict[str, ModelVersion]:
    """Register the champion and the baseline under their aliases; a baseline that kept its place is one
    version with both aliases."""
    registrants = {r.stored.name: r for r in (inputs.champion, inputs.baseline)}
    versions = {name: _register(inputs, r) for name, r in registrants.items()}
    name = inputs.registered_model
    return {
        registry.CHAMPION: registry.add_alias(name, registry.CHAMPION, versions[inputs.champion.stored.name]),
        registry.BASELINE: registry.add_alias(name, registry.BASELINE, versions[inputs.baseline.stored.name]),
    }


def _register(inputs: RegistrationInputs, registrant: Registrant) -> ModelVersion:
    """Log the seed ensemble as a pyfunc into the model's evaluate run and register it (the caller
    points the aliases at it)."""
    stored, result = registrant.stored, registrant.result
    decision = Decision(threshold=result.threshold, calibrator=result.calibrator)
    with mlflow.start_run(run_id=registrant.run_id, nested=True):
        info = log_pyfunc(
            "model",
            inputs.schema,
            inputs.preprocessor,
            stored.model_paths,
            decision,
            inputs.example,
            inputs.segment,
            inputs.background,
        )
    tags = {
        "data_md5": inputs.data_md5,
        "git_commit": store.git_commit(),
        "reproduction": store.reproduction(),
        "threshold": round(result.threshold, 4),
        "optimizer": stored.candidate.optimizer.name,
        "candidate": stored.name,
        "seeds": len(stored.model_paths),
        "calibration": result.calibration,
        "selection_criterion": f"resampled {inputs.criterion}",
        "selection_value": round(registrant.selection_value, 6),
    }
    return registry.register(info.model_uri, inputs.registered_model, tags)
