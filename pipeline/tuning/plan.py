"""Which studies ``optimize`` runs, and their names: a hash of everything that defines each study."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from pipeline.config import OptimizeConfig
from pipeline.model.config import Candidate

Kind = Literal["comparison", "search"]


@dataclass(frozen=True)
class StudyPlan:
    label: str  # "adam", ..., or "search"
    kind: Kind
    budget: int
    name: str  # the Optuna study name: label plus a hash of everything that defines the study

    @property
    def optimizer(self) -> str | None:
        return self.label if self.kind == "comparison" else None


def plan_studies(opt: OptimizeConfig, baseline_candidate: Candidate, data_md5: str) -> list[StudyPlan]:
    """One study per compared optimizer, then the full search. A change to anything that
    defines a study (its space, budget, training recipe, data) gives it a new name, so a
    rerun resumes only an identical study."""
    definition = {
        "data_md5": data_md5,
        "baseline": baseline_candidate.model_dump(),
        "optimize": opt.model_dump(exclude={"workers", "storage", "heartbeat_seconds", "comparison", "search"}),
    }
    plans = [
        _plan(name, "comparison", opt.comparison.trials_per_optimizer, definition, opt.comparison.model_dump())
        for name in opt.comparison.optimizers
    ]
    plans.append(_plan("search", "search", opt.search.trials, definition, opt.search.model_dump()))
    return plans


def _plan(
    label: str, kind: Kind, budget: int, definition: Mapping[str, object], space: Mapping[str, object]
) -> StudyPlan:
    payload = json.dumps({**definition, "label": label, "space": space, "budget": budget}, sort_keys=True)
    digest = hashlib.sha256(payload.encode()).hexdigest()[:10]
    return StudyPlan(label=label, kind=kind, budget=budget, name=f"{label}-{digest}")


def trial_name(plan: StudyPlan, place: int) -> str:
    """A trial's name in progress lines and MLflow: its study's label and its position."""
    return f"{plan.label}-trial-{place:02d}"
