"""A network study's objective: train the trial's candidate, prune on validation loss, keep its record."""

from __future__ import annotations

import time
from collections.abc import Callable

import optuna

from pipeline.config import BaselineConfig, OptimizeConfig
from pipeline.model.config import Candidate
from pipeline.training.engine import TrainingDivergedError
from pipeline.training.job import TrainingData, train
from pipeline.tuning import spaces
from pipeline.tuning.plan import StudyPlan
from pipeline.tuning.records import Curves, TrialRecord
from pipeline.tuning.sampler import drawn_position
from pipeline.tuning.tickets import OverBudgetError, is_ticket

Objective = Callable[[optuna.Trial], float]


def make_objective(
    plan: StudyPlan, opt: OptimizeConfig, baseline: BaselineConfig, data: TrainingData, worker: int = 0
) -> Objective:
    """Validation log loss of the trial's candidate; the trial records what it trained, where it stands
    in the budget, its worker, its curves (also when pruned), its time and its validation metrics."""

    def objective(trial: optuna.Trial) -> float:
        if not is_ticket(trial):
            raise OverBudgetError(f"{plan.label}: trial {trial.number} is beyond the budget of {plan.budget}")
        candidate = _candidate(trial, plan, opt, baseline)
        TrialRecord(candidate=candidate, position=drawn_position(trial), worker=worker).write(trial)
        curves = Curves()

        def on_epoch(epoch: int, values: dict[str, float]) -> None:
            curves.train_loss.append(values["train_loss"])
            curves.val_loss.append(values["val_loss"])
            curves.val_roc_auc.append(values["val_roc_auc"])
            trial.report(values["val_loss"], epoch)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at epoch {epoch}")

        started = time.perf_counter()
        try:
            trained = train(candidate, data, opt.seed, baseline.threshold, on_epoch=on_epoch)
        except TrainingDivergedError as err:  # a hopeless trial, like a pruned one
            TrialRecord(diverged=str(err)).write(trial)
            raise optuna.TrialPruned(str(err)) from None
        finally:
            TrialRecord(curves=curves, seconds=time.perf_counter() - started).write(trial)
        TrialRecord(val_metrics=trained.val_metrics).write(trial)
        return trained.val_metrics["log_loss"]

    return objective


def _candidate(trial: optuna.Trial, plan: StudyPlan, opt: OptimizeConfig, baseline: BaselineConfig) -> Candidate:
    if plan.kind == "comparison":
        return spaces.comparison_candidate(trial, plan.label, baseline.candidate, opt)
    return spaces.search_candidate(trial, opt.search, baseline.candidate, opt)
