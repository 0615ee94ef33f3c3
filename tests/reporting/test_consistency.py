"""The committed report agrees with itself; the render before issue #23 (66c71bb) did not.

Fast: they read Markdown only. The committed docs/REPORT.md must pass every check; the saved copy of
66c71bb's render (tests/reporting/fixtures) must fail the checks it broke, and a tampered copy of it the
checks it happened to pass, so every check is seen to fail.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.reporting.consistency import CHECKS

COMMITTED = REPO / "docs" / "REPORT.md"
BEFORE_23 = Path(__file__).parent / "fixtures" / "report_66c71bb.md"


@pytest.mark.parametrize("check", CHECKS)
def test_the_committed_report_agrees_with_itself(check: str) -> None:
    assert CHECKS[check](COMMITTED.read_text()) == []


@pytest.mark.parametrize(
    ("check", "found"),
    [
        ("contacts_add_up", "stated as contacting 2,678, its segments add up to 2,677"),
        ("no_model_against_itself", "column 'Champion minus baseline' is zero in every row"),
        ("no_model_against_itself", "'Baseline FN' and 'Champion FN' are the same column"),
        ("no_model_against_itself", "rows ['churn probability', \"existing model's probability\"] are the same"),
        ("scaling_is_an_assumption", "100,030 scaled to the whole ba"),
    ],
)
def test_the_render_before_issue_23_fails(check: str, found: str) -> None:
    problems = CHECKS[check](BEFORE_23.read_text())
    assert any(found in p for p in problems), problems


@pytest.mark.parametrize(
    ("check", "old", "new", "found"),
    [
        ("stated_twice_agree", "one test split of 374 churners", "one test split of 375 churners", "test churners"),
        ("stated_twice_agree", "contacts\n538 of 1,409 test customers", "contacts\n538 of 1,410 test customers",
         "test customers"),
        ("totals_match_rows", "| Retain now | 255 | 18.1 |", "| Retain now | 256 | 18.1 |",
         "segments: test customers add up to 1,410"),
        ("totals_match_rows", "| Contract | Two year | 336 | 9 |", "| Contract | Two year | 336 | 10 |",
         "errors: Contract adds up to 375 churners"),
    ],
)  # fmt: skip
def test_the_checks_it_passed_catch_a_tampered_figure(check: str, old: str, new: str, found: str) -> None:
    text = BEFORE_23.read_text()
    assert CHECKS[check](text) == [], "the control passes untouched"
    assert text.count(old) == 1
    problems = CHECKS[check](text.replace(old, new))
    assert any(found in p for p in problems), problems


def test_the_summary_states_the_champion_as_the_before_after_table_does() -> None:
    """§ 1's "metric before → after" figures are the table's; a changed one is caught."""
    text = COMMITTED.read_text()
    pair = re.search(r"recall (\d\.\d{3}) → (\d\.\d{3})", text)
    assert pair is not None, "the committed report has no 'recall before → after' in its summary"
    tampered = text.replace(pair.group(0), f"recall {pair.group(1)} → 0.999", 1)
    assert any("recall" in p for p in CHECKS["stated_twice_agree"](tampered))


README = REPO / "README.md"
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def readme_answer_numbers(readme: str) -> list[str]:
    """The numbers the README's answer block states (between its answer markers)."""
    block = readme.split("<!-- answer:", 1)[1].split("<!-- /answer -->", 1)[0]
    block = block.split("-->", 1)[1]  # past the marker's own comment
    return NUMBER.findall(re.sub(r"§ \d+(\.\d+)?", "", block))


def numbers_missing_from(report: str, numbers: list[str]) -> list[str]:
    return [n for n in numbers if not re.search(rf"(?<![\d.,]){re.escape(n)}(?![\d]|\.\d|,\d)", report)]


def test_the_readme_s_answer_states_only_numbers_of_the_report() -> None:
    numbers = readme_answer_numbers(README.read_text())
    assert numbers, "the README's answer states no number"
    assert numbers_missing_from(COMMITTED.read_text(), numbers) == []


def test_a_readme_number_the_report_does_not_state_is_caught() -> None:
    """The control: a figure typed into the answer that the report does not contain is named."""
    assert numbers_missing_from("recall 0.529 to 0.786", ["0.529", "0.787", "0.78"]) == ["0.787", "0.78"]
