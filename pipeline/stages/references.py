"""``references``: the reference models tuned like the networks, on validation data only.

Each reference (logistic regression, gradient boosting) gets its own Optuna study in the network
studies' storage (``pipeline/tuning/references.py``): fit on the train split, scored by validation
log loss, the test split never read. The two studies run as two units on ``parallel.workers``
processes; the stage then logs them to MLflow (a parent run, a nested run per study holding one per
trial) and writes each reference's tuned hyperparameters to ``models/references/<name>.json``, which
``resample`` and ``evaluate`` refit the references with.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping

import mlflow
import optuna

from pipeline import parallel
from pipeline.config import Params
from pipeline.data.prepared import data_md5
from pipeline.evaluation.reference import DEFAULTS, TunedReference, tuned_file
from pipeline.features.encoded import Split
from pipeline.io import write_json
from pipeline.tracking import runs, store
from pipeline.tracking.studies import study_figures
from pipeline.training.job import TrainingData, load_training_data
from pipeline.tuning import references
from pipeline.tuning.records import TrialRecord, position
from pipeline.tuning.references import ReferencePlan
from pipeline.tuning.storage import open_storage
from pipeline.tuning.tickets import Tally, budget_trials

log = logging.getLogger(__name__)
STAGE = "references"


def run(params: Params) -> None:
    paths, cfg = params.paths, params.references
    data = load_training_data(paths)
    md5 = data_md5(paths)
    plans = references.plan_studies(cfg, md5)
    storage = open_storage(params.optimize, paths.studies)  # created here, not by two units at once
    finished = {plan.label: references.open_study(plan, storage, cfg.sampler_seed) for plan in plans}
    units = [functools.partial(_study, plan, params, data.train, data.validation) for plan in plans]
    results = parallel.run_all(units, parallel.workers(params.parallel.workers), costs=[p.budget for p in plans])
    tuned = {plan.label: result for plan, result in zip(plans, results, strict=True)}
    untuned = {
        label: references.fit_and_score(label, DEFAULTS[label], cfg.seed, data.train, data.validation)
        for label in tuned
    }

    store.configure(params.tracking.experiment)
    _log_all(plans, finished, untuned, params, data, store.run_tags(STAGE, md5))
    for label, record in tuned.items():
        write_json(tuned_file(paths.tuned_references, label), record.as_dict())
    write_json(paths.summary(STAGE), _summary(tuned, untuned))
    write_json(paths.headline(STAGE), {label: _scores(record) for label, record in tuned.items()})


def progress(params: Params) -> str:
    """What an interrupted ``references`` keeps: the finished trials, in the Optuna storage."""
    storage = open_storage(params.optimize, params.paths.studies)
    plans = references.plan_studies(params.references, data_md5(params.paths))
    found = [references.open_study(plan, storage, params.references.sampler_seed) for plan in plans]
    done = sum(Tally.of(study).finished for study in found)
    return f"{done} of {sum(p.budget for p in plans)} reference trials are finished and kept in the studies"


def _study(plan: ReferencePlan, params: Params, train: Split, validation: Split) -> TunedReference:
    """One unit, in any process: the study's remaining trials, then its best trial."""
    storage = open_storage(params.optimize, params.paths.studies)
    study = references.open_study(plan, storage, params.references.sampler_seed)
    ran = references.run_study(plan, study, references.make_objective(plan.label, params.references, train, validation))
    result = references.tuned(plan, study)
    log.info("%s: %d trials (%d run now), best val_log_loss %.4f, val_roc_auc %.4f (trial %d)", plan.label,
             result.trials, ran, result.val_log_loss, result.val_roc_auc, result.best_trial)  # fmt: skip
    return result


def _scores(record: TunedReference) -> dict[str, float]:
    return {"val_log_loss": record.val_log_loss, "val_roc_auc": record.val_roc_auc}


def _summary(
    tuned: Mapping[str, TunedReference], untuned: Mapping[str, references.Scores]
) -> dict[str, dict[str, object]]:
    """Per reference: its tuned result, and the library defaults on the same split for comparison."""
    return {name: {**record.as_dict(), "defaults": _defaults(name, untuned[name])} for name, record in tuned.items()}


def _defaults(label: str, scores: references.Scores) -> dict[str, object]:
    return {"hyperparameters": DEFAULTS[label], "val_log_loss": scores.log_loss, "val_roc_auc": scores.roc_auc}


def _log_all(
    plans: list[ReferencePlan],
    finished: Mapping[str, optuna.Study],
    untuned: Mapping[str, references.Scores],
    params: Params,
    data: TrainingData,
    tags: dict[str, str],
) -> None:
    """The ``references`` parent run, one nested run per study, and in it one per trial."""
    cfg = params.references
    inputs = runs.training_inputs(data, params.paths)
    with mlflow.start_run(run_name=STAGE, tags={**tags, "study": STAGE}) as parent:
        budgets = {f"{plan.label}.trials": plan.budget for plan in plans}
        mlflow.log_params({"seed": cfg.seed, "sampler_seed": cfg.sampler_seed, **budgets})
        for plan in plans:
            _log_study(plan, finished[plan.label], untuned[plan.label], parent.info.run_id, tags, inputs)


def _log_study(
    plan: ReferencePlan,
    study: optuna.Study,
    untuned: references.Scores,
    parent_run_id: str,
    tags: Mapping[str, str],
    inputs: runs.TrainingInputs,
) -> None:
    study_tags = {**tags, "study": STAGE, "reference": plan.label, "optuna_study": plan.name}
    run_id = runs.start_child(parent_run_id, plan.label, study_tags)
    trials = sorted(budget_trials(study), key=position)
    for trial in trials:
        _log_trial(plan, trial, run_id, study_tags, inputs)
    best = references.tuned(plan, study)
    runs.log_values(
        run_id,
        params={f"best.{k}": v for k, v in best.hyperparameters.items()} | {"budget": plan.budget},
        metrics={"best_val_log_loss": best.val_log_loss, "best_val_roc_auc": best.val_roc_auc,
                 "best_trial": best.best_trial, "trials": len(trials),
                 "defaults_val_log_loss": untuned.log_loss, "defaults_val_roc_auc": untuned.roc_auc},
    )  # fmt: skip
    for artifact, fig in study_figures(study).items():
        runs.log_figure(run_id, fig, f"optuna/{artifact}")
    runs.finish(run_id)


def _log_trial(
    plan: ReferencePlan,
    trial: optuna.trial.FrozenTrial,
    parent_run_id: str,
    tags: Mapping[str, str],
    inputs: runs.TrainingInputs,
) -> None:
    place = position(trial)
    record = TrialRecord.of(trial)
    trial_tags = {**tags, "trial": str(place), "optuna_trial": str(trial.number), "state": trial.state.name}
    start = int(trial.datetime_start.timestamp() * 1000) if trial.datetime_start else None
    end = int(trial.datetime_complete.timestamp() * 1000) if trial.datetime_complete else None
    run_id = runs.start_child(parent_run_id, f"{plan.label}-trial-{place:02d}", trial_tags, start_ms=start)
    inputs.log(run_id)
    scores = {f"val_{k}": v for k, v in record.val_metrics.items()}
    runs.log_values(run_id, params=trial.params, metrics=scores, dataset=inputs.validation)
    runs.log_values(run_id, metrics={"seconds": record.seconds})
    runs.finish(run_id, end_ms=end)
