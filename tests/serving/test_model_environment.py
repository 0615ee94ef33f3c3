"""The registered model carries what serving needs and no more: its code paths hold exactly the project
modules the model code imports (also inside functions), its requirements pin every third-party package
they import as ``requirements.lock`` does, and it loads, scores and explains in a fresh process that
has no other copy of ``pipeline``. (``test_server.py`` serves it from an environment built from those
requirements alone.)

The modules and packages expected here come from grimp's import graph (the engine of the layers
contract), not from the code in ``pipeline/serving/package.py`` that chose them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp
import mlflow
import pandas as pd
import pytest

from pipeline.config import Params
from pipeline.tracking import registry
from tests.conftest import REPO, use_project
from tests.repo_copy import command_env

pytestmark = pytest.mark.slow

MODEL_CODE = "pipeline.serving.model_code"

FRESH_PROCESS = """
import importlib.util, json, os, sys
# where the model is served, `pipeline` is not installed: drop this checkout's development install
sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, "__module__", "").startswith("__editable__")]
assert importlib.util.find_spec("pipeline") is None
import mlflow.pyfunc, pandas as pd
model = mlflow.pyfunc.load_model(sys.argv[1])
scored = model.predict(pd.DataFrame(json.loads(sys.argv[2])), params={"reasons": True})
files = [m.__file__ for name, m in list(sys.modules.items()) if name.split(".")[0] == "pipeline"]
print(json.dumps({"files": files, "isa": os.environ["ONEDNN_MAX_CPU_ISA"], "reasons": scored["reasons"].tolist()}))
"""


@pytest.fixture(scope="module")
def model_dir(pipeline_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The registered champion's files, as MLflow downloads them to serve it."""
    with pytest.MonkeyPatch.context() as mp:
        use_project(pipeline_project, mp)
        uri = registry.model_uri(Params.load().tracking.registered_model, registry.CHAMPION)
        yield Path(mlflow.artifacts.download_artifacts(uri, dst_path=str(tmp_path_factory.mktemp("champion"))))


def _reached_from_model_code() -> tuple[set[str], set[str]]:
    """Project modules the model code runs (what it imports, directly or not, and the packages holding
    them with their own imports), and the third-party packages among what they import."""
    graph = grimp.build_graph(
        "pipeline", include_external_packages=True, exclude_type_checking_imports=True, cache_dir=None
    )
    reached = {MODEL_CODE} | graph.find_upstream_modules(MODEL_CODE)
    parts = [m.split(".") for m in reached if m.startswith("pipeline.")]
    for package in {".".join(p[:i]) for p in parts for i in range(1, len(p))}:
        reached |= {package} | graph.find_upstream_modules(package)
    project = {m for m in reached if m.split(".")[0] == "pipeline"}
    return project, {m.split(".")[0] for m in reached - project} - set(sys.stdlib_module_names)


def _source(module: str) -> Path:
    path = Path(*module.split("."))
    return path / "__init__.py" if (REPO / path).is_dir() else path.with_suffix(".py")


def _pins(text: str) -> dict[str, str]:
    """``name==version`` lines by normalized name."""
    pairs = (line.split("==") for line in text.splitlines() if "==" in line and not line.startswith("#"))
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pairs}


def test_the_code_paths_hold_exactly_the_modules_serving_runs(model_dir: Path) -> None:
    project, _ = _reached_from_model_code()
    shipped = {p.relative_to(model_dir / "code") for p in (model_dir / "code").rglob("*.py")}
    assert shipped == {_source(m) for m in project}
    assert {"pipeline.segmentation.explain", "pipeline.numerics"} <= project  # SHAP reasons; the pinned numerics
    assert not any(m.startswith(("pipeline.stages", "pipeline.training", "pipeline.tuning")) for m in project)


def test_every_package_the_served_code_imports_is_required_as_locked(model_dir: Path) -> None:
    import importlib.metadata

    _, packages = _reached_from_model_code()
    required = _pins((model_dir / "requirements.txt").read_text())
    locked = _pins((REPO / "requirements.lock").read_text())
    providers = importlib.metadata.packages_distributions()
    for package in packages:
        for distribution in providers[package]:
            name = re.sub(r"[-_.]+", "-", distribution).lower()
            assert required.get(name) == locked[name], f"{package} ({distribution}) is not required as locked"
    assert "shap" in packages  # the reasons
    assert _pins((model_dir / "constraints.txt").read_text()) == locked  # their dependencies, pinned as well


def test_a_fresh_process_with_only_the_model_scores_and_explains(
    model_dir: Path, pipeline_project: Path, tmp_path: Path
) -> None:
    raw = pd.read_csv(pipeline_project / "data" / "raw" / "teleconnect.csv", dtype=str)
    records = raw.head(2).drop(columns="Churn").to_json(orient="records")
    result = subprocess.run(
        [sys.executable, "-I", "-c", FRESH_PROCESS, str(model_dir), records],
        cwd=tmp_path,
        env=command_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["files"] and all(Path(f).is_relative_to(model_dir / "code") for f in found["files"])
    assert found["isa"] == "AVX2"  # importing the model's `pipeline` pinned the numerics
    assert all(len(reasons.split("; ")) == 3 for reasons in found["reasons"])
