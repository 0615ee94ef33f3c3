"""``references``, ``recipes``, ``optimize`` and ``resample`` give the same studies, metrics, reports and
model files with one worker process as with two (``PIPELINE_WORKERS``): the numbers depend on neither the
number of workers nor the order in which units finish."""

from __future__ import annotations

import hashlib
from pathlib import Path

import optuna
import pytest

from pipeline.config import Params
from pipeline.data.prepared import data_md5
from pipeline.data.schema import DataSchema
from pipeline.stages import baseline, optimize, prepare, recipes, references, resample
from pipeline.tuning.plan import plan_studies
from pipeline.tuning.records import position
from pipeline.tuning.storage import open_storage
from pipeline.tuning.tickets import budget_trials
from tests.conftest import SMALL_BUDGETS, new_project, use_project

pytestmark = pytest.mark.slow
OUTPUTS = (
    "metrics",
    "reports/references",
    "reports/optimize",
    "reports/resample",
    "plots/optimize",
    "plots/resample",
    "models",
)


def _run(root: Path, workers: int, monkeypatch: pytest.MonkeyPatch) -> Params:
    use_project(root, monkeypatch)
    monkeypatch.setenv("PIPELINE_WORKERS", str(workers))
    for stage in (prepare, references, baseline, recipes, optimize, resample):
        stage.run(Params.load())
    return Params.load()


def _trials(params: Params) -> dict[str, list[tuple[int, str, dict, float | None]]]:
    """Per study, per position: its state, parameters and value."""
    storage = open_storage(params.optimize, params.paths.studies)
    found = {}
    for plan in plan_studies(params.optimize, params.baseline.candidate, data_md5(params.paths)):
        study = optuna.load_study(study_name=plan.name, storage=storage)
        found[plan.label] = [
            (position(t), t.state.name, t.params, t.value) for t in sorted(budget_trials(study), key=position)
        ]
    return found


def _files(root: Path) -> dict[str, str]:
    """Every output file's SHA-256, by path in the project."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in OUTPUTS
        for path in sorted((root / folder).rglob("*"))
        if path.is_file()
    }


def test_one_and_two_workers_give_the_same_studies_metrics_and_models(
    tmp_path: Path, schema: DataSchema, monkeypatch: pytest.MonkeyPatch, pipeline_project: Path
) -> None:
    """The two-worker run is the session's ``pipeline_project`` (the same project and budgets, built with
    ``PIPELINE_WORKERS=2``); this test runs the same stages again with one worker."""
    serial = _run(new_project(tmp_path / "serial", schema, SMALL_BUDGETS), 1, monkeypatch)
    trials_serial, files_serial = _trials(serial), _files(tmp_path / "serial")
    use_project(pipeline_project, monkeypatch)
    trials_two = _trials(Params.load())
    every_file_two = _files(pipeline_project)
    files_two = {path: every_file_two.get(path) for path in files_serial}  # later stages write more files

    budgets = SMALL_BUDGETS["optimize"]
    assert {label: len(t) for label, t in trials_serial.items()} == {
        **dict.fromkeys(budgets["comparison"]["optimizers"], budgets["comparison"]["trials_per_optimizer"]),
        "search": budgets["search"]["trials"],
    }
    assert trials_two == trials_serial
    keras_files = [path for path in files_serial if path.endswith(".keras")]
    assert len(keras_files) == 2 * (1 + 4 + 3)  # 2 seeds of the baseline, 4 recipes, 2 optimizers and the search
    expected = (
        "metrics/references.json",
        "models/references/gradient_boosting.json",
        "metrics/recipes.json",
        "metrics/optimize.json",
        "metrics/resample.json",
        "reports/resample/folds.csv",
    )
    assert set(expected) <= set(files_serial)
    assert files_two == files_serial
