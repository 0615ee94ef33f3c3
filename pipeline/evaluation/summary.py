"""What the resample stage hands later stages and the report (``comparison.json``), as typed models.

Written with ``model_dump_json`` and read with ``model_validate_json``: the design, the gate's rule, the
design's detectable difference, the ROPE in money, the gate's decision, and every model's standing
against the baseline. Field names are those of the file, so a file written before these models reads.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

BASELINE = "baseline"  # the existing network's configuration: the model every other is compared with
BLEND = "blend_baseline_gb"  # the mean of the Platt-calibrated baseline network and tuned gradient boosting

Route = Literal["better", "equivalent_and_cheaper", "none"]


class Contract(BaseModel):
    """Frozen, no unknown fields; NaN written as ``NaN`` (a reference's Holm p), as ``json.dumps`` does."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_inf_nan="constants")


class Design(Contract):
    repeats: int
    folds: int
    seeds_per_fold: int
    tune_fraction: float
    confidence: float
    training_rows: float  # mean over the folds
    held_rows: float

    @property
    def n_folds(self) -> int:
        return self.repeats * self.folds


class GateSettings(Contract):
    """``resample.gate`` as the run used it."""

    criterion: str
    alpha: float
    rope: float
    equivalence_probability: float
    cheaper: float
    power: float
    lower_is_better: bool


class Detectable(Contract):
    """The design's minimal detectable difference in the criterion, per gated challenger and their median."""

    power: float
    alpha: float
    tests: int  # Holm's family size
    per_model: dict[str, float]
    median: float


class RopeInMoney(Contract):
    pairs: int
    slope: float  # campaign value per customer per unit of the criterion
    r: float
    per_1000: float
    baseline_per_1000: float


class Versus(Contract):
    """A model minus the baseline over the folds (``evaluation.resampled.Comparison`` as recorded)."""

    mean: float
    low: float
    high: float
    t: float
    p: float  # two-sided
    p_holm: float = math.nan  # NaN for a reference: never in Holm's family
    se: float = math.nan
    df: int = 0

    @property
    def gate_p(self) -> float:
        """The p the comparison is judged by: a network's one-sided Holm-adjusted p, a reference's single
        two-sided p."""
        return self.p if math.isnan(self.p_holm) else self.p_holm


class PosteriorSummary(Contract):
    better: float
    equivalent: float
    worse: float
    rope: float


class ModelStanding(Contract):
    """One model on the folds: its mean metrics, campaign value per customer, difference from the baseline
    per metric, posterior on the criterion, cost in parameter updates (networks) and whether it was gated."""

    kind: Literal["ann", "reference"]
    mean: dict[str, float]
    value: float
    vs_baseline: dict[str, Versus]  # empty for the baseline
    posterior: PosteriorSummary | None
    cost: float | None
    gated: bool


class GateSummary(Contract):
    """The whole of ``comparison.json``."""

    design: Design
    gate: GateSettings
    detectable: Detectable
    rope_in_money: RopeInMoney
    champion: str
    route: Route
    reason: str
    qualified: list[str]
    tied_with_best: list[str]
    equivalent_and_cheaper: list[str]
    models: dict[str, ModelStanding]

    @property
    def criterion(self) -> str:
        return self.gate.criterion

    def versus(self, name: str) -> Versus:
        """``name`` minus the baseline in the gate's criterion."""
        return self.models[name].vs_baseline[self.criterion]

    def mean(self, name: str) -> float:
        """``name``'s mean over the folds in the gate's criterion."""
        return self.models[name].mean[self.criterion]

    def write(self, path: Path) -> None:
        path.write_text(self.model_dump_json(indent=2) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> GateSummary:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
