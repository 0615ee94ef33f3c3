"""The declared environments agree, the code is lint-clean (ruff), and its layers point down (import-linter)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from tests.conftest import REPO


def test_conda_yaml_states_the_same_dependencies_as_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    conda = yaml.safe_load((REPO / "conda.yaml").read_text())
    [pip_section] = [d for d in conda["dependencies"] if isinstance(d, dict)]
    pip_requirements = [r for r in pip_section["pip"] if not r.startswith("--")]
    assert sorted(pip_requirements) == sorted(project["dependencies"])
    assert "python=3.11" in conda["dependencies"]
    assert project["requires-python"] == ">=3.11,<3.12"


def test_lock_file_satisfies_the_declared_ranges() -> None:
    from packaging.requirements import Requirement

    locked = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        name, _, version = line.partition("==")
        locked[name.lower().replace("_", "-")] = version
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for spec in [*project["dependencies"], *project["optional-dependencies"]["dev"]]:
        requirement = Requirement(spec)
        name = requirement.name.lower().replace("_", "-")
        assert name in locked, f"{name} is not in requirements.lock"
        assert requirement.specifier.contains(locked[name]), f"{name}=={locked[name]} outside {requirement.specifier}"


def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "pipeline", "tests", "benchmarks"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_layers_point_down() -> None:
    """The import-linter contract in pyproject.toml: a new upward import fails here."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--config", "pyproject.toml", "--no-cache"], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    """The control: the same contract over a copy of the package with one upward import is broken."""
    copy = tmp_path / "pipeline"
    shutil.copytree(REPO / "pipeline", copy, ignore=shutil.ignore_patterns("__pycache__"))
    io_module = copy / "io.py"
    io_module.write_text(io_module.read_text() + "\nfrom pipeline.stages import report  # noqa: E402, F401\n")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--config", "pyproject.toml", "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "pipeline.io -> pipeline.stages.report" in result.stdout
