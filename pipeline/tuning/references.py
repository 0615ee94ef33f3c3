"""The reference models' studies: search spaces, the objective, and running a study to its budget.

Each reference (``pipeline.evaluation.reference``) is tuned by its own Optuna study with the network
studies' protocol: a trial fits on the train split and is scored by its log loss on validation (the
test split is not part of the data given here). The studies use the network studies' machinery
(``pipeline.tuning``): one ticket per trial of the budget (``tickets``), the position-seeded TPE
sampler (``sampler``), and the same storage, so an interrupted study resumes with its finished trials and ends with the
same trials as one never interrupted. Nothing here reads or writes files or logs to MLflow.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import optuna
from optuna.storages import RDBStorage
from optuna.trial import TrialState

from pipeline.config import GradientBoostingSpace, LogisticRegressionSpace, ReferencesConfig, ReferenceStudyConfig
from pipeline.evaluation import metrics
from pipeline.evaluation.reference import NAMES, Hyperparameter, TunedReference, build
from pipeline.evaluation.reference import probabilities as reference_probabilities
from pipeline.features.encoded import Split
from pipeline.tuning.records import TrialRecord, position
from pipeline.tuning.sampler import PositionSeededSampler, drawn_position
from pipeline.tuning.tickets import OverBudgetError, Tally, fail_stale_trials, is_ticket, issue_tickets

log = logging.getLogger(__name__)
STALE_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class ReferencePlan:
    """One reference's study."""

    label: str  # the reference's name: "logistic_regression" or "gradient_boosting"
    budget: int
    startup_trials: int
    name: str  # the Optuna study name: "reference-<label>-" and a hash of everything that defines the study


def space(cfg: ReferencesConfig, label: str) -> ReferenceStudyConfig:
    """The section of ``references`` that defines ``label``'s study."""
    if label not in NAMES:
        raise ValueError(f"unknown reference model {label!r}; known: {', '.join(NAMES)}")
    return getattr(cfg, label)


def plan_studies(cfg: ReferencesConfig, data_md5: str) -> list[ReferencePlan]:
    """One study per reference, in ``NAMES``' order. A change to what defines a study (its space, budget,
    seeds, the data) gives it a new name, so a rerun resumes only an identical study."""
    plans = []
    for label in NAMES:
        section = space(cfg, label)
        definition = {
            "data_md5": data_md5,
            "seed": cfg.seed,
            "sampler_seed": cfg.sampler_seed,
            "label": label,
            "space": section.model_dump(),
        }
        digest = hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()[:10]
        plans.append(ReferencePlan(label, section.trials, section.startup_trials, f"reference-{label}-{digest}"))
    return plans


def suggest(trial: optuna.Trial, name: str, cfg: ReferencesConfig) -> dict[str, Hyperparameter]:
    """The trial's hyperparameters for reference ``name``, as ``build`` takes them."""
    section = space(cfg, name)
    if isinstance(section, GradientBoostingSpace):
        return _boosting(trial, section)
    assert isinstance(section, LogisticRegressionSpace)
    return _logistic(trial, section)


def _logistic(trial: optuna.Trial, s: LogisticRegressionSpace) -> dict[str, Hyperparameter]:
    return {
        "C": trial.suggest_float("C", *s.C, log=True),
        "penalty": trial.suggest_categorical("penalty", s.penalty),
        "class_weight": trial.suggest_categorical("class_weight", s.class_weight),
    }


def _boosting(trial: optuna.Trial, s: GradientBoostingSpace) -> dict[str, Hyperparameter]:
    return {
        "learning_rate": trial.suggest_float("learning_rate", *s.learning_rate, log=True),
        "max_iter": trial.suggest_int("max_iter", *s.max_iter, log=True),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", *s.max_leaf_nodes, log=True),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", *s.min_samples_leaf, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", *s.l2_regularization, log=True),
        "max_features": trial.suggest_float("max_features", *s.max_features),
    }


@dataclass(frozen=True)
class Scores:
    """A fitted reference on validation."""

    log_loss: float
    roc_auc: float


def fit_and_score(
    name: str, hyperparameters: Mapping[str, Hyperparameter], seed: int, train: Split, validation: Split
) -> Scores:
    """Reference ``name`` fitted on ``train``, scored on ``validation`` (the metrics the networks report)."""
    model = build(name, hyperparameters, seed).fit(train.x, train.y)
    p = reference_probabilities(model, validation.x)
    return Scores(metrics.log_loss(validation.y, p), metrics.roc_auc(validation.y, p))


def make_objective(
    label: str, cfg: ReferencesConfig, train: Split, validation: Split
) -> Callable[[optuna.Trial], float]:
    """Validation log loss of the reference fitted on train with the trial's hyperparameters; the
    trial keeps its position, its validation metrics and its time."""

    def objective(trial: optuna.Trial) -> float:
        if not is_ticket(trial):
            raise OverBudgetError(f"{label}: trial {trial.number} is beyond the study's budget")
        TrialRecord(position=drawn_position(trial)).write(trial)
        started = time.perf_counter()
        scores = fit_and_score(label, suggest(trial, label, cfg), cfg.seed, train, validation)
        seconds = time.perf_counter() - started
        TrialRecord(seconds=seconds, val_metrics={"log_loss": scores.log_loss, "roc_auc": scores.roc_auc}).write(trial)
        return scores.log_loss

    return objective


def open_study(plan: ReferencePlan, storage: RDBStorage, sampler_seed: int) -> optuna.Study:
    """The study in ``storage``, created if new, with the position-seeded TPE sampler of the network studies."""
    sampler = PositionSeededSampler(
        sampler_seed, plan.name, worker=0, n_startup_trials=plan.startup_trials, multivariate=True
    )
    return optuna.create_study(
        study_name=plan.name, storage=storage, sampler=sampler, direction="minimize", load_if_exists=True
    )


def run_study(plan: ReferencePlan, study: optuna.Study, objective: Callable[[optuna.Trial], float]) -> int:
    """Run the study's remaining trials in this process, its only worker; returns how many ran. A trial
    left running by a stopped process is failed after three missed heartbeats and replaced by a ticket."""
    _wait_for_stale(study)
    issue_tickets(study, plan.budget)
    ran = 0
    while Tally.of(study).waiting:
        study.optimize(objective, n_trials=1, catch=(OverBudgetError,), callbacks=[_progress(plan)])
        ran += 1
    done = Tally.of(study).finished
    if done != plan.budget:
        raise RuntimeError(f"study {plan.name} finished {done} trials, its budget is {plan.budget}")
    return ran


def _progress(plan: ReferencePlan) -> Callable[[optuna.Study, optuna.trial.FrozenTrial], None]:
    def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if trial.state == TrialState.COMPLETE:
            done = Tally.of(study).finished
            seconds = TrialRecord.of(trial).seconds
            log.info("%s trial %02d: val_log_loss %.4f in %.1f s | %d/%d", plan.label,
                     position(trial), trial.value, seconds, done, plan.budget)  # fmt: skip

    return callback


def _wait_for_stale(study: optuna.Study) -> None:
    """Until no trial of the study is running: one is only ever that of a killed process (one process
    works a reference study), which the storage's heartbeats fail after their grace period."""
    fail_stale_trials(study)
    if Tally.of(study).running:
        log.info("study %s: waiting for a trial left running by a stopped process to time out", study.study_name)
    while Tally.of(study).running:
        time.sleep(STALE_POLL_SECONDS)
        fail_stale_trials(study)


def tuned(plan: ReferencePlan, study: optuna.Study) -> TunedReference:
    """The study's best trial as the reference's tuned hyperparameters."""
    best = study.best_trial
    return TunedReference(
        name=plan.label,
        hyperparameters=dict(best.params),
        val_log_loss=study.best_value,
        val_roc_auc=float(TrialRecord.of(best).val_metrics["roc_auc"]),
        trials=Tally.of(study).finished,
        best_trial=position(best),
        study=plan.name,
    )
