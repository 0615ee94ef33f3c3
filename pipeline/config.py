"""Typed, validated view of ``params.yaml``: one section per stage, unknown keys rejected."""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import numpy.typing as npt
import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from pipeline import metric_registry
from pipeline.model.config import Candidate, Imbalance
from pipeline.model.optimizers import REGISTRY

PARAMS_FILE = Path("params.yaml")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PathsConfig(Section):
    """Where each stage reads and writes, relative to the project root (``dvc.yaml`` uses the same keys)."""

    raw_data: Path
    schema_file: Path
    prepared: Path
    models: Path
    metrics: Path
    plots: Path
    reports: Path
    scored: Path
    studies: Path
    runs: Path

    def training_runs(self, stage: str) -> Path:
        """Which MLflow run trained each model a stage wrote: kept apart from the models, so their
        files (and DVC hashes) depend only on the models."""
        return self.runs / f"{stage}.json"

    def headline(self, stage: str) -> Path:
        """The few figures a person compares between runs (``dvc metrics diff``): declared as metrics."""
        return self.metrics / f"{stage}.json"

    def summary(self, stage: str) -> Path:
        """Everything the stage measured, beside its other reports: an output, not a metrics file."""
        return self.reports / stage / "summary.json"

    @property
    def registered_versions(self) -> Path:
        """The registry versions ``evaluate`` registered, which ``segment`` and ``campaign`` score with."""
        return self.reports / "evaluate" / "registry.json"

    @property
    def tuned_references(self) -> Path:
        """The reference models' tuned hyperparameters, one ``<name>.json`` each (``references`` writes them)."""
        return self.models / "references"

    def split(self, name: str) -> Path:
        return self.prepared / f"{name}.parquet"

    @property
    def preprocessor(self) -> Path:
        return self.prepared / "preprocessor.json"

    @property
    def manifest(self) -> Path:
        return self.prepared / "manifest.json"


class TrackingConfig(Section):
    experiment: str
    registered_model: str


class PrepareConfig(Section):
    seed: int
    fractions: dict[str, float]

    @field_validator("fractions")
    @classmethod
    def _three_parts_summing_to_one(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != {"train", "validation", "test"}:
            raise ValueError("fractions needs exactly train, validation and test")
        if any(not 0 < f < 1 for f in value.values()) or abs(sum(value.values()) - 1) > 1e-9:
            raise ValueError(f"fractions must be in (0, 1) and sum to 1, got {value}")
        return value


class BaselineConfig(Section):
    """The "existing", unoptimized network, trained over several seeds to show its spread."""

    seeds: list[int] = Field(min_length=1)
    threshold: float = Field(gt=0, lt=1)
    candidate: Candidate


RecipesConfig = dict[str, Candidate]
"""The briefs' own recipes, each a named candidate trained over the baseline's seeds."""


class PrunerConfig(Section):
    """Median pruning on per-epoch validation loss."""

    startup_trials: int = Field(ge=0)
    warmup_epochs: int = Field(ge=0)


def _registered(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown optimizers {unknown}; registered: {sorted(REGISTRY)}")
    return names


OptimizerNames = Annotated[list[str], Field(min_length=1), AfterValidator(_registered)]


class ComparisonConfig(Section):
    """Study 1: the baseline network, each optimizer tuned with the same budget over its own space."""

    optimizers: OptimizerNames
    trials_per_optimizer: int = Field(gt=0)


class SearchConfig(Section):
    """Study 2: Optuna over the whole model, optimizer, batch size and imbalance handling."""

    trials: int = Field(gt=0)
    hidden_layers: tuple[int, int]
    units: tuple[int, int]
    dropout: tuple[float, float]
    l2: tuple[float, float]
    batch_norm: list[bool]
    batch_sizes: list[int] = Field(min_length=1)
    imbalance: list[Imbalance] = Field(min_length=1)
    optimizers: OptimizerNames


class OptimizeConfig(Section):
    """Both studies minimize validation log loss (a proper scoring rule, smooth enough to prune on)."""

    seed: int  # the training seed of every trial, so trials differ only by their hyperparameters
    sampler_seed: int
    sampler_startup_trials: int = Field(ge=0)
    epochs: int = Field(gt=0)
    early_stopping_patience: int = Field(gt=0)
    pruner: PrunerConfig
    workers: int = Field(ge=0)  # 0: one per CPU core
    storage: str | None = None  # an Optuna RDB URL; None: SQLite under paths.studies
    heartbeat_seconds: int = Field(gt=0)
    comparison: ComparisonConfig
    search: SearchConfig


def _increasing(bounds: tuple[float, float]) -> tuple[float, float]:
    low, high = bounds
    if not low < high:
        raise ValueError(f"a range needs low < high, got [{low}, {high}]")
    return bounds


def _positive(bounds: tuple[float, float]) -> tuple[float, float]:
    if bounds[0] <= 0:
        raise ValueError(f"a range searched on a log scale needs low > 0, got [{bounds[0]}, {bounds[1]}]")
    return bounds


Range = Annotated[tuple[float, float], AfterValidator(_increasing)]
LogRange = Annotated[tuple[float, float], AfterValidator(_increasing), AfterValidator(_positive)]
IntLogRange = Annotated[tuple[int, int], AfterValidator(_increasing), AfterValidator(_positive)]


class ReferenceStudyConfig(Section):
    """What every reference study has: its budget and its random trials before TPE models the space."""

    trials: int = Field(gt=0)
    startup_trials: int = Field(ge=0)


class GradientBoostingSpace(ReferenceStudyConfig):
    """scikit-learn's ``HistGradientBoostingClassifier``: every range but ``max_features`` on a log scale."""

    learning_rate: LogRange
    max_iter: IntLogRange  # boosting rounds, no early stopping: the trial's whole fit is on train
    max_leaf_nodes: IntLogRange
    min_samples_leaf: IntLogRange
    l2_regularization: LogRange
    max_features: Range  # share of the features each split considers

    @field_validator("max_leaf_nodes")
    @classmethod
    def _a_tree_splits(cls, value: tuple[int, int]) -> tuple[int, int]:
        if value[0] < 2:
            raise ValueError(f"a tree needs at least 2 leaves, got [{value[0]}, {value[1]}]")
        return value

    @field_validator("max_features")
    @classmethod
    def _a_share(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not (value[0] > 0 and value[1] <= 1):
            raise ValueError(f"max_features is a share of the features, in (0, 1], got [{value[0]}, {value[1]}]")
        return value


class LogisticRegressionSpace(ReferenceStudyConfig):
    """scikit-learn's ``LogisticRegression`` (liblinear): inverse regularization strength ``C`` on a log
    scale, the penalty, and class weighting."""

    C: LogRange  # scikit-learn's name
    penalty: list[Literal["l1", "l2"]] = Field(min_length=1)
    class_weight: list[Literal["none", "balanced"]] = Field(min_length=1)


class ReferencesConfig(Section):
    """The comparison's reference models, each tuned by its own Optuna study (seeded TPE) on the train
    split and scored by validation log loss, the network studies' protocol."""

    seed: int  # random_state of the models, in the trials and wherever a reference is refitted
    sampler_seed: int
    gradient_boosting: GradientBoostingSpace
    logistic_regression: LogisticRegressionSpace


class ThresholdConfig(Section):
    """``max_f1``, or ``max_profit``: the cut-off that maximizes the campaign's realized net value
    on validation under the value model of ``segment.campaign``."""

    rule: Literal["max_f1", "max_profit"]


class BootstrapConfig(Section):
    resamples: int = Field(gt=0)
    confidence: float = Field(gt=0, lt=1)
    seed: int


class ErrorAnalysisConfig(Section):
    """Columns to break the champion's errors down by; numeric ones are cut into bands."""

    columns: list[str]
    bands: dict[str, list[float]]


class EvaluateConfig(Section):
    threshold: ThresholdConfig
    calibration: list[Literal["platt", "isotonic"]]
    calibration_folds: int = Field(ge=2)
    bootstrap: BootstrapConfig
    ece_bins: int = Field(gt=1)
    error_analysis: ErrorAnalysisConfig


class GateConfig(Section):
    """Gate v2 (``pipeline.evaluation.gate``): the champion leaves the baseline's configuration for a
    challenger significantly better in ``criterion`` (one-sided, Holm over the challengers that can be
    champion, at ``alpha``), or, when none is, for one practically equivalent (posterior probability of
    a difference within ``rope`` at least ``equivalence_probability``) and materially cheaper to train
    (at most ``cheaper`` times the baseline's parameter updates). The cheapest of the tied wins."""

    criterion: Literal["log_loss", "brier", "roc_auc", "pr_auc"]
    alpha: float = Field(gt=0, lt=1)
    rope: float = Field(gt=0)  # region of practical equivalence, in units of the criterion
    equivalence_probability: float = Field(gt=0.5, lt=1)
    cheaper: float = Field(gt=0, lt=1)
    power: float = Field(gt=0, lt=1)  # of the minimal detectable difference the report states

    @property
    def lower_is_better(self) -> bool:
        return metric_registry.lower_is_better(self.criterion)


class ResampleConfig(Section):
    """The final comparison: every candidate refit, as the seed ensemble that would be served, on
    ``repeats`` x ``folds`` stratified folds of the development data (train + validation, never test)."""

    repeats: int = Field(gt=0)
    folds: int = Field(ge=2)
    seed: int  # fold assignment and inner slices
    seeds_per_fold: int = Field(gt=0)  # ensemble members per fold; fold i, member k trains with seed 100 i + k
    tune_fraction: float = Field(gt=0, lt=1)  # inner slice of a fold's training part: early stopping, decision
    confidence: float = Field(gt=0, lt=1)
    gate: GateConfig


class SegmentSpec(Section):
    name: str
    action: str


class SensitivityConfig(Section):
    success_rates: list[float] = Field(min_length=1)
    contact_costs: list[float] = Field(min_length=1)


class CampaignConfig(Section):
    """The value model of a retention campaign (``pipeline.segmentation.campaign``): assumptions,
    each documented; amounts in the currency of ``segment.value_column``."""

    margin: float = Field(gt=0, le=1)  # share of the monthly value that is contribution margin
    offer_months: float = Field(ge=0)  # the retention offer: a discount of this many months' value
    contact_cost: float = Field(ge=0)  # cost of one contact
    success_rate: float = Field(ge=0, le=1)  # contacted would-be churners who stay because of it
    stayer_acceptance: float = Field(ge=0, le=1)  # contacted stayers who take the offer anyway
    sensitivity: SensitivityConfig
    shares: int = Field(gt=1)  # campaign sizes drawn: this many equal steps of the customer base
    bootstrap: BootstrapConfig


class QuantileCut(Section):
    """A cut point taken from the data: this quantile of the value column on the training split."""

    quantile: float = Field(gt=0, lt=1)  # 0.5: the training split's median


SegmentCell = Literal["high_risk_high_value", "high_risk_low_value", "low_risk_high_value", "low_risk_low_value"]
SEGMENT_CELLS: tuple[SegmentCell, ...] = typing.get_args(SegmentCell)  # risk first, then value; high before low


class SegmentConfig(Section):
    """Risk x value segments, and behavioural personas from an unsupervised clustering."""

    risk_cut: float = Field(gt=0, lt=1)  # calibrated churn probability at or above which risk is high
    value_column: str  # revenue per customer, a numeric column of the schema (checked by prepare)
    value_unit: Literal["month", "year", "lifetime"]  # what one amount of value_column covers
    value_cut: float | QuantileCut  # at or above it value is high: an amount in value_column's unit, or a quantile
    horizon_months: int = Field(gt=0)  # expected revenue at risk = probability x monthly value x horizon
    segments: dict[SegmentCell, SegmentSpec]
    persona_columns: list[str] = Field(min_length=1)
    persona_k: tuple[int, int]  # the number of personas is chosen by silhouette in this range
    persona_seed: int
    shap_background: int = Field(gt=0)  # training rows the explainer compares against
    shap_seed: int
    top_shares: list[float] = Field(min_length=1)  # campaign sizes (share of customers) to compare models at
    permutation_repeats: int = Field(gt=0)
    campaign: CampaignConfig

    @property
    def monthly_factor(self) -> float:
        """value_column times this is a monthly amount: a yearly one over 12, a lifetime one spread
        evenly over the horizon (so its revenue at risk is probability x the lifetime value)."""
        return {"month": 1.0, "year": 1 / 12, "lifetime": 1 / self.horizon_months}[self.value_unit]

    def monthly_value(self, values: npt.ArrayLike) -> np.ndarray:
        """value_column's amounts as monthly ones (float64), the unit the value model works in."""
        return np.asarray(values, dtype="float64") * self.monthly_factor

    @property
    def cut(self) -> float:
        """``value_cut`` as an amount; a quantile is one only once taken on the training split (``resolved``)."""
        if isinstance(self.value_cut, QuantileCut):
            raise ValueError(
                f"segment.value_cut {{quantile: {self.value_cut.quantile:g}}} has no amount until it is taken on "
                f"the training split's {self.value_column}: use SegmentConfig.resolved(values) first"
            )
        return self.value_cut

    def resolved(self, training_values: npt.ArrayLike) -> SegmentConfig:
        """This configuration with ``value_cut`` an amount: a quantile taken of ``training_values`` (the
        training split's value_column, linear interpolation); an amount as it is."""
        if not isinstance(self.value_cut, QuantileCut):
            return self
        values = np.asarray(training_values, dtype="float64")
        if values.size == 0:
            raise ValueError(f"segment.value_cut: no training values of {self.value_column} to take a quantile of")
        return self.model_copy(update={"value_cut": float(np.quantile(values, self.value_cut.quantile))})

    @field_validator("segments")
    @classmethod
    def _all_four(cls, value: dict[str, SegmentSpec]) -> dict[str, SegmentSpec]:
        if len(value) != 4:
            raise ValueError("segments needs all four risk x value cells")
        return value


class ReportConfig(Section):
    """Where the rendered report, its figures and the draw.io diagrams go (all committed), and the few
    words about the business that neither the schema nor the data hold."""

    document: Path
    figures: Path  # images the report embeds: copied from MLflow artifacts, diagrams rendered
    diagrams: Path  # draw.io sources, one per diagram
    dvc_file: Path  # the pipeline diagram is drawn from it
    profile_columns: int = Field(gt=0)  # categorical columns shown in "the customer base": widest churn spread
    company: str = Field(min_length=1)  # whose customers these are: the report's title and prose name it
    persona_columns_text: str | None = None  # the prose's words for segment.persona_columns; None: they are listed
    unseen_data: str | None = None  # data the study lacks, named in the reflection; None: not named


class ParallelConfig(Section):
    """Worker processes for a stage's independent units (``pipeline/parallel.py``); numbers do not
    depend on it, so no stage lists it as a DVC parameter. ``PIPELINE_WORKERS`` overrides it."""

    workers: int | None = Field(default=None, ge=1)  # None: every core


class Params(Section):
    paths: PathsConfig
    tracking: TrackingConfig
    parallel: ParallelConfig = ParallelConfig()
    prepare: PrepareConfig
    baseline: BaselineConfig
    recipes: RecipesConfig
    optimize: OptimizeConfig
    references: ReferencesConfig
    resample: ResampleConfig
    evaluate: EvaluateConfig
    segment: SegmentConfig
    report: ReportConfig

    _source: Path = PrivateAttr(PARAMS_FILE)

    @property
    def source(self) -> Path:
        """The file these parameters were read from (worker processes read it too)."""
        return self._source

    @classmethod
    def load(cls, path: str | Path = PARAMS_FILE) -> Params:
        with open(path, encoding="utf-8") as fh:
            params = cls.model_validate(yaml.safe_load(fh))
        params._source = Path(path)
        return params
