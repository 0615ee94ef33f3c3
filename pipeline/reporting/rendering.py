"""The report's Jinja environment: templates from this package, the formatters of ``formats`` as filters
(one definition of how a number is written, for tables and prose alike)."""

from __future__ import annotations

import jinja2

from pipeline.reporting.formats import FILTERS


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
