"""Draft a data contract from a CSV: a schema a person reviews rather than types.

Each column's kind is guessed from its cells alone, and the evidence is written beside it as a
YAML comment (distinct values, the share that parses as numbers or dates, blanks), so a reviewer
sees why. A guess that could well be wrong carries a ``# review:`` comment; ``docs/ADAPT.md``
lists what each one asks. The text is emitted here (every string a JSON-quoted YAML scalar)
and loaded back into :class:`DataSchema` before anyone sees it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd
import yaml

from pipeline.data.contract import DataContractError, Violation
from pipeline.data.schema import ROW, DataSchema

DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y")
CODE_LEVELS = 10  # whole numbers with at most this many distinct values are drafted as codes (categories)
MANY_LEVELS = 30  # a categorical column with more levels gets a review note
FREE_TEXT = 0.5  # text with more distinct values than this share of its cells is left out as free text
MARGIN = 0.1  # numeric ranges: the observed span widened by this share on each side
MISSING = "(missing)"
FLAGS = ({"0", "1"}, {"true", "false"}, {"t", "f"})  # two values drafted as binary (one 0/1 input)
POSITIVE_WORDS = {"yes", "y", "true", "t", "1", "churn", "churned", "left", "lost", "cancelled", "canceled", "exited"}


@dataclass(frozen=True)
class Entry:
    """One line (or block) of the draft: the column, its YAML value, the evidence and any review note."""

    name: str
    value: str
    evidence: str
    review: str | None = None


@dataclass
class Draft:
    """The columns sorted into the schema's sections, in file order within each."""

    id_column: Entry | None = None
    target: list[str] = field(default_factory=list)
    sections: dict[str, list[Entry]] = field(
        default_factory=lambda: {
            k: [] for k in ("numeric", "binary", "dates", "categorical", "missing_level", "ignore")
        }
    )


@dataclass(frozen=True)
class Cells:
    """A column's non-blank cells (trimmed text) and how many were blank."""

    name: str
    values: pd.Series
    blanks: int

    @classmethod
    def of(cls, name: str, column: pd.Series) -> Cells:
        text = column.fillna("").astype(str).str.strip()
        return cls(name, text[text != ""], int((text == "").sum()))

    @property
    def rows(self) -> int:
        return len(self.values) + self.blanks

    def evidence(self, extra: str = "") -> str:
        blanks = f"; {self.blanks:,} blank ({self.blanks / self.rows:.1%})" if self.blanks else ""
        return f"{self.values.nunique():,} distinct in {self.rows:,} rows{blanks}{extra}"


def draft(frame: pd.DataFrame, target: str, source: str) -> str:
    """The reviewed-to-be schema of a CSV read as text cells; refuses a missing or one-class target."""
    if target not in frame.columns:
        rule = f"no target column {target!r}; the columns are {list(map(str, frame.columns))}"
        raise DataContractError(source, [Violation("line 1", rule)])
    result = Draft(target=_target(Cells.of(target, frame[target]), source))
    for name in frame.columns:
        if name != target:
            _place(result, Cells.of(str(name), frame[name]))
    text = render(result, source, frame.shape)
    DataSchema.model_validate(yaml.safe_load(text))  # the draft is a schema prepare can load
    return text


def _target(cells: Cells, source: str) -> list[str]:
    """The target's lines: a known positive word (yes, true, 1, churned...) or else the rarer class."""
    counts = cells.values.value_counts()
    if len(counts) != 2:
        shown = ", ".join(f"{v!r} ({n:,})" for v, n in counts.head(5).items())
        rule = "has one class" if len(counts) == 1 else f"has {len(counts)} classes"
        rule = f"target {rule} ({shown or 'all blank'}): a churn target needs exactly two"
        raise DataContractError(source, [Violation(f"column {cells.name!r}", rule)])
    known = [v for v in counts.index if v.lower() in POSITIVE_WORDS]
    positive = known[0] if len(known) == 1 else str(counts.index[-1])
    negative = next(v for v in counts.index if v != positive)
    lines = [f"column: {_q(cells.name)}  # " + ", ".join(f"{_q(v)} {n:,}" for v, n in counts.items())]
    if len(known) != 1:
        lines.append(f"# review: positive is the rarer label {_q(positive)}; is it the one meaning churned?")
    if cells.blanks:
        lines.append(f"# review: {cells.blanks:,} rows have no target; prepare refuses them: remove those rows")
    return [*lines, f"positive: {_q(positive)}", f"negative: {_q(negative)}"]


def _place(result: Draft, cells: Cells) -> None:
    """Sort one column into its section, first rule that fits: constant, date, identifier, flag (0/1,
    true/false: binary), number or code, free text, category. Two words such as Yes/No stay a
    two-level category: a persona or error-analysis column must be categorical."""
    values, distinct = cells.values, cells.values.nunique()
    numbers = pd.to_numeric(values, errors="coerce")
    parsed = float(numbers.notna().mean()) if len(values) else 0.0
    sections = result.sections
    if distinct <= 1:
        what = f"one value only ({values.iloc[0]!r})" if distinct else "all blank"
        sections["ignore"].append(Entry(cells.name, "", f"{what}: carries no information"))
    elif parsed < 1 and (when := _date_format(values)) is not None:
        _date(sections, cells, when)
    elif distinct == cells.rows and (parsed < 1 or _whole(numbers)):
        _identifier(result, cells, parsed)
    elif distinct == 2 and not cells.blanks and set(values.str.lower().unique()) in FLAGS:
        sections["binary"].append(_binary(cells))
    elif parsed == 1 and _whole(numbers) and distinct <= CODE_LEVELS:
        review = f"whole numbers with {distinct} values, drafted as codes (categories); numeric if their order counts"
        _categorical(sections, cells, sorted(values.unique(), key=float), review)
    elif parsed == 1:
        sections["numeric"].append(_numeric(cells, numbers))
    elif distinct > FREE_TEXT * len(values) and distinct > MANY_LEVELS:
        note = f"{distinct:,} distinct texts in {len(values):,} cells: free text or a near-identifier, left out"
        sections["ignore"].append(Entry(cells.name, "", cells.evidence(f"; {parsed:.0%} numbers"), f"review: {note}"))
    else:
        review = f"{distinct} levels, one model input each; group rare ones upstream if needed"
        _categorical(sections, cells, sorted(values.unique()), review if distinct > MANY_LEVELS else None)


def _date_format(values: pd.Series) -> str | None:
    """The first format every cell parses with, if any."""
    for fmt in DATE_FORMATS:
        if pd.to_datetime(values, format=fmt, errors="coerce").notna().all():
            return fmt
    return None


def _date(sections: dict[str, list[Entry]], cells: Cells, fmt: str) -> None:
    latest = max(datetime.strptime(v, fmt).date() for v in cells.values)
    evidence = cells.evidence(f"; 100% parse as {fmt}")
    if cells.blanks:
        note = "a date with blanks cannot become an age: left out; fill the blanks to use it"
        sections["ignore"].append(Entry(cells.name, "", evidence, f"review: {note}"))
        return
    review = f"the age in days at {latest} (the latest date in the data); set the reference to the data's as-of date"
    value = f"{{format: {_q(fmt)}, reference: {latest.isoformat()}}}"
    sections["dates"].append(Entry(cells.name, value, evidence, f"review: {review}"))


def _identifier(result: Draft, cells: Cells, parsed: float) -> None:
    evidence = cells.evidence(f"; {parsed:.0%} numbers: an identifier, left out of the features")
    if result.id_column is None and cells.name != ROW:
        review = "review: whole numbers all distinct: an id, or a count?" if parsed == 1 else None
        result.id_column = Entry(cells.name, _q(cells.name), evidence, review)
    else:
        result.sections["ignore"].append(Entry(cells.name, "", evidence, "review: all distinct: another identifier?"))


def _binary(cells: Cells) -> Entry:
    counts = cells.values.value_counts()
    levels = sorted(counts.index, key=lambda v: (v.lower() in POSITIVE_WORDS, v))
    shown = ", ".join(f"{_q(v)} {counts[v]:,}" for v in levels)
    value = f"{{positive: {_q(levels[1])}, negative: {_q(levels[0])}}}"
    return Entry(cells.name, value, f"two values: {shown}; one input, 1.0 for {_q(levels[1])}")


def _categorical(sections: dict[str, list[Entry]], cells: Cells, levels: Sequence[str], review: str | None) -> None:
    counts = cells.values.value_counts()
    lines = [f"- {_q(level)}  # {counts[level]:,}" for level in levels]
    if cells.blanks:
        missing = MISSING if MISSING not in levels else f"{MISSING} "
        lines.append(f"- {_q(missing)}  # {cells.blanks:,} blank")
        note = f"{cells.blanks:,} blanks become the level {missing!r}, an input of its own"
        sections["missing_level"].append(Entry(cells.name, _q(missing), note))
    sections["categorical"].append(
        Entry(cells.name, "\n".join(lines), cells.evidence(), review and f"review: {review}")
    )


def _numeric(cells: Cells, numbers: pd.Series) -> Entry:
    """Observed range widened by ``MARGIN`` of the span each side (not below 0 when the data is not);
    blanks filled with the median, a guess to review."""
    low, high = float(numbers.min()), float(numbers.max())
    whole = _whole(numbers)
    margin = MARGIN * (high - low)
    lo = max(low - margin, 0.0) if low >= 0 else low - margin
    hi = high + margin
    lo, hi = (math.floor(lo), math.ceil(hi)) if whole else (_round(lo, math.floor), _round(hi, math.ceil))
    spec = f"min: {_n(lo)}, max: {_n(hi)}" + (", integer: true" if whole else "")
    evidence = cells.evidence(f"; 100% numbers, {_n(low)} to {_n(high)}; range +-{MARGIN:.0%} of the span")
    review = None
    if cells.blanks:
        median = float(numbers.median())
        spec += f", blank_fill: {_n(median)}"
        review = (f"review: blanks filled with the median {_n(median)}; if a blank means something "
                  "(e.g. never billed), say when with blank_allowed_when and the value it stands for")  # fmt: skip
    return Entry(cells.name, f"{{{spec}}}", evidence, review)


def render(result: Draft, source: str, shape: tuple[int, int]) -> str:
    """The schema as commented YAML."""
    head = [
        f"# Draft data contract for {source} ({shape[0]:,} rows, {shape[1]} columns), written by",
        "# `python -m pipeline schema draft`. Read every `# review:` note (docs/ADAPT.md), decide, delete it.",
        "# Each column's comment is the evidence: distinct values, blanks, the share that parses as numbers.",
    ]
    if result.id_column is None:
        head.append(f"id_column: null  # no column is distinct in every row: customers are named by {ROW!r}")
    else:
        head += _entry_lines(result.id_column, "id_column:", "")
    head += ["target:", *(f"  {line}" for line in result.target)]
    for section, entries in result.sections.items():
        if not entries:
            head.append(f"{section}: {'[]' if section == 'ignore' else '{}'}")
            continue
        head.append(f"{section}:")
        for entry in entries:
            prefix = f"  - {_q(entry.name)}" if section == "ignore" else f"  {_q(entry.name)}:"
            head += _entry_lines(entry, prefix, "  ")
    return "\n".join(head) + "\n"


def _entry_lines(entry: Entry, prefix: str, indent: str) -> list[str]:
    lines = [f"{indent}# {entry.name}: {entry.evidence}"]
    if entry.review:
        lines.append(f"{indent}# {entry.review}")
    if "\n" in entry.value:  # a block list, one level per line
        return [*lines, prefix, *(f"{indent}  {line}" for line in entry.value.split("\n"))]
    return [*lines, f"{prefix} {entry.value}".rstrip() if entry.value else prefix]


def _whole(numbers: pd.Series) -> bool:
    finite = numbers.dropna()
    return bool(len(finite)) and bool((finite == finite.round()).all())


def _round(value: float, direction: Callable[[float], int]) -> float:
    """Outward to two significant decimals of the value's magnitude, so the data stays inside."""
    scale = 10 ** (math.floor(math.log10(abs(value))) - 2) if value else 1.0
    return direction(round(value / scale, 9)) * scale


def _n(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def _q(text: object) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(str(text), ensure_ascii=False)
