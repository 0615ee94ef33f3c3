"""Before and after optimization on the test split, as the brief asks, and where the gain comes from.

"Before" is the original network exactly as it would have been used: one seed model (the first of
``baseline.seeds``), the fixed threshold ``baseline.threshold`` and its raw probabilities. "After" is
each network as it is served (the average of its seed models, with the calibration and threshold fitted
on validation). The ladder goes from one to the other, adding one thing per step, so the difference
between two steps is what that thing adds. Every difference is paired: one matrix of resampled test rows
is shared by all models, and an interval is the percentile interval of the per-resample differences.
Pure: probabilities in, numbers out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict, cast

import numpy as np

from pipeline.config import ThresholdConfig
from pipeline.evaluation import bootstrap, calibration, compare
from pipeline.metric_registry import VERSUS_ORIGINAL

Estimate = dict[str, float]  # {"value", "low", "high"}


@dataclass(frozen=True)
class Served:
    """One way of using a network on test: its probabilities, its threshold, and the parameter
    updates that trained the weights it uses (summed over seed models)."""

    label: str
    network: str
    seeds: int
    calibration: str
    p_test: np.ndarray
    threshold: float
    updates: int


@dataclass(frozen=True)
class Scored:
    """A served network's test metrics and its paired difference from a reference, per metric."""

    served: Served
    test: dict[str, Estimate]
    versus: dict[str, Estimate]  # this minus the reference; empty for the reference itself


def samples(y: np.ndarray, served: Served, indices: np.ndarray) -> dict[str, np.ndarray]:
    """Every metric of ``VERSUS_ORIGINAL`` on each resample of rows (``indices``: [resamples, rows])."""
    functions = bootstrap.metric_functions(served.threshold, bins=10)
    return {m: np.array([functions[m](y[rows], served.p_test[rows]) for rows in indices]) for m in VERSUS_ORIGINAL}


def _estimate(value: float, draws: np.ndarray, confidence: float) -> Estimate:
    tail = (1 - confidence) / 2
    low, high = np.nanquantile(draws, [tail, 1 - tail])
    return {"value": float(value), "low": float(low), "high": float(high)}


def point(y: np.ndarray, served: Served) -> dict[str, float]:
    functions = bootstrap.metric_functions(served.threshold, bins=10)
    return {m: float(functions[m](y, served.p_test)) for m in VERSUS_ORIGINAL}


def score(
    y: np.ndarray, served: Sequence[Served], reference: Served | None, indices: np.ndarray, confidence: float
) -> list[Scored]:
    """Each of ``served`` on test with intervals, and minus ``reference`` (None: minus the previous
    one in the sequence, the ladder's steps; the first is then scored alone)."""
    draws = [samples(y, s, indices) for s in served]
    values = [point(y, s) for s in served]
    if reference is not None:
        ref_draws, ref_values = samples(y, reference, indices), point(y, reference)
    out = []
    for k, s in enumerate(served):
        test = {m: _estimate(values[k][m], draws[k][m], confidence) for m in VERSUS_ORIGINAL}
        if reference is None and k == 0:
            out.append(Scored(s, test, {}))
            continue
        base_draws, base_values = (ref_draws, ref_values) if reference is not None else (draws[k - 1], values[k - 1])
        versus = {
            m: _estimate(values[k][m] - base_values[m], draws[k][m] - base_draws[m], confidence)
            for m in VERSUS_ORIGINAL
        }
        out.append(Scored(s, test, versus))
    return out


def best_optimizer(resampled_means: Mapping[str, float], optimizers: Sequence[str], lower_is_better: bool) -> str:
    """The tuned optimizer with the best mean of the gate's criterion on the resampling folds (development
    data: the test split does not choose the ladder's network)."""
    present = [o for o in optimizers if o in resampled_means]
    sign = 1 if lower_is_better else -1
    return min(present, key=lambda o: (sign * resampled_means[o], o))


class ScoredRecord(TypedDict):
    """A ``Scored`` as JSON (``as_dict``)."""

    label: str
    network: str
    seeds: int
    calibration: str
    threshold: float
    updates: int
    test: dict[str, Estimate]
    versus: dict[str, Estimate]


def as_dict(scored: Scored) -> ScoredRecord:
    s = scored.served
    return {
        "label": s.label,
        "network": s.network,
        "seeds": s.seeds,
        "calibration": s.calibration,
        "threshold": s.threshold,
        "updates": s.updates,
        "test": scored.test,
        "versus": scored.versus,
    }


@dataclass(frozen=True)
class Network:
    """A trained configuration's seed models: raw probabilities [seeds, rows] on validation and on
    test, and the parameter updates each seed model took."""

    name: str
    p_val: np.ndarray
    p_test: np.ndarray
    updates: Sequence[int]


@dataclass(frozen=True)
class DecisionRule:
    """The threshold rule of ``evaluate.threshold`` on validation outcomes ``y_val``."""

    cfg: ThresholdConfig
    y_val: np.ndarray
    contact_value: np.ndarray

    def __call__(self, p_val: np.ndarray) -> float:
        return compare.choose_threshold(self.cfg, self.y_val, p_val, self.contact_value)


def original(network: Network, threshold: float) -> Served:
    """The original network as it was used: its first seed model, a fixed threshold, raw probabilities."""
    return Served("original", network.name, 1, "none", network.p_test[0], threshold, int(network.updates[0]))


def ladder(
    start: Served,
    network: Network,
    decide: DecisionRule,
    calibrations: Mapping[str, float],
) -> list[Served]:
    """From ``start`` (the original) to ``network`` as it could be served, one change per step: early
    stopping and the tuned optimizer (one seed), the seed ensemble, the threshold ``decide`` chooses on
    validation, and the calibration with the lowest cross-fitted validation log loss in ``calibrations``
    (kind -> loss, "none" left out; no step when empty), the threshold chosen again on its output."""
    mean_val, mean_test, total = network.p_val.mean(axis=0), network.p_test.mean(axis=0), int(sum(network.updates))
    k = len(network.updates)
    steps = [
        start,
        Served("+ early stopping and the best optimizer", network.name, 1, "none", network.p_test[0],
               start.threshold, int(network.updates[0])),
        Served("+ seed ensemble", network.name, k, "none", mean_test, start.threshold, total),
        Served("+ threshold chosen on validation", network.name, k, "none", mean_test, decide(mean_val), total),
    ]  # fmt: skip
    kinds = {kind: loss for kind, loss in calibrations.items() if kind != "none"}
    if kinds:
        kind = min(kinds, key=lambda c: (kinds[c], c))
        fitted = calibration.fit(cast(calibration.Kind, kind), decide.y_val, mean_val)
        threshold = decide(fitted.apply(mean_val))
        steps.append(Served("+ calibration", network.name, k, kind, fitted.apply(mean_test), threshold, total))
    return steps
