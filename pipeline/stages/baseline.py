"""``baseline``: the existing, unoptimized network, trained over several seeds.

Reads only the train and validation splits. Writes the models, their validation
metrics across seeds (DVC metrics) and the loss curves (DVC plots), and logs a
parent MLflow run ``baseline`` with one nested run per seed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import mlflow

from pipeline.config import BaselineConfig, Params
from pipeline.data.prepared import data_md5
from pipeline.io import write_json
from pipeline.model.config import Candidate
from pipeline.tracking import runs, store
from pipeline.training import store as model_store
from pipeline.training.curves import write_curves
from pipeline.training.job import TrainingData, load_training_data
from pipeline.training.seeds import SeedResults, train_over_seeds

log = logging.getLogger(__name__)
HEADLINE = ("selected_seed", "val_log_loss_mean", "val_log_loss_std", "val_roc_auc_mean", "val_roc_auc_std")


def run(params: Params) -> None:
    paths, cfg = params.paths, params.baseline
    data = load_training_data(paths)
    store.configure(params.tracking.experiment)
    results, run_id = train_and_log("baseline", cfg.candidate, params, data, paths.models / "baseline", "baseline")
    for trained in results.runs:
        write_curves(paths.plots / "baseline" / f"seed-{trained.seed}.csv", trained.history)
    write_json(paths.training_runs("baseline"), {"baseline": run_id})
    summary = {"selected_seed": results.selected.seed, **results.summary()}
    write_json(paths.summary("baseline"), summary)
    write_json(paths.headline("baseline"), {k: summary[k] for k in HEADLINE})


def train_and_log(
    name: str, candidate: Candidate, params: Params, data: TrainingData, directory: Path, study: str
) -> tuple[SeedResults, str]:
    """One named configuration over the baseline's seeds, saved to ``directory`` and logged as a
    parent run with one nested run per seed; returns the results and the parent run's id."""
    results = train_and_save(name, candidate, data, params.baseline, directory)
    return results, log_seeds(results, params, data, directory, study)


def train_and_save(
    name: str, candidate: Candidate, data: TrainingData, cfg: BaselineConfig, directory: Path
) -> SeedResults:
    """One configuration over the baseline's seeds (one packed training), saved to ``directory``: in the
    process that trained it, as Keras numbers the objects a model's layers share only there."""
    results = train_over_seeds(name, candidate, data, cfg.seeds, cfg.threshold)
    model_store.save(directory, results)
    return results


def log_seeds(results: SeedResults, params: Params, data: TrainingData, directory: Path, study: str) -> str:
    """A configuration saved in ``directory``, logged as a parent run with one nested run per seed;
    returns the parent run's id."""
    name, candidate = results.name, results.candidate
    tags = store.run_tags(study, data_md5(params.paths), optimizer=candidate.optimizer.name, study=name)
    with mlflow.start_run(run_name=name, tags=tags) as parent:
        mlflow.log_params({**candidate.flat_params(), "seeds": params.baseline.seeds, "threshold": results.threshold})
        inputs = runs.training_inputs(data, params.paths)
        for trained in results.runs:
            log.info("%s seed %d: %s", name, trained.seed, _brief(trained.val_metrics))
            model_path = directory / f"seed-{trained.seed}.keras"
            runs.log_trained_model(parent.info.run_id, f"{name}-seed-{trained.seed}", trained, model_path, tags, inputs)
        mlflow.log_metrics({**results.summary(), "selected_seed": results.selected.seed})
    return parent.info.run_id


def _brief(val_metrics: dict[str, float]) -> str:
    keys = ("log_loss", "roc_auc", "f1", "best_epoch")
    return ", ".join(f"val_{k}={val_metrics[k]:.4g}" for k in keys)
