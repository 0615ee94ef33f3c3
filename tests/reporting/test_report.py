"""The report stage on the trained synthetic project: every table number equals the registry's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.config import Params
from pipeline.reporting.evidence import EvidenceError
from tests.conftest import REPO
from tests.reporting.registry_check import check_report, read_tables

pytestmark = pytest.mark.slow
REQUIRED_REFERENCES = [
    "Kingma & Ba, 2015",
    "Tieleman & Hinton, 2012",
    "Duchi et al., 2011",
    "Sutskever et al., 2013",
    "Dozat, 2016",
    "Loshchilov & Hutter, 2019",
    "Akiba et al., 2019",
    "Bergstra et al., 2011",
    "Ioffe & Szegedy, 2015",
    "Srivastava et al., 2014",
    "Lundberg & Lee, 2017",
    "Wilson et al., 2017",
    "Choi et al., 2019",
    "Schmidt et al., 2021",
    "Chawla et al., 2002",
    "Goodfellow et al., 2016",
    "Zaharia et al., 2018",
    "Dietterich, 1998",
    "Nadeau & Bengio, 2003",
    "Bouckaert & Frank, 2004",
    "Holm, 1979",
    "Efron & Tibshirani, 1993",
    "Lin et al., 2017",
]
NEW_TABLES = ("gate", "resampled", "resampled_verdicts", "recipes", "recipes_vs_tuned", "confirmation", "ensemble")


def test_every_table_number_equals_the_registry(in_pipeline_project: Path) -> None:
    """check_report asserts every table, row and column title itself: its count is no measure of coverage."""
    params = Params.load()
    check_report(params.report.document, params.tracking.registered_model, params.report.profile_columns)


def test_cells_are_matched_by_column_title(in_pipeline_project: Path, tmp_path: Path) -> None:
    """Two titles swapped over their cells: every number is still in its row, but under the wrong title."""
    params = Params.load()
    text = params.report.document.read_text()
    header = "| Model | Val. log loss, raw | Platt | Isotonic |"
    assert header in text
    tampered = tmp_path / "REPORT.md"
    tampered.write_text(text.replace(header, "| Model | Val. log loss, raw | Isotonic | Platt |"))
    with pytest.raises(AssertionError, match=r"^calibration/.*\[(Platt|Isotonic)\]$"):
        check_report(tampered, params.tracking.registered_model, params.report.profile_columns)


@pytest.mark.parametrize("table", ["resampled", "recipes_vs_tuned", "confirmation", "ensemble"])
def test_a_tampered_resampled_or_ensemble_number_is_caught(
    table: str, in_pipeline_project: Path, tmp_path: Path
) -> None:
    """The new tables are checked against the resample run and the evaluate run's ensemble artifact too."""
    params = Params.load()
    text = params.report.document.read_text()
    start = text.index(f"<!-- table: {table} -->")
    row = re.compile(r"\| (-?\d\.\d{4}) ").search(text, start)  # the first four-decimal number of the table
    assert row is not None
    wrong = f"{float(row.group(1)) + 0.001:.4f}"
    tampered = tmp_path / "REPORT.md"
    tampered.write_text(text[: row.start(1)] + wrong + text[row.end(1) :])
    with pytest.raises(AssertionError, match=rf"^{table}/"):
        check_report(tampered, params.tracking.registered_model, params.report.profile_columns)


def test_the_report_agrees_with_itself(in_pipeline_project: Path) -> None:
    """The consistency checks of tests/reporting/consistency.py on the synthetic project's report, and the
    brief's before/after (original as used against every served network) and the ladder in § 8."""
    from tests.reporting.consistency import CHECKS

    text = Params.load().report.document.read_text()
    assert {name: check(text) for name, check in CHECKS.items()} == {name: [] for name in CHECKS}
    section = text[text.index("## 8. Results before and after") : text.index("### 8.1")]
    assert {"before_after", "after_vs_original", "ladder"} <= set(read_tables(section))


@pytest.mark.parametrize("table", ["before_after", "after_vs_original", "ladder"])
def test_a_tampered_before_after_number_is_caught(table: str, in_pipeline_project: Path, tmp_path: Path) -> None:
    """The brief's before/after and the ladder are re-read from the evaluate run's metrics and its models' runs."""
    params = Params.load()
    text = params.report.document.read_text()
    rule = text.index("|---", text.index(f"<!-- table: {table} -->"))
    row_start = text.index("\n", rule) + 1
    row = text[row_start : text.index("\n", row_start)]
    number = list(re.finditer(r"(\d\.\d{3,4})\b", row))[-1]  # the last number of the first row: a metric
    start, end = row_start + number.start(1), row_start + number.end(1)
    digits = len(number.group(1)) - 2
    wrong = f"{float(number.group(1)) + 3 * 10**-digits:.{digits}f}"
    tampered = tmp_path / "REPORT.md"
    tampered.write_text(text[:start] + wrong + text[end:])
    with pytest.raises(AssertionError, match=rf"^{table}/"):
        check_report(tampered, params.tracking.registered_model, params.report.profile_columns)


def test_a_changed_gate_reason_is_caught(in_pipeline_project: Path, tmp_path: Path) -> None:
    params = Params.load()
    text = params.report.document.read_text()
    tampered = tmp_path / "REPORT.md"
    tampered.write_text(text.replace("stays champion", "remains champion").replace("is champion:", "wins:"))
    with pytest.raises(AssertionError, match="gate's reason"):
        check_report(tampered, params.tracking.registered_model, params.report.profile_columns)


def test_the_report_leads_with_the_resampled_answer(in_pipeline_project: Path) -> None:
    """The executive summary first, the resampled comparison (the decision) before the test split (the
    confirmation); the gate's reason, as the resample run recorded it, in both. (Which sentences a decision
    produces is tested on hand-built facts in test_facts.py.)"""
    from mlflow.tracking import MlflowClient

    from tests.reporting.registry_check import resample_run

    params = Params.load()
    text = params.report.document.read_text()
    headings = [m.group(1) for m in re.finditer(r"^#+ (?:[\d.]+ )?(.+)$", text, re.M)]
    assert headings[1] == "Executive summary", headings
    resampled = headings.index("The resampled comparison: which candidates beat the baseline")
    assert resampled == 2, "the resampled comparison comes right after the executive summary"
    assert resampled < headings.index("Test: the final confirmation")
    assert headings.index("The briefs' recipes") < headings.index("Test: the final confirmation")
    summary = text[text.index("## 1. Executive summary") : text.index("## 2.")]
    assert summary.index("On resampled development data") < summary.index("The test split, read once")
    run = resample_run(MlflowClient(), params.tracking.registered_model)
    reason = run.data.tags["gate_reason"]
    assert text.count(f"*{reason}*") == 2, "the gate's reason, in the summary and in its section"
    assert set(NEW_TABLES) <= set(read_tables(text))


def test_a_tampered_number_is_caught(in_pipeline_project: Path, tmp_path: Path) -> None:
    params = Params.load()
    text = params.report.document.read_text()
    row = re.search(r"\| ROC-AUC \| (\d\.\d{3})", text)
    assert row is not None
    wrong = f"{float(row.group(1)) + 0.001:.3f}"
    tampered = tmp_path / "REPORT.md"
    tampered.write_text(text[: row.start(1)] + wrong + text[row.end(1) :])
    with pytest.raises(AssertionError, match=r"/ROC-AUC: \d"):
        check_report(tampered, params.tracking.registered_model, params.report.profile_columns)


def test_images_exist_and_diagrams_name_their_source(in_pipeline_project: Path) -> None:
    document = Params.load().report.document
    text = document.read_text()
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    for image in images:
        assert (document.parent / image).is_file(), image
    written = {p.relative_to(document.parent).as_posix() for p in (document.parent / "figures").rglob("*.png")}
    assert written == set(images), "figures written but not shown, or shown but not written"
    diagrams = [i for i in images if "/diagrams/" in i]
    assert len(diagrams) == 6
    for image in diagrams:
        source = f"drawio/{Path(image).stem}.drawio"
        assert f"Diagram source: `{source}`" in text
        assert (in_pipeline_project / source).is_file()


def test_sections_the_reader_needs(in_pipeline_project: Path) -> None:
    text = Params.load().report.document.read_text()
    for heading in (
        "Executive summary",
        "The resampled comparison: which candidates beat the baseline",
        "The briefs' recipes",
        "Test: the final confirmation",
        "One model, or the average of its seeds",
        "The customer base",
        "The original model: strengths and weaknesses",
        "The optimization algorithms, and why these",
        "What was changed, and the challenges met",
        "Results before and after",
        "Calibration",
        "Segmentation and its impact on campaigns",
        "Reflection",
        "Limitations",
        "Recommendations",
        "References",
    ):
        assert re.search(rf"^#+ .*{re.escape(heading)}", text, re.M), heading
    assert "{{" not in text and "{%" not in text


@pytest.mark.parametrize("document", ["report", "documentation"])
def test_citations_and_references_match(document: str, in_pipeline_project: Path) -> None:
    path = Params.load().report.document if document == "report" else REPO / "docs" / "DOCUMENTATION.md"
    body, _, references = path.read_text().partition("## References")
    entries = [e for e in references.strip().split("\n\n") if e.strip()]
    keys = {_entry_key(e) for e in entries}
    cited = _citations(body)
    assert cited, "no citations"
    assert cited <= keys, f"cited without an entry: {cited - keys}"
    assert keys <= cited, f"listed but never cited: {keys - cited}"
    assert entries == sorted(entries, key=str.lower), "references are not in alphabetical order"
    if document == "report":
        assert {r.lower() for r in REQUIRED_REFERENCES} <= keys
    for entry in entries:  # only identifiers we could confirm: DOIs and arXiv ids, well formed
        for doi in re.findall(r"https://doi\.org/(\S+)", entry):
            assert re.fullmatch(r"10\.\d{4,5}/[\w.()\-:;]+", doi), doi  # Springer: 10.1023/A:1024068626366
        assert len(re.findall(r"arXiv:\d{4}\.\d{4,5}\b", entry)) == entry.count("arXiv:"), entry


def test_report_without_a_registry_says_what_is_missing(project: Path) -> None:
    from pipeline.stages import report

    with pytest.raises(EvidenceError, match="no version with alias 'champion'"):
        report.run(Params.load())
    assert not (project / "docs" / "REPORT.md").exists()


def test_report_tables_parse_like_markdown(in_pipeline_project: Path) -> None:
    tables = read_tables(Params.load().report.document.read_text())
    assert {"before_after", "optimizers", "segments", "provenance"} <= set(tables)
    assert all(len({len(r) for r in rows}) == 1 for rows in tables.values()), "ragged table"


def _entry_key(entry: str) -> str:
    """'Kingma, D. P., & Ba, J. (2015). ...' -> 'kingma & ba, 2015'; three or more authors -> 'x et al.' (APA 7)."""
    authors, year = re.match(r"(.+?) \((\d{4})\)", entry).groups()  # type: ignore[union-attr]
    surnames = re.findall(r"([A-Z][\w\-]+), (?:[A-Z]\.)", authors)
    names = {1: surnames[0], 2: " & ".join(surnames)}.get(len(surnames), f"{surnames[0]} et al.")
    return f"{names}, {year}".lower()


def _citations(body: str) -> set[str]:
    """APA 7 in-text citations: (Kingma & Ba, 2015), Choi et al. (2019), (Dozat, 2016); narrative ones
    of two authors, which APA joins with "and": Nadeau and Bengio (2003); possessive: Holm's (1979)."""
    pattern = r"(?<!\band )\b([A-Z][\w\-]+(?: et al\.| & [A-Z][\w\-]+)?)(?:'s)?(?:,\s+|\s+\()(\d{4})\b"
    narrative = r"\b([A-Z][\w\-]+) and ([A-Z][\w\-]+)\s+\((\d{4})\b"
    found = {f"{names}, {year}".lower() for names, year in re.findall(pattern, body)}
    return found | {f"{a} & {b}, {year}".lower() for a, b, year in re.findall(narrative, body)}
