"""What the resampled scores say: every model against the baseline (corrected resampled t-test with
Holm's adjustment over the challengers that can be champion, correlated Bayesian t-test), the design's
minimal detectable difference, what the ROPE is worth in money, the gate's decision, and the summary
later stages and the report read. Pure: scores in (``comparison.score_folds``), numbers out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from pipeline.config import GateConfig, ResampleConfig
from pipeline.evaluation.gate import GateDecision, GateRule, Standing, gate
from pipeline.evaluation.resampled import (
    Comparison,
    Posterior,
    corrected_t_test,
    correlated_bayesian_t_test,
    holm_adjusted,
    minimal_detectable_difference,
)
from pipeline.evaluation.summary import (
    BASELINE,
    Design,
    Detectable,
    GateSettings,
    GateSummary,
    ModelStanding,
    PosteriorSummary,
    RopeInMoney,
    Versus,
)
from pipeline.metric_registry import RESAMPLED, lower_is_better, with_interval


def paired(scores: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Folds x models table of one metric."""
    return scores.pivot(index="index", columns="model", values=metric)


def versus(scores: pd.DataFrame, metric: str, model: str, other: str, confidence: float) -> Comparison:
    """``model`` minus ``other`` over the folds, by the corrected resampled t-test."""
    return corrected_t_test(_differences(scores, metric, model, other), *_sizes(scores), confidence)


def _differences(scores: pd.DataFrame, metric: str, model: str, other: str) -> np.ndarray:
    table = paired(scores, metric)
    return (table[model] - table[other]).to_numpy()


def _sizes(scores: pd.DataFrame) -> tuple[int, int]:
    """Mean training and held-out rows per fold."""
    sizes = scores.drop_duplicates("index")
    return int(sizes["training_rows"].mean()), int(sizes["held_rows"].mean())


def gated(scores: pd.DataFrame) -> list[str]:
    """The challengers that can be champion: every network but the baseline."""
    return [m for m in dict.fromkeys(scores.loc[scores["kind"] == "ann", "model"]) if m != BASELINE]


def versus_baseline(scores: pd.DataFrame, cfg: ResampleConfig) -> dict[str, dict[str, Comparison]]:
    """Metric -> model -> its difference from the baseline. Holm's family is the gated challengers: on
    the gate's criterion adjusted from one-sided p (the claim "better"), on the other metrics from
    two-sided p (they describe). References are single comparisons (``p_holm`` NaN): never in a family."""
    family, others = gated(scores), [m for m in dict.fromkeys(scores["model"]) if m != BASELINE]
    result = {}
    for metric in RESAMPLED:
        raw = {m: versus(scores, metric, m, BASELINE, cfg.confidence) for m in others}
        members = {m: raw[m] for m in family}
        one_sided = {m: c.p_improves(lower_is_better(metric)) for m, c in members.items()}
        adjusted = holm_adjusted(members, one_sided if metric == cfg.gate.criterion else None)
        result[metric] = {m: adjusted.get(m, raw[m]) for m in others}
    return result


def posteriors(scores: pd.DataFrame, gate_cfg: GateConfig) -> dict[str, Posterior]:
    """Every model against the baseline on the gate's criterion, by the correlated Bayesian t-test."""
    models = [m for m in dict.fromkeys(scores["model"]) if m != BASELINE]
    return {
        m: correlated_bayesian_t_test(
            _differences(scores, gate_cfg.criterion, m, BASELINE), *_sizes(scores), gate_cfg.rope,
            gate_cfg.lower_is_better,
        )
        for m in models
    }  # fmt: skip


def choose_champion(
    scores: pd.DataFrame,
    comparisons: Mapping[str, Mapping[str, Comparison]],
    bayes: Mapping[str, Posterior],
    cfg: ResampleConfig,
) -> tuple[GateDecision, dict[str, Standing]]:
    """Gate v2 over the networks (references inform but are never served)."""
    g = cfg.gate
    networks = scores[scores["kind"] == "ann"]
    means = networks.groupby("model")[g.criterion].mean()
    costs = networks.groupby("model")["updates"].mean()
    standings = {
        name: Standing(name, float(means[name]), comparisons[g.criterion][name], bayes[name], float(costs[name]))
        for name in gated(scores)
    }
    rule = GateRule(g.alpha, g.equivalence_probability, g.cheaper, g.lower_is_better)
    decision = gate(
        BASELINE,
        float(costs[BASELINE]),
        standings,
        lambda name, best: versus(scores, g.criterion, name, best, cfg.confidence),
        rule,
    )
    return decision, standings


def detectable(scores: pd.DataFrame, cfg: ResampleConfig) -> Detectable:
    """The design's minimal detectable difference in the criterion at ``gate.power``, one-sided at Holm's
    first step (alpha / family size), from each gated challenger's own fold differences, and their median."""
    g, (train, held) = cfg.gate, _sizes(scores)
    family = gated(scores)
    per_model = {
        m: minimal_detectable_difference(
            float(np.std(_differences(scores, g.criterion, m, BASELINE), ddof=1)),
            scores["index"].nunique(), train, held, g.alpha, g.power, tests=len(family),
        )
        for m in family
    }  # fmt: skip
    median = float(np.median(list(per_model.values()))) if per_model else math.nan
    return Detectable(power=g.power, alpha=g.alpha, tests=len(family), per_model=per_model, median=median)


def rope_in_money(scores: pd.DataFrame, cfg: ResampleConfig) -> RopeInMoney:
    """What the ROPE is worth: the least-squares slope, through the origin, of the networks' fold
    differences from the baseline in campaign value per customer on their differences in the criterion,
    scaled to the ROPE and to 1,000 customers; with the correlation and the baseline's own value."""
    dx: list[float] = []
    dy: list[float] = []
    for m in gated(scores):
        dx.extend(_differences(scores, cfg.gate.criterion, m, BASELINE))
        dy.extend(_differences(scores, "value", m, BASELINE))
    x, y = np.asarray(dx), np.asarray(dy)
    slope = float(x @ y / (x @ x)) if x @ x > 0 else math.nan
    r = float(np.corrcoef(x, y)[0, 1]) if len(x) > 2 and x.std() > 0 and y.std() > 0 else math.nan
    base = float(scores.loc[scores["model"] == BASELINE, "value"].mean())
    return RopeInMoney(pairs=len(x), slope=slope, r=r, per_1000=abs(slope) * cfg.gate.rope * 1000,
                       baseline_per_1000=base * 1000)  # fmt: skip


def document(
    scores: pd.DataFrame,
    comparisons: Mapping[str, Mapping[str, Comparison]],
    bayes: Mapping[str, Posterior],
    decision: GateDecision,
    standings: Mapping[str, Standing],
    cfg: ResampleConfig,
) -> GateSummary:
    """Everything later stages and the report read: the design and its detectable difference, each
    model's mean per metric, its difference from the baseline and posterior, the gate's decision."""
    means = scores.groupby("model", sort=False)[[*RESAMPLED, "value"]].mean()
    kinds = scores.drop_duplicates("model").set_index("model")["kind"]
    train, held = _sizes(scores)
    costs = scores.groupby("model", sort=False)["updates"].mean()
    design = Design(repeats=cfg.repeats, folds=cfg.folds, seeds_per_fold=cfg.seeds_per_fold,
                    tune_fraction=cfg.tune_fraction, confidence=cfg.confidence, training_rows=float(train),
                    held_rows=float(held))  # fmt: skip
    models = {
        name: ModelStanding(
            kind=kinds[name],
            mean={m: float(means.loc[name, m]) for m in RESAMPLED},
            value=float(means.loc[name, "value"]),
            vs_baseline={m: Versus(**vars(comparisons[m][name])) for m in RESAMPLED if name in comparisons[m]},
            posterior=PosteriorSummary(**vars(bayes[name])) if name in bayes else None,
            cost=None if np.isnan(costs[name]) else float(costs[name]),  # parameter updates
            gated=name in standings,
        )
        for name in means.index
    }
    return GateSummary(
        design=design,
        gate=GateSettings(**cfg.gate.model_dump(), lower_is_better=cfg.gate.lower_is_better),
        detectable=detectable(scores, cfg),
        rope_in_money=rope_in_money(scores, cfg),
        champion=decision.champion,
        route=decision.route,
        reason=decision.reason,
        qualified=decision.qualified,
        tied_with_best=decision.tied_with_best,
        equivalent_and_cheaper=decision.equivalent_and_cheaper,
        models=models,
    )


def headline(summary: GateSummary) -> dict[str, str | float]:
    """The few figures a person compares between runs (``dvc metrics diff``): the champion, and the
    best challenger's difference from the baseline whoever won, so every run has the same keys."""
    criterion, champion, models = summary.criterion, summary.champion, summary.models
    out: dict[str, str | float] = {
        "champion": champion,
        f"baseline_{criterion}": summary.mean(BASELINE),
        f"champion_{criterion}": summary.mean(champion),
        "qualified": len(summary.qualified),
        "minimal_detectable_difference": summary.detectable.median,
    }
    challengers = [name for name, model in models.items() if model.gated and name != BASELINE]
    if challengers:
        pick = min if summary.gate.lower_is_better else max
        best = pick(challengers, key=summary.mean)
        c, posterior = summary.versus(best), models[best].posterior
        out |= {"best_challenger": best, f"best_challenger_diff_{criterion}": c.mean,
                "best_challenger_diff_low": c.low, "best_challenger_diff_high": c.high,
                "best_challenger_p_holm": c.p_holm,
                "best_challenger_p_equivalent": posterior.equivalent if posterior else math.nan}  # fmt: skip
    return out


def flat_metrics(summary: GateSummary) -> dict[str, float]:
    """Each model's mean metrics, differences from the baseline and posterior, as MLflow metric names."""
    values: dict[str, float] = {"minimal_detectable_difference": summary.detectable.median,
                                "rope_per_1000_customers": summary.rope_in_money.per_1000}  # fmt: skip
    for name, model in summary.models.items():
        values |= {f"{name}/{m}": v for m, v in model.mean.items()} | {f"{name}/value": model.value}
        for m, c in model.vs_baseline.items():
            values |= with_interval(f"{name}/diff", m, c.model_dump()) | {f"{name}/p_{m}": c.p}
            if not math.isnan(c.p_holm):
                values[f"{name}/p_holm_{m}"] = c.p_holm
        if model.posterior:
            values |= {f"{name}/p_{k}": getattr(model.posterior, k) for k in ("better", "equivalent", "worse")}
    return values
