"""The declared environments agree; the layers contract can fail (`.ci/run` runs ruff and lint-imports on the
code); the numerics pin holds in pytest-xdist's workers; heavy tests cannot go unmarked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from pipeline import numerics
from tests.conftest import REPO
from tests.repo_copy import command_env


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


PIN_TEST = "tests/training/test_numerics.py::test_importing_the_package_pins_the_numerics"


def _in_an_xdist_worker(*options: str) -> subprocess.CompletedProcess:
    """The pin's test in one pytest-xdist worker, in an environment without the pinned variables."""
    env = {k: v for k, v in command_env().items() if k not in {*numerics.PINNED, "XLA_FLAGS"}}
    command = [sys.executable, "-m", "pytest", "-n", "1", "-p", "no:cacheprovider", "-q", *options, PIN_TEST]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow  # two pytest sessions with a worker each
def test_xdist_workers_compute_pinned_even_when_numpy_loads_first() -> None:
    """A worker inherits the environment the controller pinned when it loaded `pipeline` (`-p pipeline`,
    conftest.py), so even a plugin that loads NumPy first in the worker (`-p numpy`) gets pinned kernels.
    The control: a controller that never loads `pipeline` leaves the worker's NumPy unpinned."""
    pinned = _in_an_xdist_worker("-p", "numpy")
    assert pinned.returncode == 0, pinned.stdout + pinned.stderr
    unpinned = _in_an_xdist_worker("-o", "addopts=--strict-markers", "--noconftest", "-p", "numpy")
    assert unpinned.returncode == 1, unpinned.stdout + unpinned.stderr
    assert "1 failed" in unpinned.stdout


def test_ci_runs_the_readme_s_test_command_word_for_word() -> None:
    readme = (REPO / "README.md").read_text()
    [command] = [line for line in readme.splitlines() if line.startswith("bash scripts/setup.sh") and "pytest" in line]
    assert command in (REPO / ".ci" / "run").read_text().splitlines()


def test_the_readme_is_a_front_door_of_at_most_120_lines() -> None:
    """What it is, the answer, the two commands, where to look; the rest belongs in docs/ (issue 25)."""
    lines = (REPO / "README.md").read_text().splitlines()
    assert len(lines) <= 120, f"README.md has {len(lines)} lines: move detail to docs/DOCUMENTATION.md"
    headings = [line for line in lines if line.startswith("## ")]
    assert [h.split()[1] for h in headings[:3]] == ["The", "Two", "Where"], headings  # answer, commands, where
