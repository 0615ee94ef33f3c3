"""The numbers and judgements the report's prose needs, as typed per-section facts built by pure functions.

Every number comes from the gathered evidence; every "better / worse / within noise" is decided by
``claims.judge`` on an interval (or, for the resampled comparison, by the gate's own rules), so the
template only words decisions made here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pipeline.config import Params, SegmentConfig
from pipeline.data.schema import DataSchema
from pipeline.evaluation.summary import (
    BASELINE,
    BLEND,
    Design,
    Detectable,
    GateSettings,
    GateSummary,
    PosteriorSummary,
    RopeInMoney,
)
from pipeline.metric_registry import RESAMPLED, label, lower_is_better, read_interval
from pipeline.reporting import claims, tables
from pipeline.reporting.claims import Bounds, Verdict, judge
from pipeline.reporting.evidence import DataProfile, Evidence
from pipeline.segmentation import personas
from pipeline.segmentation.summaries import ValueCutSummary
from pipeline.tracking import registry

LevelRate = tuple[str, float]  # a column's value and its churn rate


@dataclass(frozen=True)
class Estimate:
    """A difference with its 95 % interval, and what the interval says."""

    value: float
    low: float
    high: float
    verdict: Verdict


def estimate(value: float, low: float, high: float, lower_better: bool) -> Estimate:
    """An interval judged by ``judge``: better or worse when it excludes zero, else within noise."""
    return Estimate(value, low, high, judge(Bounds(low, high), lower_better))


@dataclass(frozen=True)
class Resampled:
    """A model minus the baseline on the resampling folds, judged by the gate's rules: "better" when
    significantly better, "worse" when the posterior says worse, else "within noise"."""

    value: float
    low: float
    high: float
    p_holm: float
    p_gate: float  # the p it is judged by (a network's one-sided Holm p, a reference's two-sided p)
    verdict: Verdict
    words: str  # ``tables.verdict``: "significantly better", "practically equivalent, ...", "worse", ...


@dataclass(frozen=True)
class OnTest:
    """A challenger minus the baseline on the test split (paired bootstrap), judged, and against the ROPE."""

    value: float
    low: float
    high: float
    verdict: Verdict
    within_rope: bool


@dataclass(frozen=True)
class Blend:
    """The blend of the baseline network and tuned gradient boosting, against the baseline, the champion
    (when it is not the baseline) and gradient boosting alone (when it was scored)."""

    name: str
    mean: float
    versus: Resampled
    champion: Estimate | None
    trees: Estimate | None
    trees_mean: float | None


@dataclass(frozen=True)
class ResampledFacts:
    """§ 1, § 2 and § 8.3: the gate's answer on resampled development data, and what the test split says."""

    summary: GateSummary
    label: str  # the criterion in prose ("log loss")
    networks: list[str]  # challenger networks, best first
    references: list[str]
    versus: dict[str, Resampled]  # every challenger
    blend: Blend | None
    test: dict[str, OnTest | None]  # every challenger scored on test with a paired difference
    test_value: dict[str, float]  # every model scored on test: its value of the criterion

    # the summary's parts, under the names the template uses
    @property
    def design(self) -> Design:
        return self.summary.design

    @property
    def gate(self) -> GateSettings:
        return self.summary.gate

    @property
    def detectable(self) -> Detectable:
        return self.summary.detectable

    @property
    def rope_money(self) -> RopeInMoney:
        return self.summary.rope_in_money

    @property
    def champion(self) -> str:
        return self.summary.champion

    @property
    def route(self) -> str:
        return self.summary.route

    @property
    def reason(self) -> str:
        return self.summary.reason

    @property
    def qualified(self) -> list[str]:
        return self.summary.qualified

    @property
    def alpha(self) -> float:
        return self.summary.gate.alpha

    @property
    def n_folds(self) -> int:
        return self.summary.design.n_folds

    @property
    def nb_factor(self) -> float:
        """Nadeau and Bengio's variance factor: 1/n + held-out/training."""
        d = self.summary.design
        return 1 / d.n_folds + d.held_rows / d.training_rows

    @property
    def family(self) -> int:
        return len(self.networks)

    @property
    def metrics(self) -> int:
        return len(RESAMPLED)

    @property
    def mean(self) -> dict[str, float]:
        return {n: self.summary.mean(n) for n in self.summary.models}

    @property
    def cost(self) -> dict[str, float | None]:
        return {n: m.cost for n, m in self.summary.models.items()}

    @property
    def posterior(self) -> dict[str, PosteriorSummary | None]:
        return {n: m.posterior for n, m in self.summary.models.items()}

    @property
    def verdict(self) -> dict[str, str]:
        return {n: v.words for n, v in self.versus.items()}

    @property
    def better(self) -> list[str]:
        return [n for n in self.networks if self.versus[n].verdict == "better"]

    @property
    def worse(self) -> list[str]:
        return [n for n in self.networks if self.versus[n].verdict == "worse"]

    @property
    def equivalent(self) -> list[str]:
        return [n for n in self.networks if self.versus[n].words.startswith("practically equivalent")]

    @property
    def references_better(self) -> list[str]:
        return [n for n in self.references if self.versus[n].verdict == "better"]

    @property
    def half_width(self) -> float:
        """Mean half-width of the networks' 95 % corrected intervals on their difference from the baseline."""
        widths = [(self.versus[n].high - self.versus[n].low) / 2 for n in self.networks]
        return sum(widths) / len(widths) if widths else math.nan

    @property
    def champion_test(self) -> OnTest | None:
        """The champion minus the baseline on test (None when the baseline is champion)."""
        return self.test.get(self.champion) if self.champion != BASELINE else None

    @property
    def test_better(self) -> list[str]:
        return [n for n in self.networks if (t := self.test[n]) and t.verdict == "better"]

    @property
    def test_worse(self) -> list[str]:
        return [n for n in self.networks if (t := self.test[n]) and t.verdict == "worse"]


def resampled_facts(evidence: Evidence) -> ResampledFacts:
    """The answer the gate gave on resampled development data, and what the test split says of it."""
    summary = evidence.resampled
    challengers = [n for n in tables.resampled_order(summary) if n != BASELINE]
    versus = {n: standing(summary, n) for n in challengers}
    return ResampledFacts(
        summary=summary,
        label=label(summary.criterion).lower(),
        networks=[n for n in challengers if summary.models[n].kind == "ann"],
        references=[n for n in challengers if summary.models[n].kind != "ann"],
        versus=versus,
        blend=blend_facts(evidence, versus),
        test={n: on_test(evidence, n) for n in challengers},
        test_value={n: run.data.metrics[f"test_{summary.criterion}"] for n, run in evidence.model_runs.items()},
    )


def standing(summary: GateSummary, name: str) -> Resampled:
    """A challenger's resampled difference from the baseline, and the gate's verdict on it."""
    c, words = summary.versus(name), tables.verdict(summary, name)
    verdict: Verdict = (
        "better" if words.startswith("significantly better") else "worse" if words.startswith("worse")
        else "within noise"
    )  # fmt: skip
    return Resampled(c.mean, c.low, c.high, c.p_holm, c.gate_p, verdict, words)


def on_test(evidence: Evidence, name: str) -> OnTest | None:
    """``name`` minus the baseline on test in the gate's criterion, if it was scored there."""
    summary, run = evidence.resampled, evidence.model_runs.get(name)
    key = summary.criterion
    if run is None or f"diff_{key}" not in run.data.metrics:
        return None
    value, low, high = read_interval(run.data.metrics, "diff", key)
    within = -summary.gate.rope < low and high < summary.gate.rope
    return OnTest(value, low, high, judge(Bounds(low, high), summary.gate.lower_is_better), within)


def pair(evidence: Evidence, model: str, other: str) -> Estimate:
    """``model`` minus ``other`` on the resampling folds (unadjusted), judged."""
    summary = evidence.resampled
    c = tables.resampled_difference(evidence, model, other, summary.criterion)
    return estimate(c.mean, c.low, c.high, summary.gate.lower_is_better)


def blend_facts(evidence: Evidence, versus: Mapping[str, Resampled]) -> Blend | None:
    summary = evidence.resampled
    if BLEND not in summary.models:
        return None
    rival = "gradient_boosting" if "gradient_boosting" in summary.models else None
    return Blend(
        name=BLEND,
        mean=summary.mean(BLEND),
        versus=versus[BLEND],
        champion=pair(evidence, BLEND, summary.champion) if summary.champion != BASELINE else None,
        trees=pair(evidence, BLEND, rival) if rival else None,
        trees_mean=summary.mean(rival) if rival else None,
    )


@dataclass(frozen=True)
class RecipeFacts:
    """§ 6: one of the briefs' recipes, against the baseline and its tuned counterpart."""

    name: str
    changes: list[str]  # which of model, optimizer, training differ from the baseline
    mean: float
    versus: Resampled
    verdict: str
    counterpart: str | None
    counterpart_mean: float | None
    added: Estimate | None  # the counterpart minus the recipe
    optimizer: str


def recipe_facts(evidence: Evidence) -> list[RecipeFacts]:
    """Per recipe: its standing against the baseline, and what tuning its counterpart added."""
    summary, out = evidence.resampled, []
    for name, recipe in evidence.recipes.items():
        other = tables.counterpart(evidence, name)
        params, base = recipe.run.data.params, evidence.baseline_run.data.params
        changed = sorted(k.split(".")[0] for k, v in base.items() if k in params and params[k] != v)
        out.append(
            RecipeFacts(
                name=name,
                changes=list(dict.fromkeys(changed)),
                mean=summary.mean(name),
                versus=standing(summary, name),
                verdict=tables.verdict(summary, name).removesuffix(" (champion)"),
                counterpart=other,
                counterpart_mean=summary.mean(other) if other else None,
                added=pair(evidence, other, name) if other else None,
                optimizer=params["optimizer"],
            )
        )
    return out


def ensemble_facts(evidence: Evidence) -> dict[str, dict[str, Estimate]]:
    """Per model and metric: the seed ensemble minus a single seed model on test, judged."""
    return {
        name: {m: estimate(v["diff"], v["low"], v["high"], lower_is_better(m)) for m, v in by_metric.items()}
        for name, by_metric in evidence.ensemble_vs_single.items()
    }


@dataclass(frozen=True)
class CampaignFacts:
    """§ 1 and § 10.1: the plan, what it realized on test against its rivals, and how it moves with the
    success rate at the configured contact cost. Counts are of the test customers unless named otherwise."""

    contacts: int
    customers: int  # the whole base, which the scaling assumes test is typical of
    share: float
    expected: float
    scale: float
    existing_is_champion: bool
    test_contacts: int
    test_customers: int
    realized: Mapping[str, Mapping[str, float]]  # rule -> net value, interval, the plan's lead over it
    lead: dict[str, Verdict]  # the plan against each rule at the same size (paired interval)
    mix: list[tuple[str, int]]  # segment -> contacts
    by_success: list[tuple[float, float, float]]  # success rate, contact share, net value


def campaign_facts(params: Params, evidence: Evidence) -> CampaignFacts:
    summary, cfg = evidence.campaign_summary, params.segment.campaign
    realized = summary.test_net_value
    sensitivity = evidence.campaign_tables["sensitivity_test"]
    at_cost = sensitivity[sensitivity["contact_cost"] == cfg.contact_cost].sort_values("success_rate")
    plan = evidence.campaign_tables["plan_by_segment"]
    return CampaignFacts(
        contacts=summary.planned_contacts,
        customers=summary.customers,
        share=summary.planned_contacts / summary.test_customers,
        expected=summary.planned_expected_net_value,
        scale=summary.base_scale,
        existing_is_champion=evidence.champion == BASELINE,
        test_contacts=summary.test_planned_contacts,
        test_customers=summary.test_customers,
        realized=realized,
        lead={
            rule: judge(Bounds(v["plan_minus_rule_low"], v["plan_minus_rule_high"]), False)
            for rule, v in realized.items()
        },
        mix=[(r["segment"], int(r["contacts"])) for _, r in plan.iterrows() if r["contacts"] > 0],
        by_success=[(r["success_rate"], r["contact_share"], r["net_value"]) for _, r in at_cost.iterrows()],
    )


@dataclass(frozen=True)
class Pair:
    baseline: float
    champion: float


@dataclass(frozen=True)
class TestFacts:
    """§ 1, § 8.4, § 11 and § 12: the champion against the baseline and the references on test."""

    roc_auc: Pair
    diff_roc_auc: Estimate  # champion minus baseline, paired bootstrap (zero when the baseline is champion)
    ann_auc_range: tuple[float, float]
    best_reference: str
    best_reference_auc: float
    paired_auc_width: float


def test_facts(evidence: Evidence) -> TestFacts:
    champion = evidence.champion
    bm, cm = evidence.model_runs[BASELINE].data.metrics, evidence.model_runs[champion].data.metrics
    references = {n: r for n, r in evidence.model_runs.items() if r.data.tags.get("kind") == "reference"}
    best = max(references, key=lambda n: references[n].data.metrics["test_roc_auc"])
    ann_auc = [r.data.metrics["test_roc_auc"] for n, r in evidence.model_runs.items() if n not in references]
    diff = (
        estimate(*read_interval(cm, "diff", "roc_auc"), lower_better=False) if champion != BASELINE
        else Estimate(0.0, 0.0, 0.0, "within noise")
    )  # fmt: skip
    return TestFacts(
        roc_auc=Pair(bm["test_roc_auc"], cm["test_roc_auc"]),
        diff_roc_auc=diff,
        ann_auc_range=(min(ann_auc), max(ann_auc)),
        best_reference=best,
        best_reference_auc=references[best].data.metrics["test_roc_auc"],
        paired_auc_width=cm.get("diff_roc_auc_high", 0.0) - cm.get("diff_roc_auc_low", 0.0),
    )


@dataclass(frozen=True)
class ValidationLoss:
    best_optimizer: str
    best_optimizer_value: float
    optimizer_range: float  # best minus worst tuned optimizer, mean validation log loss
    seed_sd: float  # the optimizers' mean standard deviation over seeds


@dataclass(frozen=True)
class Epochs:
    baseline: float  # the baseline's mean best epoch
    baseline_max: int
    baseline_overfit: float  # the representative seed's last minus best validation loss


@dataclass(frozen=True)
class TrainingFacts:
    """§ 4 and § 8.1: how the baseline trains and how the tuned optimizers compare on validation."""

    val_loss: ValidationLoss
    epochs: Epochs
    baseline_recall_at_half: float


def training_facts(params: Params, evidence: Evidence) -> TrainingFacts:
    comparison = {k: s for k, s in evidence.studies.items() if k != "search"}
    val_loss = {k: s.run.data.metrics["val_log_loss_mean"] for k, s in comparison.items()}
    best = min(val_loss, key=val_loss.__getitem__)
    seed_sd = sum(s.run.data.metrics["val_log_loss_std"] for s in comparison.values()) / len(comparison)
    base = evidence.baseline_run.data.metrics
    curve = tables.curve_summary(evidence.histories[tables.selected_baseline_run(evidence).info.run_id])
    return TrainingFacts(
        val_loss=ValidationLoss(best, val_loss[best], max(val_loss.values()) - min(val_loss.values()), seed_sd),
        epochs=Epochs(base["val_best_epoch_mean"], params.baseline.candidate.training.epochs, curve["last_minus_best"]),
        baseline_recall_at_half=base["val_recall_mean"],
    )


@dataclass(frozen=True)
class SegmentRate:
    name: str
    churn_rate: float  # actual, on test


@dataclass(frozen=True)
class SegmentFacts:
    """§ 1 and § 10: the segments on test, the churners a campaign reaches, personas and drivers."""

    by_risk: list[SegmentRate]  # riskiest first
    reached: Mapping[str, Mapping[str, int]]  # "top_20pct" -> champion / baseline -> churners
    test_churners: int
    personas: int
    importance_correlation: float
    disagreements: list[str]
    top_drivers: list[str]


def segment_facts(evidence: Evidence) -> SegmentFacts:
    summary = evidence.segment_summary
    on_test = summary.segments_test
    rates = [SegmentRate(name, v.actual_churn_rate) for name, v in on_test.items()]
    return SegmentFacts(
        by_risk=sorted(rates, key=lambda s: s.churn_rate, reverse=True),
        reached=summary.churners_reached_test,
        test_churners=round(sum(v.customers * v.actual_churn_rate for v in on_test.values())),
        personas=summary.personas,
        importance_correlation=summary.importance_rank_correlation,
        disagreements=list(summary.importance_disagreements),
        top_drivers=list(evidence.segment_tables["importance"]["column"].head(3)),
    )


@dataclass(frozen=True)
class ValueAxis:
    """The value axis in words: the value column's name as words ("annual_fee": "annual fee"), its cut
    (the amount, where it sits among the training customers) and revenue at risk's formula in its unit."""

    words: str
    cut: float
    position: str
    revenue_at_risk: str


@dataclass(frozen=True)
class BaseFacts:
    """§ 3: the customer base, from the prepare run and its data profile (training split)."""

    customers: int
    churn_rate: float  # training split
    churn_contrasts: list[tuple[str, LevelRate, LevelRate]]  # per column: its highest- and lowest-churn values


def base_facts(params: Params, evidence: Evidence) -> BaseFacts:
    m = evidence.prepare_run.data.metrics
    return BaseFacts(
        customers=int(sum(m[f"{s}_rows"] for s in ("train", "validation", "test"))),
        churn_rate=m["train_churn_rate"],
        churn_contrasts=contrasts(evidence.profile, params.report.profile_columns),
    )


@dataclass(frozen=True)
class DataFacts:
    """What the prose says of the data, from the schema and params rather than in the template's words:
    column counts, the split, the value axis, the persona columns, the high-risk segments' names."""

    feature_columns: int
    checked_columns: int  # what the contract checks: the id, the features and the target
    ignored_columns: int
    split: str  # "70/15/15"
    value: ValueAxis
    persona_columns: str
    high_risk_segments: list[str]


def data_facts(params: Params, schema: DataSchema, value_cut: ValueCutSummary) -> DataFacts:
    """``value_cut`` is the segment stage's: the amount and the training split's share below it."""
    seg = params.segment
    checked = [*([schema.id_column] if schema.id_column else []), *schema.feature_columns, schema.target.column]
    fractions = params.prepare.fractions
    return DataFacts(
        feature_columns=len(schema.feature_columns),
        checked_columns=len(checked),
        ignored_columns=len(schema.ignore),
        split="/".join(f"{100 * fractions[name]:g}" for name in ("train", "validation", "test")),
        value=value_facts(seg, value_cut),
        persona_columns=params.report.persona_columns_text or f"the columns {listed(seg.persona_columns)}",
        high_risk_segments=[seg.segments[c].name for c in ("high_risk_high_value", "high_risk_low_value")],
    )


def value_facts(seg: SegmentConfig, value_cut: ValueCutSummary) -> ValueAxis:
    words = " ".join(personas.column_words(seg.value_column))
    per_month = {"month": f" x {seg.horizon_months}", "year": f" / 12 x {seg.horizon_months}", "lifetime": ""}
    return ValueAxis(words, value_cut.amount, position(value_cut.training_share_below),
                     f"probability x {words}{per_month[seg.value_unit]}")  # fmt: skip


def position(share_below: float) -> str:
    """Where a cut sits among the training customers: "about the median" within 5 points of it, else the
    nearest percentile ("about the 70th percentile")."""
    if abs(share_below - 0.5) <= 0.05:
        return "about the median"
    percent = round(100 * share_below)
    suffix = "th" if 10 <= percent % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(percent % 10, "th")
    return f"about the {percent}{suffix} percentile"


def listed(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def contrasts(profile: DataProfile, columns: int) -> list[tuple[str, LevelRate, LevelRate]]:
    """Per column of the customer-base table: its highest- and lowest-churn values."""
    out = []
    for col in tables.widest_churn_spread(profile, columns):
        rates = [(level, v["churn_rate"]) for level, v in profile["categorical"][col].items()]
        out.append((col, max(rates, key=lambda x: x[1]), min(rates, key=lambda x: x[1])))
    return out


def summary_facts(evidence: Evidence) -> claims.Summary:
    """What § 1 may claim changed for the served model, from this run's numbers."""
    champion = evidence.champion
    run = evidence.model_runs[champion]
    trained = evidence.trained(champion)
    training_run = trained.run if trained else evidence.baseline_run
    prefix = "best." if "best.training.epochs" in training_run.data.params else ""
    patience = training_run.data.params[f"{prefix}training.early_stopping_patience"]
    epochs = [s.run.data.metrics["val_best_epoch_mean"] for k, s in evidence.studies.items() if k != "search"]
    training = claims.Training(
        early_stopping=patience not in ("None", "null", ""),
        max_epochs=int(training_run.data.params[f"{prefix}training.epochs"]),
        best_epoch=training_run.data.metrics["val_best_epoch_mean"],
        tuned_epochs=(min(epochs), max(epochs)),
    )
    return claims.Summary(
        before_after=claims.before_after(evidence.before_after, champion),
        training=training,
        calibration=run.data.params["calibration"],
        ece=run.data.metrics["test_ece"],
        threshold=float(run.data.params["threshold"]),
    )


@dataclass(frozen=True)
class Facts:
    """Everything the narrative needs, by section."""

    champion: str
    champion_version: str
    baseline_version: str
    resampled: ResampledFacts
    summary: claims.Summary
    recipes: list[RecipeFacts]
    ensemble: dict[str, dict[str, Estimate]]
    campaign: CampaignFacts
    test: TestFacts
    training: TrainingFacts
    segments: SegmentFacts
    base: BaseFacts
    data: DataFacts

    @property
    def baseline_is_champion(self) -> bool:
        """The gate kept the existing network's configuration: one model carries both aliases."""
        return self.champion == BASELINE


def facts(params: Params, schema: DataSchema, evidence: Evidence) -> Facts:
    """The numbers and judgements the narrative needs, computed from the runs."""
    return Facts(
        champion=evidence.champion,
        champion_version=evidence.versions[registry.CHAMPION].version,
        baseline_version=evidence.versions[registry.BASELINE].version,
        resampled=resampled_facts(evidence),
        summary=summary_facts(evidence),
        recipes=recipe_facts(evidence),
        ensemble=ensemble_facts(evidence),
        campaign=campaign_facts(params, evidence),
        test=test_facts(evidence),
        training=training_facts(params, evidence),
        segments=segment_facts(evidence),
        base=base_facts(params, evidence),
        data=data_facts(params, schema, evidence.segment_summary.value_cut),
    )
