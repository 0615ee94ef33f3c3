"""The study notebook runs headless, top to bottom, against the trained synthetic project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.reporting.notebook import NOTEBOOK, execute
from tests.conftest import REPO

pytestmark = pytest.mark.slow


def test_notebook_executes_against_the_registry(in_pipeline_project: Path, tmp_path: Path) -> None:
    executed = execute(REPO / NOTEBOOK, in_pipeline_project, retrain_epochs=2, output=tmp_path / "executed.ipynb")
    cells = json.loads(executed.read_text())["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    text = json.dumps(outputs)
    assert "champion:" in text and "retrained now" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3


def test_committed_notebook_holds_the_real_run() -> None:
    """Committed executed: every code cell has run, in order, and none failed."""
    cells = json.loads((REPO / NOTEBOOK).read_text())["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    assert not [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
