"""The before/after facts and the executive summary's claims, as typed values built by pure functions.

A claim the summary makes about the served model is decided here from the numbers (the template only
words the decision), so a claim appears only when its condition holds in this run. One function,
``judge``, says whether an interval of a difference means better, worse or within noise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict

from pipeline.metric_registry import VERSUS_ORIGINAL, label, lower_is_better

Verdict = Literal["better", "worse", "within noise"]


class Interval(Protocol):
    """A difference's interval: anything with a ``low`` and a ``high``."""

    @property
    def low(self) -> float: ...

    @property
    def high(self) -> float: ...


@dataclass(frozen=True)
class Bounds:
    low: float
    high: float


def judge(interval: Interval, lower_is_better: bool) -> Verdict:
    """What a difference's interval says: better or worse when it excludes zero, else within noise.
    ``lower_is_better`` is the metric's direction. The one place the report decides "better"."""
    if interval.low > 0:
        moved = "up"
    elif interval.high < 0:
        moved = "down"
    else:  # contains zero (or is not a number)
        return "within noise"
    return "better" if (moved == "down") == lower_is_better else "worse"


@dataclass(frozen=True)
class Change:
    """One metric, before and after, with the paired difference and what it means."""

    key: str
    label: str
    before: float
    after: float
    diff: float
    low: float
    high: float

    @property
    def verdict(self) -> Verdict:
        return judge(self, lower_is_better(self.key))

    @property
    def value(self) -> float:
        """The difference (after minus before), as every interval the report prints names it."""
        return self.diff

    @property
    def direction(self) -> str:
        """``rises``, ``falls`` or ``does not move measurably``: the number's direction, not its merit."""
        if self.verdict == "within noise":
            return "does not move measurably"
        return "rises" if self.diff > 0 else "falls"


class Estimate(TypedDict):
    """A metric on test, or a paired difference, with its 95 % bootstrap interval."""

    value: float
    low: float
    high: float


class Scored(TypedDict):
    """A network as scored in the evaluate run's ``before_after.json``: the original as used, a served
    network, or a rung of the ladder (``versus``: its change from the original, or the rung before)."""

    label: str
    network: str
    seeds: int
    calibration: str
    threshold: float
    updates: int
    test: dict[str, Estimate]
    versus: dict[str, Estimate]  # empty for the original


class Assessed(TypedDict):
    """The evaluate run's ``before_after.json``."""

    original: Scored
    after: dict[str, Scored]  # every served network
    ladder: list[Scored]


def changes(before: Mapping[str, Estimate], after: Scored) -> dict[str, Change]:
    """Per metric of ``VERSUS_ORIGINAL``: ``before``'s test value, ``after``'s and ``after["versus"]``."""
    test, versus = after["test"], after["versus"]
    out = {}
    for m in VERSUS_ORIGINAL:
        v = versus[m]
        out[m] = Change(m, label(m), before[m]["value"], test[m]["value"], v["value"], v["low"], v["high"])
    return out


@dataclass(frozen=True)
class Step:
    """One rung of the ladder: what is served, what it costs, and its change from the rung before."""

    label: str
    network: str
    seeds: int
    threshold: float
    calibration: str
    updates: int
    test: dict[str, float]
    changes: dict[str, Change]  # empty for the first rung


@dataclass(frozen=True)
class BeforeAfter:
    """The original network as used against every served network, and the ladder between them."""

    original_threshold: float
    original_updates: int
    champion: str
    champion_changes: dict[str, Change]
    networks: dict[str, dict[str, Change]]  # every served network (the champion too) minus the original
    ladder: list[Step]

    def count(self, key: str, verdict: Verdict) -> list[str]:
        """The served networks whose ``key`` is judged ``verdict`` against the original."""
        return [n for n, by_metric in self.networks.items() if by_metric[key].verdict == verdict]


def before_after(assessed: Assessed, champion: str) -> BeforeAfter:
    """From the evaluate run's ``before_after.json``."""
    original = assessed["original"]
    networks = {name: changes(original["test"], scored) for name, scored in assessed["after"].items()}
    steps: list[Step] = []
    previous = original["test"]
    for step in assessed["ladder"]:
        moved = changes(previous, step) if step["versus"] else {}
        test = {m: step["test"][m]["value"] for m in VERSUS_ORIGINAL}
        steps.append(Step(step["label"], step["network"], step["seeds"], step["threshold"], step["calibration"],
                          step["updates"], test, moved))  # fmt: skip
        previous = step["test"]
    return BeforeAfter(original["threshold"], original["updates"], champion, networks[champion], networks, steps)


@dataclass(frozen=True)
class Training:
    """How the served champion trains, and how the tuned optimizers do."""

    early_stopping: bool
    max_epochs: int
    best_epoch: float  # mean over the champion's seeds
    tuned_epochs: tuple[float, float]  # the tuned optimizers' mean best epochs, lowest and highest


@dataclass(frozen=True)
class Summary:
    """What § 1 claims changed for the served model, each decided from this run's numbers."""

    before_after: BeforeAfter
    training: Training
    calibration: str  # the champion's kept calibration, "none" if neither lowered validation log loss
    ece: float  # the champion's bias-corrected test ECE
    threshold: float  # the champion's threshold, chosen on validation

    @property
    def threshold_moved(self) -> bool:
        return round(self.threshold, 3) != round(self.before_after.original_threshold, 3)

    def costs(self) -> list[Change]:
        """The champion's threshold metrics that are measurably worse than the original's."""
        ba = self.before_after.champion_changes
        return [ba[k] for k in ("precision", "accuracy", "f1", "macro_f1") if ba[k].verdict == "worse"]
