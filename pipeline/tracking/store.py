"""The project's MLflow tracking store: SQLite by default, so the Model Registry works out of the box;
a tracking server (``MLFLOW_TRACKING_URI=http://…``) in team mode."""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import subprocess
import urllib.parse
import warnings
from datetime import UTC, datetime
from pathlib import Path

import mlflow
import pandas as pd
import yaml
from mlflow.data.pandas_dataset import PandasDataset, from_pandas
from mlflow.tracking import MlflowClient

log = logging.getLogger(__name__)
DATABASE_FILE = "mlflow.db"
# MLflow 3's UI opens an experiment on its GenAI views (traces) unless this tag says it trains models
EXPERIMENT_KIND, MODEL_TRAINING = "mlflow.experimentKind", "custom_model_development"
ARTIFACT_DIR = "mlartifacts"
REPRODUCTION_ENV = "PIPELINE_REPRODUCTION"


def tracking_uri(root: Path | None = None) -> str:
    """``MLFLOW_TRACKING_URI`` if set, else ``sqlite:///<root>/mlflow.db``."""
    if uri := os.environ.get("MLFLOW_TRACKING_URI"):
        return uri
    root = (root or Path.cwd()).resolve()
    return f"sqlite:///{root / DATABASE_FILE}"


def configure(experiment: str, root: Path | None = None) -> str:
    """Point MLflow at the project store and make sure the experiment exists; return its id."""
    root = (root or Path.cwd()).resolve()
    uri = tracking_uri(root)
    mlflow.set_tracking_uri(uri)
    found = mlflow.get_experiment_by_name(experiment)
    if found is not None:
        experiment_id = found.experiment_id
    else:
        location = None if _is_server(uri) else (root / ARTIFACT_DIR).as_uri()
        try:
            experiment_id = mlflow.create_experiment(experiment, artifact_location=location)
        except mlflow.exceptions.MlflowException:  # created meanwhile by a concurrent stage
            found = mlflow.get_experiment_by_name(experiment)
            if found is None:  # not created after all: the creation's own error
                raise
            experiment_id = found.experiment_id
    experiment_found = mlflow.set_experiment(experiment_id=experiment_id)
    if experiment_found.tags.get(EXPERIMENT_KIND) != MODEL_TRAINING:
        MlflowClient().set_experiment_tag(experiment_id, EXPERIMENT_KIND, MODEL_TRAINING)
    _detach_from_foreign_run(experiment_id)
    return experiment_id


def _is_server(uri: str) -> bool:
    """A tracking server keeps the artifacts where it was told (``--artifacts-destination``), for every
    machine; a local store keeps them beside it, in ``mlartifacts/``."""
    return urllib.parse.urlparse(uri).scheme in {"http", "https"}


def _detach_from_foreign_run(experiment_id: str) -> None:
    """``mlflow run`` without ``--experiment-name`` opens its run (``MLFLOW_RUN_ID``) in the default
    experiment, where a stage cannot log; the stage then logs beside the others in the project's."""
    launched = os.environ.get("MLFLOW_RUN_ID")
    if not launched:
        return
    try:
        foreign = mlflow.get_run(launched).info.experiment_id != experiment_id
    except mlflow.exceptions.MlflowException:
        foreign = True
    if foreign:
        log.info("run %s of `mlflow run` is in another experiment; logging to experiment %s", launched, experiment_id)
        del os.environ["MLFLOW_RUN_ID"]


def git_commit(root: Path | None = None) -> str:
    """The commit the code was run from, with ``-dirty`` when the work tree differs from it. What DVC
    itself writes during the very run being tagged does not count: ``dvc.lock`` and every stage
    output it lists (some, like ``metrics/``, are kept in git, and DVC deletes a stage's outputs
    before running it)."""
    cwd = root or Path.cwd()
    excluded = [f":(exclude){path}" for path in pipeline_outputs(cwd)]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *excluded],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}-dirty" if dirty else commit


def pipeline_outputs(root: Path) -> list[str]:
    """``dvc.lock`` and the outputs of every stage it records, as paths relative to ``root``."""
    try:
        stages = yaml.safe_load((root / "dvc.lock").read_text(encoding="utf-8"))["stages"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):  # no pipeline run yet
        stages = {}
    return ["dvc.lock", *(out["path"] for stage in stages.values() for out in stage.get("outs", []))]


def file_md5(path: str | Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@functools.cache
def reproduction() -> str:
    """One id shared by every stage of one ``dvc repro`` (or ``dvc exp run``, ``mlflow run .``), so the
    MLflow UI can tell reproductions apart: ``$PIPELINE_REPRODUCTION`` if set, else the DVC
    experiment's name, else ``dvc-<start time>-<pid>`` of the ``dvc`` process that launched this
    stage (DVC passes no id of its own to a stage), else ``run-<start time>-<pid>`` of this process."""
    return os.environ.get(REPRODUCTION_ENV) or os.environ.get("DVC_EXP_NAME") or _launching_process()


def _launching_process() -> str:
    """``dvc-<UTC start>-<pid>`` of the nearest ``dvc`` ancestor, or ``run-…`` of this process."""
    own = f"run-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}"
    try:
        boot = next(int(line.split()[1]) for line in _proc("stat").splitlines() if line.startswith("btime"))
        ticks, pid = os.sysconf("SC_CLK_TCK"), os.getpid()
        while pid > 1:
            fields = _proc(f"{pid}/stat").rsplit(")", 1)[1].split()  # after "(command)": state, ppid, …
            started = datetime.fromtimestamp(boot + int(fields[19]) / ticks, tz=UTC)
            if _is_dvc(_proc(f"{pid}/cmdline").split("\0")):
                return f"dvc-{started:%Y%m%dT%H%M%S}-{pid}"
            if pid == os.getpid():
                own = f"run-{started:%Y%m%dT%H%M%S}-{pid}"
            pid = int(fields[1])
    except (OSError, ValueError, IndexError, StopIteration):  # no /proc (not Linux), or a process gone
        pass
    return own


def _proc(name: str) -> str:
    return Path("/proc", name).read_text(errors="replace")


def _is_dvc(argv: list[str]) -> bool:
    """``dvc …``, ``python …/bin/dvc …`` or ``python -m dvc …``."""
    return any(Path(word).name == "dvc" for word in argv[:2]) or argv[1:3] == ["-m", "dvc"]


def run_tags(stage: str, data_md5: str, **extra: object) -> dict[str, str]:
    """Tags every run carries, so the MLflow UI can filter by stage, reproduction, data version and
    code version."""
    tags = {"stage": stage, "reproduction": reproduction(), "data_md5": data_md5, "git_commit": git_commit()}
    tags.update({k: str(v) for k, v in extra.items()})
    return tags


def dataset(frame: pd.DataFrame, path: Path, target: str, digest: str) -> PandasDataset:
    """A data file as an MLflow dataset, identified by its md5 (the digest DVC tracks it by)."""
    with warnings.catch_warnings():
        # MLflow registers the local file source twice and warns about the ambiguity, and warns that
        # integer columns cannot hold missing values; neither applies to a record of the training data.
        warnings.filterwarnings("ignore", message="The specified dataset source can be interpreted")
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer column")
        found = from_pandas(  # what mlflow.data registers as its from_pandas at import
            frame, source=path.resolve().as_uri(), targets=target, name=path.stem, digest=digest
        )
        _ = found.schema  # inferred (and cached) here, where its warning is silenced, not when logged
    return found


def log_dataset(frame: pd.DataFrame, path: Path, target: str, digest: str, context: str) -> None:
    """Record a data file as the active run's input."""
    mlflow.log_input(dataset(frame, path, target, digest), context=context)
