"""``baseline``: the existing, unoptimized network, trained over several seeds.

Reads only the train and validation splits. Writes the models, their validation
metrics across seeds (DVC metrics) and the loss curves (DVC plots), and logs a
parent MLflow run ``baseline`` with one nested run per seed.
"""

from __future__ import annotations

import logging

import mlflow

from pipeline.config import Params
from pipeline.data.prepared import data_md5
from pipeline.io import write_json
from pipeline.tracking import runs, store
from pipeline.training import store as model_store
from pipeline.training.curves import write_curves
from pipeline.training.job import load_training_data
from pipeline.training.seeds import train_over_seeds

log = logging.getLogger(__name__)


def run(params: Params) -> None:
    paths, cfg = params.paths, params.baseline
    data = load_training_data(paths)
    md5 = data_md5(paths)
    directory = paths.models / "baseline"

    store.configure(params.tracking.experiment)
    tags = store.run_tags("baseline", md5, optimizer=cfg.candidate.optimizer.name, study="baseline")
    with mlflow.start_run(run_name="baseline", tags=tags) as parent:
        mlflow.log_params({**cfg.candidate.flat_params(), "seeds": cfg.seeds, "threshold": cfg.threshold})
        results = train_over_seeds("baseline", cfg.candidate, data, cfg.seeds, cfg.threshold)
        model_store.save(directory, results)
        write_json(paths.training_runs("baseline"), {"baseline": parent.info.run_id})
        for trained in results.runs:
            log.info("baseline seed %d: %s", trained.seed, _brief(trained.val_metrics))
            runs.log_trained_model(
                parent.info.run_id,
                f"baseline-seed-{trained.seed}",
                trained,
                directory / f"seed-{trained.seed}.keras",
                tags,
            )
            write_curves(paths.plots / "baseline" / f"seed-{trained.seed}.csv", trained.history)
        summary = results.summary()
        mlflow.log_metrics({**summary, "selected_seed": results.selected.seed})

    write_json(paths.metrics / "baseline.json", {"selected_seed": results.selected.seed, **summary})


def _brief(val_metrics: dict[str, float]) -> str:
    keys = ("log_loss", "roc_auc", "f1", "best_epoch")
    return ", ".join(f"val_{k}={val_metrics[k]:.4g}" for k in keys)
