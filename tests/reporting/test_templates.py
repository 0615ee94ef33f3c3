"""The report's templates: one file per section, numbers written only by the Python formatters."""

from __future__ import annotations

import re

from pipeline.reporting.formats import FILTERS
from pipeline.reporting.rendering import environment
from tests.conftest import REPO

TEMPLATES = REPO / "pipeline" / "reporting" / "templates"


def test_numbers_are_formatted_by_the_registered_filters_only() -> None:
    """No Jinja macro or inline format call writes a number: ``"{:,.0f}".format`` and ``"%.3f" | format``
    are the filters of formats.py (the one macro left draws an image)."""
    for path in sorted(TEMPLATES.rglob("*.j2")):
        text = path.read_text()
        assert not re.search(r"\.format\(|\|\s*format\b", text), path.name
        assert re.findall(r"{%-? macro (\w+)", text) in ([], ["image"]), path.name
    assert set(FILTERS) <= set(environment().filters)


def test_one_template_per_section_in_the_order_of_the_report() -> None:
    main = (TEMPLATES / "report.md.j2").read_text()
    included = re.findall(r'{% include "report/(\d\d)_\w+\.md\.j2" %}', main)
    assert included == [f"{n:02d}" for n in range(len(included))]
    numbered = []
    for path in sorted((TEMPLATES / "report").glob("[0-9][0-9]_*.md.j2")):
        headings = re.findall(r"^## (\d+)\.", path.read_text(), re.M)
        assert len(headings) <= 1, f"{path.name} holds more than one section: {headings}"
        numbered += [int(h) for h in headings]
    assert numbered == list(range(1, len(numbered) + 1))
