"""The report's Jinja environment: templates from this package, Python formatters as filters (one
definition of how a number is written, for tables and prose alike)."""

from __future__ import annotations

import jinja2

from pipeline.reporting.claims import Change


def n3(value: float) -> str:
    return f"{value:.3f}"


def n4(value: float) -> str:
    return f"{value:.4f}"


def pct(rate: float) -> str:
    return f"{100 * rate:.1f} %"


def count(value: float) -> str:
    return f"{value:,.0f}"


def ci(change: Change, digits: int = 4) -> str:
    """A paired difference with its interval: ``+0.0123 [+0.0040, +0.0210]``."""
    return f"{change.diff:+.{digits}f} [{change.low:+.{digits}f}, {change.high:+.{digits}f}]"


def in_prose(metric_label: str) -> str:
    """A metric's label inside a sentence: "accuracy", "macro-F1", but "ROC-AUC", "F1", "Brier score"."""
    if metric_label.startswith("Brier") or not metric_label[1:2].islower():
        return metric_label
    return metric_label[0].lower() + metric_label[1:]


FILTERS = {"n3": n3, "n4": n4, "pct": pct, "count": count, "ci": ci, "in_prose": in_prose}


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pipeline.reporting", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env
