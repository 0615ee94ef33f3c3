"""What a trial keeps in its Optuna ``user_attrs``, written and read through one model.

The attributes are stored one key per field, under the field's name (``ticket``, ``candidate``,
``position``, ...), so studies in storage read the same whichever version of this code wrote them.
A trial writes its attributes in steps (what it trains before training, its curves even when it
is pruned, its metrics at the end); each step writes only the fields it sets.
"""

from __future__ import annotations

import optuna
from optuna.trial import FrozenTrial
from pydantic import BaseModel, ConfigDict, Field, JsonValue

from pipeline.model.config import Candidate


class Curves(BaseModel):
    """Per-epoch metrics as they came, so even a pruned trial keeps its curves."""

    model_config = ConfigDict(extra="forbid")

    train_loss: list[float] = Field(default_factory=list)
    val_loss: list[float] = Field(default_factory=list)
    val_roc_auc: list[float] = Field(default_factory=list)


class TrialRecord(BaseModel):
    """A trial's user attributes. Every field is optional: a ticket not yet taken holds only
    ``ticket``, a reference model's trial no ``candidate`` or curves, a killed trial what it wrote
    before it died."""

    model_config = ConfigDict(frozen=True)

    ticket: bool = False  # queued as one trial of the budget (``pipeline.tuning.tickets``)
    candidate: Candidate | None = None  # what the trial trains (network studies)
    position: int | None = None  # its place in the budget (``pipeline.tuning.sampler``)
    worker: int | None = None  # the worker that ran it
    curves: Curves = Field(default_factory=Curves)
    seconds: float = 0.0  # time spent training
    diverged: str | None = None  # why training diverged, for a trial pruned for it
    val_metrics: dict[str, float] = Field(default_factory=dict)

    @classmethod
    def of(cls, trial: FrozenTrial | optuna.Trial) -> TrialRecord:
        return cls.model_validate(trial.user_attrs)

    def user_attrs(self) -> dict[str, JsonValue]:
        """The fields set on this record, as Optuna stores them (``enqueue_trial(user_attrs=...)``)."""
        return self.model_dump(mode="json", include=set(self.model_fields_set))

    def write(self, trial: optuna.Trial) -> None:
        """Set the fields set on this record on the running ``trial``; the others stay as they are."""
        for key, value in self.user_attrs().items():
            trial.set_user_attr(key, value)


def position(trial: FrozenTrial) -> int:
    """The trial's place in its study's budget (0-based): the same in a resumed study as in an
    uninterrupted one, where Optuna's trial numbers shift by each interrupted trial."""
    place = TrialRecord.of(trial).position
    if place is None:
        raise ValueError(f"trial {trial.number} has no position: it never started as a ticket")
    return place


def best_candidate(study: optuna.Study) -> Candidate:
    """What the study's best trial trained."""
    candidate = TrialRecord.of(study.best_trial).candidate
    if candidate is None:
        raise ValueError(f"study {study.study_name}: the best trial records no candidate")
    return candidate
