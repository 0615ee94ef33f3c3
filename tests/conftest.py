"""Shared fixtures: the real contract, synthetic data from it, and throw-away projects."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
import yaml

from pipeline.config import Params
from pipeline.data.schema import DataSchema
from tests import servers
from tests.synthetic import make_customers, write_csv

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def schema() -> DataSchema:
    return DataSchema.from_yaml(REPO / "data" / "schema.yaml")


@pytest.fixture
def project(tmp_path: Path, schema: DataSchema, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A throw-away project: the repo's params and schema, synthetic raw data, its own MLflow store."""
    root = tmp_path / "project"
    (root / "data" / "raw").mkdir(parents=True)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    shutil.copy(REPO / "data" / "schema.yaml", root / "data" / "schema.yaml")
    write_csv(make_customers(schema, n=600, seed=1), root / "data" / "raw" / "teleconnect.csv")
    use_project(root, monkeypatch)  # its folder and its store, whatever an earlier test pointed MLflow at
    return root


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the session (``postgresql://postgres@127.0.0.1:<port>``). Without
    PostgreSQL's binaries the tests that need it fail in CI, whose setup installs them, and skip elsewhere."""
    binaries = servers.postgres_binaries()
    if binaries is None:
        message = (
            f"PostgreSQL's server binaries are not installed (looked in {servers.POSTGRES_VERSIONS}/*/bin and PATH): "
            "`apt-get install postgresql`, which `bash scripts/setup.sh` does when run as root"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with servers.postgres(binaries) as url:
        yield url


# every stage of dvc.yaml, in an order that runs each after the stages it reads
STAGES = (
    "prepare",
    "references",
    "baseline",
    "recipes",
    "optimize",
    "resample",
    "evaluate",
    "segment",
    "campaign",
    "report",
)

SMALL_BUDGETS = {
    "baseline": {"seeds": [0, 1], "candidate": {"training": {"epochs": 8}}},
    "optimize": {
        "epochs": 6,
        "early_stopping_patience": 3,
        "sampler_startup_trials": 2,
        "pruner": {"startup_trials": 1, "warmup_epochs": 1},
        "workers": 1,
        "heartbeat_seconds": 1,
        "comparison": {"optimizers": ["sgd", "adam"], "trials_per_optimizer": 3},
        "search": {"trials": 3, "units": [4, 16], "batch_sizes": [32, 64]},
    },
    "references": {"gradient_boosting": {"trials": 3}, "logistic_regression": {"trials": 2}},
    "recipes": {
        name: {"training": {"epochs": 6, "early_stopping_patience": 3}}
        for name in ("brief-bn-dropout-adam", "brief-sgd", "brief-adam", "brief-rmsprop")
    },
    "resample": {"repeats": 2, "folds": 3, "seeds_per_fold": 2},
    "evaluate": {"bootstrap": {"resamples": 200}},
    "segment": {
        "persona_k": [2, 3],
        "shap_background": 20,
        "permutation_repeats": 2,
        "campaign": {"bootstrap": {"resamples": 200}},
    },
}


def deep_update(base: dict, changes: dict) -> dict:
    merged = dict(base)
    for key, value in changes.items():
        merged[key] = deep_update(base.get(key, {}), value) if isinstance(value, dict) else value
    return merged


def set_params(root: Path, changes: dict) -> None:
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(deep_update(yaml.safe_load(path.read_text()), changes), sort_keys=False))


def new_project(root: Path, schema: DataSchema, changes: dict) -> Path:
    """A project folder as a checkout has it (params with ``changes``, DAG, contract) with 500 synthetic customers."""
    (root / "data" / "raw").mkdir(parents=True)
    shutil.copy(REPO / "params.yaml", root / "params.yaml")
    shutil.copy(REPO / "dvc.yaml", root / "dvc.yaml")
    shutil.copy(REPO / "data" / "schema.yaml", root / "data" / "schema.yaml")
    write_csv(make_customers(schema, n=500, seed=21), root / "data" / "raw" / "teleconnect.csv")
    set_params(root, changes)
    return root


@pytest.fixture(scope="session")
def pipeline_project(tmp_path_factory: pytest.TempPathFactory, schema: DataSchema) -> Path:
    """The stages (prepare to report) once on synthetic data with tiny budgets. ``references``, ``baseline``,
    ``recipes``, ``optimize`` and ``resample`` run while the test split is moved away, so a test split read
    before ``evaluate`` fails."""
    from pipeline.stages import (
        baseline,
        campaign,
        evaluate,
        optimize,
        prepare,
        recipes,
        references,
        report,
        resample,
        segment,
    )

    root = new_project(tmp_path_factory.mktemp("pipeline") / "project", schema, SMALL_BUDGETS)
    with pytest.MonkeyPatch.context() as mp:
        use_project(root, mp)
        mp.setenv("PIPELINE_WORKERS", "2")  # the two-worker run tests/stages/test_parallel_stages.py compares
        prepare.run(Params.load())
        test_split = root / "data" / "prepared" / "test.parquet"
        hidden = test_split.rename(root / "test.parquet.hidden")
        references.run(Params.load())
        baseline.run(Params.load())
        recipes.run(Params.load())
        optimize.run(Params.load())
        resample.run(Params.load())
        assert not test_split.exists()
        hidden.rename(test_split)
        evaluate.run(Params.load())
        segment.run(Params.load())
        campaign.run(Params.load())
        report.run(Params.load())
    return root


@pytest.fixture
def in_pipeline_project(pipeline_project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Inside the trained synthetic project (its folder, its MLflow store), for one test."""
    use_project(pipeline_project, monkeypatch)
    return pipeline_project


def use_project(root: Path, mp: pytest.MonkeyPatch) -> None:
    """Work inside a project: its folder, its MLflow store."""
    mp.chdir(root)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    mp.setenv("MLFLOW_TRACKING_URI", uri)
    mlflow.set_tracking_uri(uri)


# Fixtures that make a test slow, and why. A test that requests one (directly or through another
# fixture) must be marked `slow`, so that `pytest -m "not slow"` stays a loop of a minute.
HEAVY_FIXTURES = {
    "pipeline_project": "runs the nine stages",
    "in_pipeline_project": "runs the nine stages",
    "project": "a project with its own MLflow store, for stages and stores",
    "postgres_server": "starts PostgreSQL",
}
# Session fixtures that build something once: under pytest-xdist (`-n logical`, `--dist loadgroup`) every
# test on one of them runs in the same worker, which builds it once, as a serial run does. Any other test
# runs with the rest of its module, so a module's own fixtures are built once too.
SHARED_BUILDS = ("pipeline_project", "postgres_server")
# The xdist groups that take longest, longest first (measured on 2 cores, docs: "Tests"): they start first,
# so that no long group starts last and leaves one core idle at the end. Any other group follows.
LONGEST_GROUPS = (
    "tests/test_end_to_end.py",
    "tests/training/test_numerics.py",
    "pipeline_project",
    "postgres_server",
    "tests/test_other_dataset.py",
    "tests/tuning/test_studies.py",
)


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the groups (and before -m deselects)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse unmarked heavy tests; keep each shared build's tests in one xdist worker; skip real-data
    tests without ../shared."""
    unmarked = unmarked_heavy_tests(items)
    if unmarked:
        raise pytest.UsageError(
            "tests on a heavy fixture must be marked @pytest.mark.slow (conftest.HEAVY_FIXTURES):\n  "
            + "\n  ".join(unmarked)
        )
    groups: dict[str, str] = {}
    for item in items:
        shared = [name for name in SHARED_BUILDS if name in getattr(item, "fixturenames", ())]
        groups[item.nodeid] = shared[0] if shared else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))
    rank = {group: k for k, group in enumerate(LONGEST_GROUPS)}
    items.sort(key=lambda item: rank.get(groups[item.nodeid], len(rank)))  # stable: the rest keep their order
    skip_real_data_without_store(items)


def unmarked_heavy_tests(items: list[pytest.Item]) -> list[str]:
    """``node id: fixture (why)`` for each test that requests a heavy fixture, itself or through another
    fixture, without the ``slow`` marker."""
    found = []
    for item in items:
        heavy = [name for name in HEAVY_FIXTURES if name in getattr(item, "fixturenames", ())]
        if heavy and item.get_closest_marker("slow") is None:
            found.append(f"{item.nodeid}: {heavy[0]} ({HEAVY_FIXTURES[heavy[0]]})")
    return found


def skip_real_data_without_store(items: list[pytest.Item]) -> None:
    """Without ../shared (the team's data store) the real-data tests cannot run: say so, loudly."""
    if SHARED.is_dir() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"{SHARED} not found: real-data tests need the team store beside the repo")
    for item in items:
        if "real_data" in item.keywords:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Phase timings that tests recorded (``record_property("phase: ...")``), so CI prints them."""
    for report in terminalreporter.stats.get("passed", []) + terminalreporter.stats.get("failed", []):
        phases = [(k, v) for k, v in report.user_properties if k.startswith("phase: ")]
        if report.when == "call" and phases:
            terminalreporter.write_line(f"{report.nodeid}:")
            for key, value in phases:
                terminalreporter.write_line(f"  {key.removeprefix('phase: ')}: {value}")
