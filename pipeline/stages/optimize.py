"""``optimize``: the fair optimizer comparison and the full search, on validation data only.

Coordinates the studies: queues each study's budget as tickets, runs each study and retrains its
best configuration over the baseline's seeds as one unit on ``parallel.workers`` processes (or lets
``optimize.workers`` processes share all studies' trials: team mode), then logs every trial and
retrained seed to MLflow in the studies' order and writes the candidates.
"""

from __future__ import annotations

import functools
import logging
import subprocess
import sys
import time

import mlflow
import optuna

from pipeline import figures, parallel
from pipeline.config import OptimizeConfig, Params
from pipeline.data.prepared import data_md5
from pipeline.io import write_json
from pipeline.tracking import runs, store
from pipeline.tracking.studies import log_study
from pipeline.training import store as model_store
from pipeline.training.curves import write_curves
from pipeline.training.job import TrainingData, load_training_data
from pipeline.training.seeds import SeedResults, train_over_seeds
from pipeline.tuning.plan import StudyPlan, plan_studies
from pipeline.tuning.records import best_candidate, position
from pipeline.tuning.sampler import open_study
from pipeline.tuning.storage import open_storage
from pipeline.tuning.tickets import Tally, budget_trials, issue_tickets
from pipeline.tuning.worker import work

log = logging.getLogger(__name__)


def run(params: Params) -> None:
    paths = params.paths
    data = load_training_data(paths)
    md5 = data_md5(paths)
    plans = plan_studies(params.optimize, params.baseline.candidate, md5)
    storage = open_storage(params.optimize, paths.studies)
    _queue_tickets(plans, storage, params.optimize)
    results = _run_studies(plans, params, data)
    finished = {plan.label: open_study(plan, storage, params.optimize) for plan in plans}

    store.configure(params.tracking.experiment)
    trained_by = _log_all(plans, finished, results, params, data, store.run_tags("optimize", md5))
    summary = _report(results, finished)
    write_json(paths.summary("optimize"), summary)
    headline = {"val_log_loss_mean": {label: study["val_log_loss_mean"] for label, study in summary.items()}}
    write_json(paths.headline("optimize"), headline)
    write_json(paths.training_runs("optimize"), trained_by)


def progress(params: Params) -> str:
    """What an interrupted ``optimize`` keeps: the finished trials, in the Optuna storage."""
    storage = open_storage(params.optimize, params.paths.studies)
    plans = plan_studies(params.optimize, params.baseline.candidate, data_md5(params.paths))
    done = sum(Tally.of(open_study(plan, storage, params.optimize)).finished for plan in plans)
    return f"{done} of {sum(p.budget for p in plans)} trials are finished and kept in the studies"


def _queue_tickets(plans: list[StudyPlan], storage: optuna.storages.RDBStorage, opt: OptimizeConfig) -> None:
    """Queue each study's remaining budget as tickets, which any worker may take."""
    for plan in plans:
        queued = issue_tickets(open_study(plan, storage, opt), plan.budget)
        log.info("study %s (%s): %d of %d trials to run", plan.label, plan.name, queued, plan.budget)


def _run_studies(plans: list[StudyPlan], params: Params, data: TrainingData) -> dict[str, SeedResults]:
    """Each study's trials, then its best configuration retrained over the baseline's seeds; returns the
    retrained results by label. A study is one unit of ``parallel.workers`` (its trials in order, in one
    process, exactly as alone), unless ``optimize.workers`` processes share every study's trials."""
    shared = params.optimize.workers != 1
    started = time.monotonic()
    if shared:
        _run_worker_processes(params.optimize.workers or parallel.cores(), params)
    units = [functools.partial(_study, plan, params, data, plans, run_trials=not shared) for plan in plans]
    processes = parallel.workers(params.parallel.workers)
    results = parallel.run_all(units, processes, costs=[plan.budget for plan in plans])
    log.info("studies and retraining finished in %.0f s with %d process(es)", time.monotonic() - started, processes)
    return {plan.label: result for plan, result in zip(plans, results, strict=True)}


def _study(
    plan: StudyPlan, params: Params, data: TrainingData, plans: list[StudyPlan], run_trials: bool
) -> SeedResults:
    """One unit, in any process: the study's remaining trials (this process its only worker, worker 0),
    a check that it finished exactly its budget, and its best configuration over the baseline's seeds
    (one packed training), saved as the study's candidate."""
    storage = open_storage(params.optimize, params.paths.studies)
    if run_trials:
        work([plan], storage, params.optimize, params.baseline, data, progress_over=plans)
    study = open_study(plan, storage, params.optimize)
    done = Tally.of(study).finished
    if done != plan.budget:
        raise RuntimeError(f"study {plan.name} finished {done} trials, its budget is {plan.budget}")
    seeds, threshold = params.baseline.seeds, params.baseline.threshold
    result = train_over_seeds(plan.label, best_candidate(study), data, seeds, threshold)
    extra = {"study": plan.name, "best_trial": position(study.best_trial)}
    model_store.save(params.paths.models / "candidates" / plan.label, result, extra)  # where Keras numbers its objects
    return result


def _log_all(
    plans: list[StudyPlan],
    finished: dict[str, optuna.Study],
    results: dict[str, SeedResults],
    params: Params,
    data: TrainingData,
    tags: dict[str, str],
) -> dict[str, str]:
    """The comparison's studies under one parent run (with its figures), the full search under another,
    in the plans' order; returns each study's MLflow run, by label."""
    opt = params.optimize
    trained_by: dict[str, str] = {}
    comparison_results = {p.label: results[p.label] for p in plans if p.kind == "comparison"}
    with mlflow.start_run(run_name="optimizer-comparison", tags={**tags, "study": "comparison"}) as comparison:
        mlflow.log_params({"trials_per_optimizer": opt.comparison.trials_per_optimizer, "seeds": params.baseline.seeds})
        for plan in plans:
            if plan.kind == "comparison":
                trained_by[plan.label] = _log_study_and_seeds(
                    plan, finished[plan.label], results[plan.label], comparison.info.run_id, params, data, tags
                )
        _log_comparison_figures(comparison_results)
    with mlflow.start_run(run_name="full-search-study", tags={**tags, "study": "search"}) as search:
        mlflow.log_params({"trials": opt.search.trials, "seeds": params.baseline.seeds})
        [plan] = [p for p in plans if p.kind == "search"]
        trained_by[plan.label] = _log_study_and_seeds(
            plan, finished[plan.label], results[plan.label], search.info.run_id, params, data, tags
        )
    return trained_by


def _report(results: dict[str, SeedResults], finished: dict[str, optuna.Study]) -> dict[str, dict[str, object]]:
    """Per study: the retrained results over seeds, and how its trials went."""
    report: dict[str, dict[str, object]] = {}
    for label, result in results.items():
        study = finished[label]
        trials = budget_trials(study)
        report[label] = {
            **result.summary(),
            "selected_seed": result.selected.seed,
            "trials": len(trials),
            "pruned": sum(t.state.name == "PRUNED" for t in trials),
            "best_trial": position(study.best_trial),
            "best_trial_val_loss": study.best_value,
        }
    return report


def _log_study_and_seeds(
    plan: StudyPlan,
    study: optuna.Study,
    result: SeedResults,
    parent_run_id: str,
    params: Params,
    data: TrainingData,
    tags: dict[str, str],
) -> str:
    """Log the study and its retrained seeds (saved by the unit); returns the study's MLflow run."""
    inputs = runs.training_inputs(data, params.paths)
    study_run = log_study(plan, study, parent_run_id, tags, inputs)
    directory = params.paths.models / "candidates" / plan.label
    seed_tags = {**tags, "study": plan.kind, "optimizer": result.candidate.optimizer.name, "kind": "retrain"}
    for trained in result.runs:
        path = directory / f"seed-{trained.seed}.keras"
        runs.log_trained_model(study_run, f"{plan.label}-seed-{trained.seed}", trained, path, seed_tags, inputs)
    write_curves(params.paths.plots / "optimize" / f"{plan.label}.csv", result.selected.history)
    _log_seed_summary(study_run, plan.label, result, len(params.baseline.seeds))
    runs.finish(study_run)
    return study_run


def _log_seed_summary(run_id: str, label: str, result: SeedResults, seeds: int) -> None:
    """The retrained configuration's spread over seeds, on its study run and in the log."""
    summary = result.summary()
    runs.log_values(run_id, metrics={**summary, "selected_seed": result.selected.seed})
    log.info(
        "%s: val_log_loss %.4f ± %.4f, val_roc_auc %.4f ± %.4f over %d seeds",
        label,
        summary["val_log_loss_mean"],
        summary["val_log_loss_std"],
        summary["val_roc_auc_mean"],
        summary["val_roc_auc_std"],
        seeds,
    )


def _log_comparison_figures(results: dict[str, SeedResults]) -> None:
    run_id = runs.active_run_id()
    curves = {label: [r.history.val_loss for r in result.runs] for label, result in results.items()}
    runs.log_figure(run_id, figures.convergence(curves, "Convergence of each tuned optimizer"), "convergence.png")
    for metric in ("roc_auc", "log_loss"):
        values = {label: [r.val_metrics[metric] for r in result.runs] for label, result in results.items()}
        title = f"Validation {metric.replace('_', ' ')} over seeds, per optimizer"
        runs.log_figure(run_id, figures.seed_spread(values, f"validation {metric}", title), f"seeds_{metric}.png")


def _run_worker_processes(workers: int, params: Params) -> None:
    """Start ``workers`` processes of ``python -m pipeline optimize-worker`` and wait for all
    (each uses one thread: ``pipeline.numerics``)."""
    argv = [sys.executable, "-m", "pipeline", "--params", str(params.source), "optimize-worker"]
    procs = [subprocess.Popen([*argv, "--worker", str(k)]) for k in range(workers)]
    try:
        codes = [p.wait() for p in procs]
    except BaseException:
        for p in procs:
            p.terminate()
        raise
    failed = [k for k, code in enumerate(codes) if code != 0]
    if failed:
        raise RuntimeError(f"optimize worker(s) {failed} failed with exit codes {[codes[k] for k in failed]}")
