"""Logging a finished Optuna study to MLflow: a parent run, one nested run per trial."""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Mapping

import numpy as np
import optuna
from matplotlib.figure import Figure
from optuna.trial import FrozenTrial, TrialState

from pipeline.tracking import runs
from pipeline.training.engine import History
from pipeline.tuning.plan import StudyPlan, trial_name
from pipeline.tuning.records import TrialRecord, best_candidate, position
from pipeline.tuning.tickets import budget_trials

log = logging.getLogger(__name__)


def trial_history(record: TrialRecord) -> History:
    curves = record.curves
    return History(
        train_loss=curves.train_loss,
        val_loss=curves.val_loss,
        val_roc_auc=curves.val_roc_auc,
        best_epoch=int(np.argmin(curves.val_loss)) + 1 if curves.val_loss else 0,
    )


def log_study(
    plan: StudyPlan, study: optuna.Study, parent_run_id: str, tags: Mapping[str, str], inputs: runs.TrainingInputs
) -> str:
    """A run for the study, nested under ``parent_run_id``, holding its trials and Optuna's figures."""
    study_tags = {**tags, "study": plan.kind, "optuna_study": plan.name}
    if plan.optimizer:
        study_tags["optimizer"] = plan.optimizer
    run_id = runs.start_child(parent_run_id, plan.label if plan.kind == "comparison" else "full-search", study_tags)
    trials = sorted(budget_trials(study), key=position)
    for trial in trials:
        _log_trial(plan, trial, run_id, study_tags, inputs)
    best = study.best_trial
    pruned = sum(t.state == TrialState.PRUNED for t in trials)
    runs.log_values(
        run_id,
        params={f"best.{k}": v for k, v in best_candidate(study).flat_params().items()} | {"budget": plan.budget},
        metrics={
            "best_val_loss": study.best_value,
            "best_trial": position(best),
            "trials": len(trials),
            "pruned": pruned,
        },
    )
    _log_optuna_figures(study, run_id)
    return run_id


def _log_trial(
    plan: StudyPlan, trial: FrozenTrial, parent_run_id: str, tags: Mapping[str, str], inputs: runs.TrainingInputs
) -> None:
    record = TrialRecord.of(trial)
    candidate = record.candidate
    if candidate is None:
        raise ValueError(f"{plan.label}: trial {trial.number} records no candidate")
    name = trial_name(plan, position(trial))
    trial_tags = {
        **tags,
        "optimizer": candidate.optimizer.name,
        "trial": str(position(trial)),
        "optuna_trial": str(trial.number),
        "state": trial.state.name,
        "worker": "" if record.worker is None else str(record.worker),
    }
    if record.diverged is not None:
        trial_tags["diverged"] = record.diverged
    start = int(trial.datetime_start.timestamp() * 1000) if trial.datetime_start else None
    end = int(trial.datetime_complete.timestamp() * 1000) if trial.datetime_complete else None
    run_id = runs.start_child(parent_run_id, name, trial_tags, start_ms=start)
    inputs.log(run_id)
    history = trial_history(record)
    final = {f"val_{k}": v for k, v in record.val_metrics.items()}
    if trial.value is not None:
        final["objective_val_loss"] = trial.value
    runs.log_values(run_id, params=candidate.flat_params(), metrics=final, dataset=inputs.validation)
    runs.log_values(run_id, metrics={"seconds": record.seconds}, history=history)
    if history.epochs_run:
        runs.log_loss_curve(run_id, history, f"{name} ({trial.state.name.lower()})")
    runs.finish(run_id, end_ms=end)


def _log_optuna_figures(study: optuna.Study, run_id: str) -> None:
    for artifact, fig in study_figures(study).items():
        runs.log_figure(run_id, fig, f"optuna/{artifact}")


def study_figures(study: optuna.Study) -> dict[str, Figure]:
    """Optuna's history, importance and parallel-coordinate plots of a study. Both parameter plots get
    the parameters in sorted order: left to itself, the importance plot collects them in a set, whose
    order (and so the order of tied importances) changes with Python's per-process string hashing."""
    from optuna.visualization import matplotlib as ovm

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    params = sorted({name for trial in complete for name in trial.params})
    plots = {"optimization_history.png": ovm.plot_optimization_history}
    if len(complete) >= 2:
        plots["param_importances.png"] = functools.partial(ovm.plot_param_importances, params=params)
        plots["parallel_coordinate.png"] = functools.partial(ovm.plot_parallel_coordinate, params=params)
    drawn = {}
    for artifact, plot in plots.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            # small studies leave some parameter regions with one trial; Optuna says so for each
            warnings.filterwarnings("ignore", message="Some regimes for parameter")
            warnings.filterwarnings("ignore", message="Attempting to set identical low and high ylims")
            axes = plot(study)
        fig = (axes.flat[0] if isinstance(axes, np.ndarray) else axes).get_figure(root=True)
        assert isinstance(fig, Figure)  # an Axes' root figure is a Figure, never a SubFigure
        fig.set_size_inches(8, 5)
        fig.tight_layout()
        drawn[artifact] = fig
    return drawn
