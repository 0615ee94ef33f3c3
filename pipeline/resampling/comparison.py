"""Every candidate and reference refit and scored on the same resampling folds, then compared
with the baseline (corrected resampled t-test, Holm's adjustment) and passed through the gate.

Each fold mirrors the main pipeline on fewer rows: preprocessing fitted on the fold's ``fit``
rows; networks trained there with early stopping on ``tune`` (the studies' rule, so no epoch
count is carried over from them); the decision layer (calibration if it helps, threshold)
fitted on ``tune``; every metric computed on ``held``, which influences nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from pipeline import parallel
from pipeline.config import EvaluateConfig, ResampleConfig
from pipeline.data.schema import DataSchema
from pipeline.evaluation import calibration, compare, metrics, reference
from pipeline.evaluation.resampled import Comparison, GateDecision, Standing, corrected_t_test, gate, holm_adjusted
from pipeline.features.encoded import Split
from pipeline.features.preprocessing import Preprocessor
from pipeline.metric_registry import RESAMPLED, with_interval
from pipeline.model.config import Candidate
from pipeline.resampling.folds import Fold
from pipeline.training.job import TrainingData, predict, train_members

BASELINE = "baseline"
BLEND = "blend_baseline_gb"  # the mean of the Platt-calibrated baseline network and gradient boosting
ContactValue = Callable[[pd.DataFrame, np.ndarray], np.ndarray]  # (frame, labels) -> value of contacting each
Probabilities = tuple[np.ndarray, np.ndarray]  # a model's raw probabilities on a fold's tune and held rows
NetworkRows = tuple[list[dict], list[Probabilities]]  # a network's score rows, and its raw probabilities, per fold


@dataclass(frozen=True)
class FoldData:
    training: TrainingData  # fit rows as "train", tune rows as "validation", the fold's own preprocessor
    held: Split
    contact_value: np.ndarray  # of the tune rows, for a max_profit threshold


def fold_data(dev: pd.DataFrame, schema: DataSchema, fold: Fold, contact_value: ContactValue) -> FoldData:
    """The fold's splits, encoded by a preprocessor fitted on its ``fit`` rows only."""
    parts = {name: dev.iloc[rows].reset_index(drop=True) for name, rows in
             (("fit", fold.fit), ("tune", fold.tune), ("held", fold.held))}  # fmt: skip
    preprocessor = Preprocessor.fit(parts["fit"], schema)

    def encoded(name: str) -> Split:
        frame = parts[name]
        return Split(name, frame, preprocessor.transform(frame), frame[schema.target.column].to_numpy("float32"))

    tune = encoded("tune")
    return FoldData(
        TrainingData(encoded("fit"), tune, schema, preprocessor), encoded("held"), contact_value(tune.frame, tune.y)
    )


def score_folds(
    folds: Sequence[Fold],
    data: Sequence[FoldData],
    candidates: Mapping[str, Candidate],
    decision: EvaluateConfig,
    reference_seed: int,
    processes: int = 1,
) -> pd.DataFrame:
    """One row per fold and model: its held-out metrics, threshold, calibration and, for networks,
    the parameter updates it took. ``candidates`` must include the baseline (for the blend).

    Each network's pack (its folds in one packed training) and each fold's reference models are
    independent units, run on ``processes`` processes; the rows come in the same order with any number."""
    networks = [functools.partial(_network_rows, name, c, folds, data, decision) for name, c in candidates.items()]
    references = [functools.partial(reference_probabilities, d, reference_seed) for d in data]
    done = parallel.run_all([*networks, *references], processes)
    trained = dict(zip(candidates, cast(list[NetworkRows], done[: len(networks)]), strict=True))
    rows = [row for name in candidates for row in trained[name][0]]
    baseline_raw = trained[BASELINE][1]
    raws = cast(list[dict[str, Probabilities]], done[len(networks) :])
    for fold, d, raw, baseline in zip(folds, data, raws, baseline_raw, strict=True):
        for name, (p_tune, p_held) in raw.items():
            rows.append(_score(name, "reference", fold, d, p_tune, p_held, decision))
        blend = _blend(d.training.validation.y, [baseline, raw["gradient_boosting"]])
        rows.append(_score(BLEND, "reference", fold, d, *blend, decision))
    return pd.DataFrame(rows)


def _network_rows(
    name: str, candidate: Candidate, folds: Sequence[Fold], data: Sequence[FoldData], decision: EvaluateConfig
) -> NetworkRows:
    """One unit: the network trained on every fold in one pack; its rows, and per fold its raw
    probabilities on the tune and held rows."""
    trained = train_members(candidate, [d.training for d in data], [f.index for f in folds])
    rows, raw = [], []
    for fold, d, model in zip(folds, data, trained, strict=True):
        p_tune, p_held = model.val_probabilities, predict(model.model, d.held.x)
        rows.append(_score(name, "ann", fold, d, p_tune, p_held, decision) | {"updates": model.val_metrics["updates"]})
        raw.append((p_tune, p_held))
    return rows, raw


def reference_probabilities(d: FoldData, seed: int) -> dict[str, Probabilities]:
    """One unit: the reference models fitted on the fold's fit rows; their raw probabilities on its
    tune and held rows, by name."""
    fitted = reference.fit_reference_models(d.training.train.x, d.training.train.y, seed)
    return {name: (reference.probabilities(m, d.training.validation.x), reference.probabilities(m, d.held.x))
            for name, m in fitted.items()}  # fmt: skip


def _blend(y_tune: np.ndarray, models: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The mean of the models' probabilities, each Platt-calibrated on the tune rows first, so
    that neither model's scale dominates."""
    calibrators = [calibration.fit("platt", y_tune, p_tune) for p_tune, _ in models]
    tune = np.mean([c.apply(p) for c, (p, _) in zip(calibrators, models, strict=True)], axis=0)
    held = np.mean([c.apply(p) for c, (_, p) in zip(calibrators, models, strict=True)], axis=0)
    return tune, held


def _score(
    name: str, kind: str, fold: Fold, d: FoldData, p_tune: np.ndarray, p_held: np.ndarray, decision: EvaluateConfig
) -> dict:
    y_tune, y_held = d.training.validation.y, d.held.y
    result = compare.fit_decision(name, kind, decision, y_tune, p_tune, p_held, d.contact_value)
    p = result.p_test
    at_threshold = metrics.threshold_metrics(y_held, p, result.threshold)
    return {
        "index": fold.index,
        "repeat": fold.repeat,
        "fold": fold.fold,
        "model": name,
        "kind": kind,
        "training_rows": fold.training_rows,
        "held_rows": len(fold.held),
        "log_loss": metrics.log_loss(y_held, p),
        "roc_auc": metrics.roc_auc(y_held, p),
        "pr_auc": metrics.average_precision(y_held, p),
        "brier": metrics.brier(y_held, p),
        "f1": at_threshold["f1"],
        "macro_f1": at_threshold["macro_f1"],
        "threshold": result.threshold,
        "calibration": result.calibrator.kind if result.calibrator else "none",
        "updates": np.nan,
    }


def paired(scores: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Folds x models table of one metric."""
    return scores.pivot(index="index", columns="model", values=metric)


def versus(scores: pd.DataFrame, metric: str, model: str, other: str, confidence: float) -> Comparison:
    """``model`` minus ``other`` over the folds, by the corrected resampled t-test."""
    table = paired(scores, metric)
    sizes = scores.drop_duplicates("index")
    return corrected_t_test(
        (table[model] - table[other]).to_numpy(),
        int(sizes["training_rows"].mean()),
        int(sizes["held_rows"].mean()),
        confidence,
    )


def versus_baseline(scores: pd.DataFrame, confidence: float) -> dict[str, dict[str, Comparison]]:
    """Metric -> model -> its difference from the baseline, Holm-adjusted over all models compared."""
    others = [m for m in dict.fromkeys(scores["model"]) if m != BASELINE]
    return {
        metric: holm_adjusted({m: versus(scores, metric, m, BASELINE, confidence) for m in others})
        for metric in RESAMPLED
    }


def choose_champion(
    scores: pd.DataFrame, comparisons: Mapping[str, Mapping[str, Comparison]], cfg: ResampleConfig
) -> tuple[GateDecision, dict[str, Standing]]:
    """The gate over the networks (references inform but are never served)."""
    criterion = cfg.gate.criterion
    networks = scores[scores["kind"] == "ann"]
    means = networks.groupby("model")[criterion].mean()
    costs = networks.groupby("model")["updates"].mean()
    standings = {
        name: Standing(name, float(means[name]), comparisons[criterion][name], float(costs[name]))
        for name in dict.fromkeys(networks["model"])
        if name != BASELINE
    }
    decision = gate(
        BASELINE,
        standings,
        lambda name, best: versus(scores, criterion, name, best, cfg.confidence),
        cfg.gate.alpha,
        cfg.gate.lower_is_better,
    )
    return decision, standings


def document(
    scores: pd.DataFrame,
    comparisons: Mapping[str, Mapping[str, Comparison]],
    decision: GateDecision,
    standings: Mapping[str, Standing],
    cfg: ResampleConfig,
) -> dict:
    """Everything later stages and the report read: the design, each model's mean per metric, its
    difference from the baseline, the gate's standings and its decision."""
    means = scores.groupby("model", sort=False)[list(RESAMPLED)].mean()
    kinds = scores.drop_duplicates("model").set_index("model")["kind"]
    sizes = scores.drop_duplicates("index")
    costs = scores.groupby("model", sort=False)["updates"].mean()
    return {
        "design": {
            "repeats": cfg.repeats,
            "folds": cfg.folds,
            "tune_fraction": cfg.tune_fraction,
            "confidence": cfg.confidence,
            "training_rows": float(sizes["training_rows"].mean()),
            "held_rows": float(sizes["held_rows"].mean()),
        },
        "gate": {"criterion": cfg.gate.criterion, "alpha": cfg.gate.alpha, "lower_is_better": cfg.gate.lower_is_better},
        "champion": decision.champion,
        "reason": decision.reason,
        "qualified": decision.qualified,
        "tied_with_best": decision.tied_with_best,
        "models": {
            name: {
                "kind": str(kinds[name]),
                "mean": {m: float(means.loc[name, m]) for m in RESAMPLED},
                "vs_baseline": {m: vars(comparisons[m][name]) for m in RESAMPLED if name in comparisons[m]},
                "cost": None if np.isnan(costs[name]) else float(costs[name]),  # parameter updates
                "gated": name in standings,
            }
            for name in means.index
        },
    }


def headline(summary: dict) -> dict:
    """The few figures a person compares between runs (``dvc metrics diff``): the champion, and the
    best challenger's difference from the baseline whoever won, so every run has the same keys."""
    criterion, champion = summary["gate"]["criterion"], summary["champion"]
    models = summary["models"]
    out = {
        "champion": champion,
        f"baseline_{criterion}": models[BASELINE]["mean"][criterion],
        f"champion_{criterion}": models[champion]["mean"][criterion],
        "qualified": len(summary["qualified"]),
    }
    challengers = [name for name, model in models.items() if model["gated"] and name != BASELINE]
    if challengers:
        pick = min if summary["gate"]["lower_is_better"] else max
        best = pick(challengers, key=lambda name: models[name]["mean"][criterion])
        c = models[best]["vs_baseline"][criterion]
        out |= {"best_challenger": best, f"best_challenger_diff_{criterion}": c["mean"],
                "best_challenger_diff_low": c["low"], "best_challenger_diff_high": c["high"],
                "best_challenger_p_holm": c["p_holm"]}  # fmt: skip
    return out


def flat_metrics(summary: dict) -> dict[str, float]:
    """Each model's mean metrics and differences from the baseline, as MLflow metric names."""
    values: dict[str, float] = {}
    for name, model in summary["models"].items():
        values |= {f"{name}/{m}": v for m, v in model["mean"].items()}
        for m, c in model["vs_baseline"].items():
            values |= with_interval(f"{name}/diff", m, c) | {f"{name}/p_holm_{m}": c["p_holm"]}
    return values
