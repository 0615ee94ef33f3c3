"""``train``: one model with a chosen optimizer and hyperparameters, logged like a trial.

For trying one idea from the command line (or ``mlflow run . -e train -P ...``) without a
study. Starts from the baseline network and recipe in ``params.yaml``; the options replace
what they name. Reads only the train and validation splits.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path
from typing import get_args

import mlflow

from pipeline.config import Params
from pipeline.data.prepared import data_md5
from pipeline.model.config import Candidate, Imbalance
from pipeline.model.optimizers import REGISTRY, OptimizerConfig
from pipeline.tracking import runs, store
from pipeline.training.job import load_training_data, train

log = logging.getLogger(__name__)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--optimizer", choices=sorted(REGISTRY), default="sgd")
    parser.add_argument("--lr", type=float, help="learning rate (default: the baseline's)")
    parser.add_argument(
        "--hyperparameters", default="{}", help="other optimizer settings as JSON, e.g. '{\"beta_1\": 0.85}'"
    )
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--hidden-units", help="comma-separated units per hidden layer, e.g. 32,16")
    parser.add_argument("--dropout", type=float)
    parser.add_argument("--patience", type=int, help="early-stopping patience (default or 0: none)")
    parser.add_argument("--imbalance", choices=list(get_args(Imbalance)))
    parser.add_argument("--seed", type=int, default=0)


def run(params: Params, *, seed: int, **options: object) -> None:
    """``seed``: ``--seed``; ``options``: the other options, as ``candidate_from_options`` takes them."""
    candidate = candidate_from_options(params.baseline.candidate, options)
    data = load_training_data(params.paths)
    store.configure(params.tracking.experiment)
    name = f"train-{candidate.optimizer.name}"
    tags = store.run_tags("train", data_md5(params.paths), optimizer=candidate.optimizer.name, seed=seed, study="train")
    trained = train(candidate, data, seed, params.baseline.threshold)
    with mlflow.start_run(run_name=name, tags=tags) as active, tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        trained.save(path)
        runs.record_trained_model(active.info.run_id, name, trained, path, runs.training_inputs(data, params.paths))
    m = trained.val_metrics
    log.info("%s: val_log_loss %.4f, val_roc_auc %.4f, best epoch %d (run %s)", name, m["log_loss"], m["roc_auc"],
             m["best_epoch"], active.info.run_id)  # fmt: skip


def candidate_from_options(base: Candidate, options: dict[str, object]) -> Candidate:
    """The baseline candidate with the options that were given replacing its settings."""
    hyperparameters = json.loads(str(options.get("hyperparameters") or "{}"))
    name = str(options.get("optimizer") or base.optimizer.name)
    lr = options.get("lr")
    hyperparameters["learning_rate"] = lr if lr is not None else base.optimizer.hyperparameters["learning_rate"]
    model = base.model.model_dump()
    if options.get("hidden_units"):
        model["hidden_units"] = [int(u) for u in str(options["hidden_units"]).split(",")]
    if options.get("dropout") is not None:
        model["dropout"] = options["dropout"]
    training = base.training.model_dump()
    for option, key in (("epochs", "epochs"), ("batch_size", "batch_size"), ("imbalance", "imbalance")):
        if options.get(option) is not None:
            training[key] = options[option]
    if options.get("patience") is not None:
        training["early_stopping_patience"] = options["patience"] or None
    return Candidate.model_validate(
        {"model": model, "optimizer": OptimizerConfig(name=name, hyperparameters=hyperparameters), "training": training}
    )
