"""How the report writes a number: one definition, for tables (``tables``) and prose (registered as Jinja
filters by ``rendering``) alike."""

from __future__ import annotations

import math
from typing import Protocol

from pipeline.reporting.claims import Verdict


class Estimated(Protocol):
    """A difference with its interval."""

    @property
    def value(self) -> float: ...

    @property
    def low(self) -> float: ...

    @property
    def high(self) -> float: ...


def num(value: float | None, digits: int = 3) -> str:
    """Fixed decimals, ``n/a`` for a missing value."""
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def fixed(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def n3(value: float) -> str:
    return fixed(value, 3)


def n4(value: float) -> str:
    return fixed(value, 4)


def general(value: float) -> str:
    """``%g``: 0.5, 1e-05, 12."""
    return f"{value:g}"


def signed(value: float, digits: int = 4) -> str:
    return f"{value:+.{digits}f}"


def interval(value: float, low: float, high: float, digits: int = 3) -> str:
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def signed_interval(value: float, low: float, high: float, digits: int = 4) -> str:
    return f"{value:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def ci(estimate: Estimated, digits: int = 4) -> str:
    """A difference with its interval: ``+0.0123 [+0.0040, +0.0210]``."""
    return signed_interval(estimate.value, estimate.low, estimate.high, digits)


def pct(rate: float, digits: int = 1) -> str:
    """A rate as a percentage, without the sign (a table's column says "(%)")."""
    return f"{100 * rate:.{digits}f}"


def percent(rate: float, digits: int = 1) -> str:
    """A rate as a percentage in prose: ``12.5 %``."""
    return f"{pct(rate, digits)} %"


def count(value: float) -> str:
    """A count or an amount: ``12,345``."""
    return f"{value:,.0f}"


def signed_count(value: float) -> str:
    return f"{value:+,.0f}"


def p_value(p: float | None) -> str:
    """A p-value to three significant digits (``1`` when Holm's adjustment caps it)."""
    return "n/a" if p is None or math.isnan(p) else f"{p:.3g}"


def in_prose(metric_label: str) -> str:
    """A metric's label inside a sentence: "accuracy", "macro-F1", but "ROC-AUC", "F1", "Brier score"."""
    if metric_label.startswith("Brier") or not metric_label[1:2].islower():
        return metric_label
    return metric_label[0].lower() + metric_label[1:]


def worded(
    verdict: Verdict,
    better: str = "better",
    worse: str = "worse",
    same: str = "not measurably different",
) -> str:
    """A judged difference in the words its sentence uses for each verdict."""
    return {"better": better, "worse": worse, "within noise": same}[verdict]


FILTERS = {
    "n3": n3,
    "n4": n4,
    "fixed": fixed,
    "general": general,
    "signed": signed,
    "signed_count": signed_count,
    "ci": ci,
    "pct": percent,
    "count": count,
    "p_value": p_value,
    "in_prose": in_prose,
    "worded": worded,
}
