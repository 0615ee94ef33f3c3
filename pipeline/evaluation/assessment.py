"""Everything ``evaluate`` measures on the test split, as one value: ``assess`` is pure.

Probabilities in (each network's seed models and each reference model, on validation and on test),
the gate's champion in (named by ``resample`` on development data), an ``Assessment`` out: each
model's decision fitted on validation and its test metrics with bootstrap intervals, the seed ensembles
against their members, the errors by customer group, and before/after. No files, no MLflow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.config import EvaluateConfig
from pipeline.evaluation import before_after, bootstrap, compare, ensemble, errors
from pipeline.evaluation.before_after import Network, Scored, Served
from pipeline.evaluation.compare import ModelResult
from pipeline.evaluation.summary import GateSummary

Probabilities = tuple[np.ndarray, np.ndarray]  # a model's probabilities on validation and on test
Estimate = dict[str, float]  # {"value", "low", "high"}
EnsembleComparison = dict[str, dict[str, float]]  # metric -> single_mean, single_std, ensemble, diff, low, high
HEADLINE = ("log_loss", "roc_auc", "pr_auc")


@dataclass(frozen=True)
class AssessmentInputs:
    """What evaluate decides (on validation) and measures (on test) from, in memory."""

    networks: Mapping[str, Network]  # each trained configuration's seed models, in the order of models/
    references: Mapping[str, Probabilities]  # each scikit-learn reference's raw probabilities
    y_val: np.ndarray
    contact_value: np.ndarray  # each validation customer's realized net value if contacted (max_profit)
    test: pd.DataFrame  # the test records, for the error analysis
    y_test: np.ndarray
    gate: GateSummary
    cfg: EvaluateConfig
    original_threshold: float  # the fixed threshold the original network was used with
    optimizers: Sequence[str]  # the tuned optimizers the optimize stage compares


@dataclass(frozen=True)
class BeforeAfter:
    """The original network as it was used, each served network minus it, and the ladder of one change
    per step from it to the best tuned optimizer (each step minus the one before), all on test."""

    original: Scored
    after: Mapping[str, Scored]  # by network
    ladder: Sequence[Scored]

    def document(self) -> dict[str, object]:
        return {
            "original": before_after.as_dict(self.original),
            "after": {network: before_after.as_dict(s) for network, s in self.after.items()},
            "ladder": [before_after.as_dict(s) for s in self.ladder],
        }


@dataclass(frozen=True)
class Assessment:
    """Everything evaluate computed. ``results``: each network (the mean of its seed models) then each
    reference, with its decision from validation, its test metrics and its difference from the baseline."""

    champion: str
    gate: GateSummary
    results: Mapping[str, ModelResult]
    ensembles: Mapping[str, EnsembleComparison]  # the baseline's and the champion's seed ensemble
    errors: pd.DataFrame  # false negatives and positives of the baseline and the champion, by group
    before_after: BeforeAfter
    y_test: np.ndarray
    ece_bins: int

    @property
    def champion_criterion(self) -> str:
        return f"resampled {self.gate.criterion}"

    def summary(self) -> dict[str, object]:
        """Everything measured, as ``reports/evaluate/summary.json`` holds it."""
        return {
            "champion": self.champion,
            "champion_criterion": self.champion_criterion,
            "ensemble_vs_single": dict(self.ensembles),
            "models": {
                name: {
                    "kind": r.kind,
                    "threshold": r.threshold,
                    "calibration": r.calibration,
                    "test": r.test,
                    "vs_baseline": r.vs_baseline,
                }
                for name, r in self.results.items()
            },
        }

    def headline(self) -> dict[str, object]:
        """The champion's test metrics with intervals, and the baseline's, under names that stay put when
        the champion changes."""
        champion, baseline = self.results[self.champion], self.results["baseline"]
        return {
            "champion": self.champion,
            "test": {
                "champion": {k: champion.test[k] for k in HEADLINE},
                "baseline": {k: baseline.test[k]["value"] for k in HEADLINE},
            },
        }


def assess(inputs: AssessmentInputs) -> Assessment:
    """Decisions fitted on validation, then every model scored once on test (see the module)."""
    cfg, champion, y = inputs.cfg, inputs.gate.champion, inputs.y_test
    results = decisions(inputs)
    compare.score_on_test(results, y, cfg)
    indices = bootstrap.resample_indices(len(y), cfg.bootstrap.resamples, cfg.bootstrap.seed)
    ensembles = {
        name: ensemble.single_vs_ensemble(y, inputs.networks[name].p_test, indices, cfg.bootstrap.confidence)
        for name in dict.fromkeys(("baseline", champion))
    }
    predicted = {name: results[name].p_test >= results[name].threshold for name in ("baseline", champion)}
    breakdown = errors.error_breakdown(inputs.test, y, predicted, cfg.error_analysis.columns, cfg.error_analysis.bands)
    return Assessment(
        champion=champion,
        gate=inputs.gate,
        results=results,
        ensembles=ensembles,
        errors=breakdown,
        before_after=assess_before_after(inputs, results, indices),
        y_test=y,
        ece_bins=cfg.ece_bins,
    )


def decisions(inputs: AssessmentInputs) -> dict[str, ModelResult]:
    """Each network as the ensemble of its seeds (the mean probability), then each reference, with its
    decision (calibration, threshold) fitted on validation."""

    def fit(name: str, kind: str, p_val: np.ndarray, p_test: np.ndarray) -> ModelResult:
        return compare.fit_decision(name, kind, inputs.cfg, inputs.y_val, p_val, p_test, inputs.contact_value)

    means = {name: (n.p_val.mean(axis=0), n.p_test.mean(axis=0)) for name, n in inputs.networks.items()}
    networks = {name: fit(name, "ann", *p) for name, p in means.items()}
    return networks | {name: fit(name, "reference", *p) for name, p in inputs.references.items()}


def assess_before_after(
    inputs: AssessmentInputs, results: Mapping[str, ModelResult], indices: np.ndarray
) -> BeforeAfter:
    """The original network as it was used against every served network, and the ladder from it to the
    best tuned optimizer (chosen on the resampling folds), on test with paired intervals over ``indices``."""
    networks, gate, y, confidence = inputs.networks, inputs.gate, inputs.y_test, inputs.cfg.bootstrap.confidence
    start = before_after.original(networks["baseline"], inputs.original_threshold)
    after = [gate.champion, *(o for o in inputs.optimizers if o in networks), "search"]
    served = [_served(networks[name], results[name]) for name in dict.fromkeys(after) if name in networks]
    means = {name: gate.mean(name) for name in gate.models}
    best = before_after.best_optimizer(means, inputs.optimizers, gate.gate.lower_is_better)
    decide = before_after.DecisionRule(inputs.cfg.threshold, inputs.y_val, inputs.contact_value)
    steps = before_after.ladder(start, networks[best], decide, results[best].calibration_losses)
    return BeforeAfter(
        original=before_after.score(y, [start], None, indices, confidence)[0],
        after={s.served.network: s for s in before_after.score(y, served, start, indices, confidence)},
        ladder=before_after.score(y, steps, None, indices, confidence),
    )


def _served(network: Network, result: ModelResult) -> Served:
    """A network as it is served: its seed ensemble, with the calibration and threshold fitted on validation."""
    updates = sum(network.updates)
    return Served(network.name, network.name, len(network.updates), result.calibration, result.p_test,
                  result.threshold, updates)  # fmt: skip
