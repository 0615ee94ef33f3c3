"""Writing runs in few round trips: each run's parameters, metrics and curves go in batches."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import mlflow
from matplotlib.figure import Figure
from mlflow.data.pandas_dataset import PandasDataset
from mlflow.entities import DatasetInput, InputTag, LoggedModelOutput, Metric, Param, RunTag
from mlflow.tracking import MlflowClient
from mlflow.utils.mlflow_tags import MLFLOW_DATASET_CONTEXT, MLFLOW_PARENT_RUN_ID, MLFLOW_RUN_NAME

from pipeline import figures
from pipeline.config import PathsConfig
from pipeline.evaluation.metrics import confusion
from pipeline.features.encoded import Split
from pipeline.tracking import store
from pipeline.training.engine import History
from pipeline.training.job import TrainedModel, TrainingData


@dataclass(frozen=True)
class TrainingInputs:
    """The splits a network is fitted on and early-stopped on, as MLflow datasets: built once for
    the runs that train on the same splits, logged as the inputs of each (the UI's Dataset column),
    and named on the validation metrics of the model each run trained."""

    training: PandasDataset
    validation: PandasDataset

    def log(self, run_id: str) -> None:
        # the client takes dataset entities; MLflow's fluent log_inputs converts them the same way
        inputs = [
            DatasetInput(dataset._to_mlflow_entity(), [InputTag(MLFLOW_DATASET_CONTEXT, context)])
            for dataset, context in ((self.training, "training"), (self.validation, "validation"))
        ]
        MlflowClient().log_inputs(run_id, datasets=inputs)


def training_inputs(data: TrainingData, paths: PathsConfig) -> TrainingInputs:
    def as_dataset(split: Split) -> PandasDataset:
        path = paths.split(split.name)
        return store.dataset(split.frame, path, data.schema.target.column, store.file_md5(path))

    return TrainingInputs(training=as_dataset(data.train), validation=as_dataset(data.validation))


def start_child(parent_run_id: str, name: str, tags: Mapping[str, str], start_ms: int | None = None) -> str:
    """Create a run nested under ``parent_run_id`` in the same experiment; return its id."""
    client = MlflowClient()
    parent = client.get_run(parent_run_id)
    all_tags = {**tags, MLFLOW_PARENT_RUN_ID: parent_run_id, MLFLOW_RUN_NAME: name}
    run = client.create_run(parent.info.experiment_id, start_time=start_ms, tags=all_tags, run_name=name)
    return run.info.run_id


def log_values(
    run_id: str,
    params: Mapping[str, object] | None = None,
    metrics: Mapping[str, float] | None = None,
    history: History | None = None,
    tags: Mapping[str, str] | None = None,
    model_id: str | None = None,
    dataset: PandasDataset | None = None,
) -> None:
    """Parameters, final metrics and per-epoch curves (``step`` = epoch) in as few calls as possible;
    the final metrics name the model (``model_id``) and the data (``dataset``) they measure, if given."""
    now = int(time.time() * 1000)
    on = {"model_id": model_id, "run_id": run_id}
    if dataset is not None:
        on |= {"dataset_name": dataset.name, "dataset_digest": dataset.digest}
    metric_rows = [Metric(k, float(v), now, 0, **on) for k, v in (metrics or {}).items()]
    if history is not None:
        # the AUC curve is named apart from the final ``val_roc_auc``: MLflow shows a metric's value at
        # its highest step, which would be the last epoch's, not the restored best epoch's
        for key, values in (
            ("train_loss", history.train_loss),
            ("val_loss", history.val_loss),
            ("epoch_val_roc_auc", history.val_roc_auc),
        ):
            metric_rows += [Metric(key, float(v), now, epoch) for epoch, v in enumerate(values, start=1)]
    param_rows = [Param(k, str(v)) for k, v in (params or {}).items()]
    tag_rows = [RunTag(k, str(v)) for k, v in (tags or {}).items()]
    MlflowClient().log_batch(run_id, metrics=metric_rows, params=param_rows, tags=tag_rows)  # it chunks itself


def log_figure(run_id: str, fig: Figure, artifact_file: str) -> None:
    try:
        MlflowClient().log_figure(run_id, fig, artifact_file)
    finally:
        figures.close(fig)


def save_and_log_figures(run_id: str, figs: Mapping[str, Figure], folder: Path) -> None:
    """Each figure as a PNG in ``folder`` (a DVC plots output) and as an artifact of the run."""
    folder.mkdir(parents=True, exist_ok=True)
    for file, fig in figs.items():
        fig.savefig(folder / file, dpi=110)
        log_figure(run_id, fig, file)


def log_loss_curve(run_id: str, history: History, title: str) -> None:
    curves = {"training loss": history.train_loss, "validation loss": history.val_loss}
    log_figure(run_id, figures.loss_curves(curves, title, history.best_epoch), "loss_curve.png")


def log_file(run_id: str, path: Path, artifact_path: str | None = None) -> None:
    MlflowClient().log_artifact(run_id, str(path), artifact_path)


def log_tables(run_id: str, folder: Path) -> None:
    """A stage's CSV tables under ``tables/``; its ``summary.json``, beside them, is logged apart."""
    for path in sorted(folder.glob("*.csv")):
        log_file(run_id, path, "tables")


def finish(run_id: str, end_ms: int | None = None, status: str = "FINISHED") -> None:
    MlflowClient().set_terminated(run_id, status=status, end_time=end_ms)


def active_run_id() -> str:
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("no active MLflow run")
    return run.info.run_id


def log_trained_model(
    parent_run_id: str,
    name: str,
    trained: TrainedModel,
    model_path: Path,
    tags: Mapping[str, str],
    inputs: TrainingInputs,
) -> str:
    """A nested run for one seed of a configuration; returns its id."""
    run_id = start_child(parent_run_id, name, {**tags, "seed": str(trained.seed)})
    record_trained_model(run_id, name, trained, model_path, inputs)
    finish(run_id)
    return run_id


def record_trained_model(
    run_id: str, name: str, trained: TrainedModel, model_path: Path, inputs: TrainingInputs
) -> None:
    """Into an existing run: its training and validation data, the trained network as the run's
    model (*external* to MLflow: its weights are the ``.keras`` file, which the run keeps as an
    artifact and the stages also keep in ``models/`` under DVC),
    parameters, per-epoch curves, validation metrics of that model, the loss curve, the validation
    confusion matrix, and the ``.keras`` file itself."""
    params = {**trained.candidate.flat_params(), "seed": trained.seed, "threshold": trained.threshold}
    inputs.log(run_id)
    model = mlflow.create_external_model(
        name=name,
        source_run_id=run_id,
        params={k: str(v) for k, v in params.items()},
        model_type="keras",
        experiment_id=MlflowClient().get_run(run_id).info.experiment_id,
        tags={"file": model_path.name},
    )
    MlflowClient().log_outputs(run_id, [LoggedModelOutput(model.model_id, trained.history.best_epoch)])
    val_metrics = {f"val_{k}": v for k, v in trained.val_metrics.items()}
    log_values(run_id, params=params, metrics=val_metrics, model_id=model.model_id, dataset=inputs.validation)
    log_values(run_id, metrics={"seconds": trained.seconds}, history=trained.history)
    log_loss_curve(run_id, trained.history, f"{name}: loss per epoch")
    counts = confusion(trained.validation_labels, trained.val_probabilities, trained.threshold)
    title = f"{name}: validation, threshold {trained.threshold:g}"
    log_figure(run_id, figures.confusion_matrix(counts, title), "confusion_matrix_validation.png")
    log_file(run_id, model_path, "model")
