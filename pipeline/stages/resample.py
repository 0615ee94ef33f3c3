"""``resample``: the final comparison, on repeated folds of the development data only.

Refits the baseline, every tuned candidate and the briefs' recipes (each as its seed ensemble) and
the tuned references on ``resample.repeats`` x ``resample.folds`` stratified folds of train +
validation (never test), compares each with the baseline (corrected resampled t-test with Holm's
adjustment, correlated Bayesian t-test), and lets gate v2 name the champion that ``evaluate``
registers. One nested MLflow run per fold.
"""

from __future__ import annotations

import logging

import mlflow
import numpy as np
import pandas as pd

from pipeline import parallel
from pipeline.config import Params
from pipeline.data.prepared import data_md5, read_split
from pipeline.data.schema import DataSchema
from pipeline.evaluation import reference
from pipeline.evaluation.summary import GateSummary
from pipeline.io import write_atomic, write_csv, write_json
from pipeline.metric_registry import RESAMPLED
from pipeline.resampling import comparison, verdict
from pipeline.resampling.folds import make_folds
from pipeline.segmentation import campaign
from pipeline.tracking import runs, store
from pipeline.training import store as model_store

log = logging.getLogger(__name__)


def run(params: Params) -> None:
    paths, cfg, seg = params.paths, params.resample, params.segment
    schema = DataSchema.from_yaml(paths.schema_file)
    dev = pd.concat([read_split(paths, "train"), read_split(paths, "validation")], ignore_index=True)
    candidates = {
        c.name: c.candidate for c in model_store.load_all(paths.models, ("baseline", "recipes", "candidates"))
    }

    def contact_value(frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        return campaign.net_value(y, seg.monthly_value(frame[seg.value_column]), seg.campaign, seg.horizon_months)

    folds = make_folds(dev[schema.target.column].to_numpy(), cfg.repeats, cfg.folds, cfg.tune_fraction, cfg.seed)
    data = [comparison.fold_data(dev, schema, fold, contact_value) for fold in folds]
    log.info("resampling %d models on %d folds of %d development rows", len(candidates) + 3, len(folds), len(dev))
    processes = parallel.workers(params.parallel.workers)
    tuned = reference.load_tuned(paths.tuned_references)
    seed = params.references.seed  # the random_state the references were tuned with
    scores = comparison.score_folds(folds, data, candidates, tuned, cfg, params.evaluate, seed, processes)
    comparisons = verdict.versus_baseline(scores, cfg)
    bayes = verdict.posteriors(scores, cfg.gate)
    decision, standings = verdict.choose_champion(scores, comparisons, bayes, cfg)
    summary = verdict.document(scores, comparisons, bayes, decision, standings, cfg)
    log.info("gate: %s", decision.reason)

    out = paths.reports / "resample"
    write_atomic(out / "folds.csv", lambda tmp: scores.to_csv(tmp, index=False))
    write_atomic(out / "comparison.json", summary.write)
    for metric in ("log_loss", "roc_auc"):
        table = verdict.paired(scores, metric).reset_index().rename(columns={"index": "fold"})
        write_csv(paths.plots / "resample" / f"{metric}.csv", table)
    run_id = _log(params, scores, summary, data_md5(paths))
    write_json(paths.training_runs("resample"), {"resample": run_id})  # evaluate links its run to this one
    write_json(paths.headline("resample"), verdict.headline(summary))


def _log(params: Params, scores: pd.DataFrame, summary: GateSummary, md5: str) -> str:
    """A parent run with the decision and the tables, one nested run per fold with every model's
    metrics; returns the parent's id."""
    store.configure(params.tracking.experiment)
    tags = store.run_tags("resample", md5)
    with mlflow.start_run(run_name="resample", tags=tags) as parent:
        cfg = params.resample
        design = {"repeats": cfg.repeats, "folds": cfg.folds, "seeds_per_fold": cfg.seeds_per_fold,
                  "tune_fraction": cfg.tune_fraction}  # fmt: skip
        mlflow.log_params(design | {f"gate.{k}": v for k, v in cfg.gate.model_dump().items()})
        mlflow.log_params({"champion": summary.champion, "gate_route": summary.route})
        mlflow.set_tag("gate_reason", summary.reason)
        mlflow.log_metrics(verdict.flat_metrics(summary))
        out = params.paths.reports / "resample"
        mlflow.log_artifact(str(out / "folds.csv"))
        mlflow.log_artifact(str(out / "comparison.json"))
        for index, fold in scores.groupby("index"):
            repeat, number = int(fold["repeat"].iloc[0]), int(fold["fold"].iloc[0])
            run_id = runs.start_child(parent.info.run_id, f"resample-r{repeat}-f{number}", {**tags, "fold": str(index)})
            values = {f"{row.model}/{m}": getattr(row, m) for row in fold.itertuples() for m in (*RESAMPLED, "value")}
            runs.log_values(run_id, params={"repeat": repeat, "fold": number}, metrics=values)
            runs.finish(run_id)
    return parent.info.run_id
