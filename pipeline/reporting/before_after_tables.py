"""The brief's before/after tables: the original network as it was used against every served network,
and the ladder between them. Each table is a list of ``Column``s over a row source, from the evaluate
run's ``before_after.json`` as ``claims.before_after`` reads it."""

from __future__ import annotations

from pipeline.metric_registry import VERSUS_ORIGINAL, label
from pipeline.reporting import claims
from pipeline.reporting.claims import Estimate
from pipeline.reporting.evidence import Evidence
from pipeline.reporting.formats import interval, num, signed_interval
from pipeline.reporting.tables import Column, Table, model_label, table


def _estimate(e: Estimate, digits: int = 3) -> str:
    return interval(e["value"], e["low"], e["high"], digits)


def _difference(e: Estimate, digits: int = 3) -> str:
    return signed_interval(e["value"], e["low"], e["high"], digits)


def before_after(evidence: Evidence) -> Table:
    """Per metric: the original as used, the served champion, and the paired difference."""
    assessed, champion = evidence.before_after, evidence.champion
    original, after = assessed["original"]["test"], assessed["after"][champion]
    threshold = assessed["original"]["threshold"]
    columns: list[Column[str]] = [
        Column("Test metric", label),
        Column(f"Before: the original network (one seed, threshold {threshold:g}, raw) [95 % CI]",
               lambda m: _estimate(original[m])),
        Column(f"After: the champion, {champion} [95 % CI]", lambda m: _estimate(after["test"][m])),
        Column("After minus before [paired 95 % CI]", lambda m: _difference(after["versus"][m], 4)),
    ]  # fmt: skip
    return table("before_after", columns, VERSUS_ORIGINAL)


def after_vs_original(evidence: Evidence) -> Table:
    """Every served network (the champion, each tuned optimizer, the search) minus the original."""
    after = evidence.before_after["after"]

    def minus_before(m: str) -> Column[str]:
        return Column(f"{label(m)} minus before", lambda n: _difference(after[n]["versus"][m]))

    columns: list[Column[str]] = [
        Column("Served network", lambda n: model_label(evidence, n)),
        Column("Threshold", lambda n: num(after[n]["threshold"])),
        Column("Calibration", lambda n: after[n]["calibration"]),
        *(minus_before(m) for m in VERSUS_ORIGINAL),
    ]
    return table("after_vs_original", columns, after)


def ladder(evidence: Evidence) -> Table:
    """Each rung: what is served, its cost in parameter updates, each metric and its change from the rung before."""
    steps = claims.before_after(evidence.before_after, evidence.champion).ladder

    def cell(step: claims.Step, m: str) -> str:
        if not step.changes:
            return num(step.test[m])
        c = step.changes[m]
        return f"{num(step.test[m])}; {signed_interval(c.diff, c.low, c.high, 3)}"

    def metric(m: str) -> Column[claims.Step]:
        return Column(label(m), lambda s: cell(s, m))

    columns: list[Column[claims.Step]] = [
        Column("Step", lambda s: s.label),
        Column("Network", lambda s: s.network),
        Column("Seeds", lambda s: str(s.seeds)),
        Column("Threshold", lambda s: num(s.threshold)),
        Column("Calibration", lambda s: s.calibration),
        Column("Parameter updates", lambda s: f"{s.updates:,}"),
        *(metric(m) for m in VERSUS_ORIGINAL),
    ]
    return table("ladder", columns, steps)
