"""Every DVC stage depends on all the project code it runs, so a code change cannot leave a stale result.

A stage's code is found statically, from the import graph of the ``pipeline`` package (grimp, the
engine of the import-linter contract), not by importing the stage and reading ``sys.modules``: the
graph holds every import statement, also those inside functions (``cli.main`` imports the config,
``explain`` its metric, the pyfunc its scorer), which ``sys.modules`` holds only when that code path
happened to run; and it needs no TensorFlow. Imports under ``if TYPE_CHECKING:`` never run and do not
count. What the graph cannot see is read from the code:

- ``python -m pipeline <command>`` runs ``pipeline/__init__.py``, ``__main__.py`` and the module
  ``cli.STAGES`` names for the command (imported by name);
- a module that starts ``python -m pipeline <command>`` processes runs that command's module too
  (``optimize`` its workers);
- a module that logs or loads an MLflow pyfunc runs the model code (models from code: the module
  calling ``mlflow.models.set_model``);
- importing ``a.b.c`` runs ``a/__init__.py`` and ``a/b/__init__.py`` (counted when they hold code, not
  only a docstring), and files that are not Python (the report's template) belong to their package.

Left out on purpose: ``cli.build_parser`` imports the modules of the commands with options of their own
(``cli.WITH_OPTIONS``) to call their ``configure(parser)``, which only declares those commands' options;
none of their code computes another stage's outputs, and counting them would make every stage depend on
the training and tuning code.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import grimp
import pytest
import yaml

from pipeline.cli import STAGES
from tests.conftest import REPO

PACKAGE = "pipeline"
COMMAND = f"python -m {PACKAGE} "
PYFUNC_USES = ("pyfunc.load_model", "pyfunc.log_model")
PYFUNC_CODE = "models.set_model"

Deps = Mapping[str, Mapping[str, list[str]]]  # stage -> its dvc.yaml entry (cmd, deps, ...)


@cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE, exclude_type_checking_imports=True, cache_dir=None)


def source(module: str) -> Path:
    """A module's file, relative to the repository."""
    path = Path(*module.split("."))
    return path / "__init__.py" if (REPO / path).is_dir() else path.with_suffix(".py")


@cache
def syntax(module: str) -> ast.Module:
    return ast.parse((REPO / source(module)).read_text())


def calls(module: str) -> set[str]:
    """The dotted names a module calls, e.g. ``mlflow.pyfunc.load_model``."""
    return {ast.unparse(node.func) for node in ast.walk(syntax(module)) if isinstance(node, ast.Call)}


def started_commands(module: str) -> set[str]:
    """Commands of ``[..., "-m", "pipeline", ..., "<command>"]`` argument lists in the module."""
    found = set()
    for node in ast.walk(syntax(module)):
        if isinstance(node, ast.List):
            words = [e.value for e in node.elts if isinstance(e, ast.Constant)]
            if "-m" in words and PACKAGE in words:
                found |= {w for w in words if w in STAGES}
    return found


def pyfunc_code() -> set[str]:
    return {m for m in graph().modules if any(c.endswith(PYFUNC_CODE) for c in calls(m))}


def runs_with(module: str) -> set[str]:
    """The modules running ``module`` runs next: its imports, parent packages, started commands, model code."""
    parts = module.split(".")
    found = set(graph().find_modules_directly_imported_by(module))
    found |= {".".join(parts[:i]) for i in range(1, len(parts))}
    found |= {STAGES[command][0] for command in started_commands(module)}
    if any(c.endswith(PYFUNC_USES) for c in calls(module)):
        found |= pyfunc_code()
    return found


def stage_modules(cmd: str) -> set[str]:
    """Every project module that ``python -m pipeline <command>`` runs."""
    assert cmd.startswith(COMMAND) and cmd.removeprefix(COMMAND) in STAGES, f"not a pipeline command: {cmd!r}"
    todo, seen = [f"{PACKAGE}.__main__", STAGES[cmd.removeprefix(COMMAND)][0]], set()
    while todo:
        module = todo.pop()
        if module not in seen:
            seen.add(module)
            todo.extend(runs_with(module))
    return seen


def holds_code(module: str) -> bool:
    """False for a package ``__init__.py`` with only its docstring: nothing in it can change a result."""
    body = syntax(module).body
    return not (len(body) <= 1 and all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body))


def required_files(modules: Iterable[str]) -> set[Path]:
    """The files a stage runs or reads from the package: its modules with code, its packages' data files."""
    packages = {source(m).parent for m in modules if source(m).name == "__init__.py"}
    data = {
        p.relative_to(REPO)
        for p in (REPO / PACKAGE).rglob("*")
        if p.is_file() and p.suffix not in {".py", ".pyc"} and "__pycache__" not in p.parts
    }
    return {source(m) for m in modules if holds_code(m)} | {f for f in data if _package_of(f) in packages}


def _package_of(path: Path) -> Path:
    return next(p for p in path.parents if (REPO / p / "__init__.py").is_file())


def _covers(dep: str, file: Path) -> bool:
    return Path(dep) == file or Path(dep) in file.parents


def problems(stages: Deps) -> list[str]:
    """One line per stage whose deps miss code it runs, or list project code it does not run."""
    found = []
    for name, stage in stages.items():
        files = required_files(stage_modules(stage["cmd"]))
        missing = sorted(str(f) for f in files if not any(_covers(d, f) for d in stage["deps"]))
        unused = [d for d in stage["deps"] if d.startswith(f"{PACKAGE}/") and not any(_covers(d, f) for f in files)]
        if missing:
            found.append(f"stage {name!r} runs code its deps do not cover: {', '.join(missing)}")
        if unused:
            found.append(f"stage {name!r} depends on code it does not run: {', '.join(unused)}")
    return found


def dvc_stages() -> Deps:
    return yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]


def test_every_stage_depends_on_all_the_project_code_it_runs_and_no_more() -> None:
    found = problems(dvc_stages())
    assert not found, "\n".join(found)


def test_the_code_a_stage_runs_includes_what_no_import_statement_names() -> None:
    optimize, segment, report = (stage_modules(f"{COMMAND}{name}") for name in ("optimize", "segment", "report"))
    assert {"pipeline", "pipeline.numerics", "pipeline.cli", "pipeline.config"} <= optimize
    assert "pipeline.stages.optimize_worker" in optimize  # started as `python -m pipeline optimize-worker`
    assert {"pipeline.serving.model_code", "pipeline.serving.scorer"} <= segment  # the registered pyfunc
    assert "pipeline.evaluation.metrics" in segment  # imported inside a function of `explain`
    assert "pipeline.stages.train" not in segment  # only declares its options in the parser
    assert Path("pipeline/reporting/templates/report.md.j2") in required_files(report)


@pytest.mark.parametrize(
    ("stage", "dep", "named"),
    [
        ("baseline", "pipeline/features", "pipeline/features/preprocessing.py"),  # through data/prepared
        ("evaluate", "pipeline/cli.py", "pipeline/cli.py"),
        ("optimize", "pipeline/stages/optimize_worker.py", "pipeline/stages/optimize_worker.py"),
        ("segment", "pipeline/serving", "pipeline/serving/model_code.py"),
        ("report", "pipeline/reporting", "pipeline/reporting/templates/report.md.j2"),
    ],
)
def test_a_missing_dependency_is_named_with_its_stage(stage: str, dep: str, named: str) -> None:
    stages = copy.deepcopy(dvc_stages())
    assert dep in stages[stage]["deps"]
    stages[stage]["deps"].remove(dep)
    [line] = problems(stages)
    assert line.startswith(f"stage {stage!r} runs code its deps do not cover: ") and named in line


def test_a_dependency_on_code_the_stage_does_not_run_is_named() -> None:
    stages = copy.deepcopy(dvc_stages())
    stages["prepare"]["deps"].append("pipeline/tuning")
    assert problems(stages) == ["stage 'prepare' depends on code it does not run: pipeline/tuning"]
