"""Does the report agree with itself? Checks on the rendered Markdown alone (no registry, no run).

Each check returns the problems it finds, as sentences; an empty list is a pass. They read what a reader
reads: a figure stated twice must be the same figure, parts must add up to the whole stated beside them,
and no table may show a difference that is zero only because it compares a model with itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.reporting.registry_check import NUMBER

Tables = dict[str, tuple[list[str], list[list[str]]]]  # id -> (header, rows)


def tables(report: str) -> Tables:
    """``<!-- table: id -->`` tables with their header row."""
    found = {}
    for match in re.finditer(r"<!-- table: (\w+) -->\n((?:\|.*\|\n?)+)", report):
        lines = match.group(2).strip().splitlines()
        cells = [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in lines]
        found[match.group(1)] = (cells[0], cells[2:])
    return found


def _number(cell: str) -> float:
    return float(NUMBER.findall(cell)[0].replace(",", ""))


def _column(table: tuple[list[str], list[list[str]]], title: str) -> list[float]:
    header, rows = table
    index = next(i for i, h in enumerate(header) if h.startswith(title))
    return [_number(r[index]) for r in rows]


def _prose(report: str) -> str:
    """The text outside tables, with line breaks as spaces."""
    return " ".join(line for line in report.splitlines() if not line.startswith("|"))


def _stated(report: str, pattern: str) -> list[float]:
    return [float(v.replace(",", "")) for v in re.findall(pattern, _prose(report))]


def contacts_add_up(report: str) -> list[str]:
    """Every stated plan size equals the plan table's contacts by segment, and the listed mix."""
    found = tables(report)
    if "campaign_plan" not in found:
        return ["no campaign_plan table"]
    total = sum(_column(found["campaign_plan"], "To contact"))
    problems = [
        f"the plan is stated as contacting {n:,.0f}, its segments add up to {total:,.0f}"
        for n in _stated(report, r"(?:plan contacts|contact|contacting) the ([\d,]+) (?:of|with|whose|customers)")
        if n != total
    ]
    mix = re.search(r"by\s+segment:\s+((?:[A-Z][\w ]+ [\d,]+(?:, )?)+)\.", _prose(report))
    if mix and sum(float(v.replace(",", "")) for v in re.findall(r"([\d,]+)", mix.group(1))) != total:
        problems.append(f"the plan's mix by segment ({mix.group(1)}) does not add up to {total:,.0f}")
    return problems


def stated_twice_agree(report: str) -> list[str]:
    """A count the report states more than once has one value: test customers, test churners."""
    problems = []
    for what, pattern in {
        "test customers": r"(?:of|on) (?:the |all )?([\d,]+) test customers",
        "test churners": r"(?:of the|split of) ([\d,]+) (?:test )?churners",
    }.items():
        values = set(_stated(report, pattern))
        if len(values) > 1:
            problems.append(f"{what} stated as {sorted(values)}")
    found = tables(report)
    if "before_after" in found and "→" in report:  # § 1's "metric before → after" against § 8's table
        rows = {r[0].lower(): r for r in found["before_after"][1]}
        for name, before, after in re.findall(r"([\w-]+(?: \w+)?) (\d\.\d{3}) → (\d\.\d{3})", _prose(report)):
            row = rows.get(name.lower())
            if row and (_number(row[1]), _number(row[2])) != (float(before), float(after)):
                problems.append(f"{name}: {before} → {after} in the text, {row[1]} / {row[2]} in the table")
    return problems


def totals_match_rows(report: str) -> list[str]:
    """Tables whose rows partition the test split add up to it; the plan's customers to whom it covers."""
    found = tables(report)
    test = next(_number(r[1]) for r in found["splits"][1] if r[0] == "test")
    base = sum(_number(r[1]) for r in found["splits"][1])
    churners = set(_stated(report, r"(?:of the|split of) ([\d,]+) (?:test )?churners"))
    problems = []
    segments = found["segments"]
    if sum(_column(segments, "Test customers")) != test:
        problems.append(
            f"segments: test customers add up to {sum(_column(segments, 'Test customers')):,.0f}, not {test:,.0f}"
        )
    if abs(sum(_column(segments, "Share")) - 100) > 0.05 * len(segments[1]) + 1e-9:
        problems.append(f"segments: shares add up to {sum(_column(segments, 'Share')):.1f} %")
    header, rows = found["errors"]
    for attribute in dict.fromkeys(r[0] for r in rows):
        part = (header, [r for r in rows if r[0] == attribute])
        if sum(_column(part, "Test customers")) != test:
            problems.append(f"errors: {attribute} adds up to {sum(_column(part, 'Test customers')):,.0f} customers")
        if churners and sum(_column(part, "Churners")) not in churners:
            problems.append(f"errors: {attribute} adds up to {sum(_column(part, 'Churners')):,.0f} churners")
    plan_header, _ = found["campaign_plan"]
    covered = test if any(h.startswith("Test customers") for h in plan_header) else base
    plan_customers = sum(_column(found["campaign_plan"], "Test customers" if covered == test else "Customers"))
    if plan_customers != covered:
        problems.append(f"campaign_plan: customers add up to {plan_customers:,.0f}, not {covered:,.0f}")
    return problems


def scaling_is_an_assumption(report: str) -> list[str]:
    """A test result scaled to the whole base says, in the same sentence or header, that it is an assumption."""
    texts = re.split(r"(?<=[.:])\s", _prose(report)) + [h for header, _ in tables(report).values() for h in header]
    return [f"scaled without saying it is an assumption: {s.strip()[:160]!r}" for s in texts
            if re.search(r"scaled to", s, re.I) and "assum" not in s]  # fmt: skip


COMPARED_ROWS = ("campaign_rules", "models_on_test", "after_vs_original", "ladder", "confirmation")  # a row per model


def no_model_against_itself(report: str) -> list[str]:
    """A model compared with itself, in any of three forms: a difference column that is zero in every
    row; two rows of a comparison that are the same numbers under two names; and a baseline column
    beside a champion column with the same cells."""
    problems = []
    for table_id, (header, rows) in tables(report).items():
        for i, title in enumerate(header):
            values = [float(v.replace(",", "")) for r in rows for v in NUMBER.findall(r[i])]
            compares = re.search(r"minus (?:the )?(?:baseline|before|original|champion)|lead over", title, re.I)
            if compares and values and all(v == 0 for v in values):
                problems.append(f"{table_id}: column '{title}' is zero in every row")
        if table_id in COMPARED_ROWS:
            bodies = [tuple(r[1:]) for r in rows]
            for body in {b for b in bodies if bodies.count(b) > 1}:
                problems.append(f"{table_id}: rows {[r[0] for r in rows if tuple(r[1:]) == body]} are the same numbers")
        champion = [i for i, h in enumerate(header) if re.search(r"champion", h, re.I)]
        baseline = [i for i, h in enumerate(header) if re.search(r"baseline", h, re.I) and i not in champion]
        for c in champion:
            twins = [
                b for b in baseline if _suffix(header[b]) == _suffix(header[c]) or len(champion) == 1 == len(baseline)
            ]
            problems += [f"{table_id}: '{header[b]}' and '{header[c]}' are the same column" for b in twins
                         if rows and [r[b] for r in rows] == [r[c] for r in rows]]  # fmt: skip
    return problems


def _suffix(title: str) -> str:
    """What a model's column measures: "Baseline FN" -> "fn"."""
    return re.sub(r"(?i)baseline|champion|[:()]", "", title).strip().lower()


CHECKS: dict[str, Callable[[str], list[str]]] = {
    "contacts_add_up": contacts_add_up,
    "stated_twice_agree": stated_twice_agree,
    "totals_match_rows": totals_match_rows,
    "no_model_against_itself": no_model_against_itself,
    "scaling_is_an_assumption": scaling_is_an_assumption,
}
