"""The two studies in shared Optuna storage, and the worker loop that runs their trials.

Exact budgets across workers: before workers start, each study gets one queued
*ticket* (an enqueued trial with no fixed parameters) per trial still to run.
Optuna hands a queued trial to exactly one worker, so workers on any number of
machines run the budget between them, none twice. A trial that is not a ticket (the
queue ran dry between a worker's check and its ask) is failed at once and never
trained. A worker that dies mid-trial stops sending heartbeats; after three missed
beats Optuna fails that trial and we queue a new ticket in its place.

Resuming ends where an uninterrupted run ends: each suggestion is drawn by a sampler
seeded from the study's seed, the trial's *position* (how many trials of the budget had
finished when it started) and the worker, so it depends only on the study's definition
and its finished trials, not on how often the process restarted. A trial that was
interrupted and re-run from a new ticket therefore gets the same suggestion again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import optuna
import sqlalchemy
from optuna.storages import RDBStorage
from optuna.storages import fail_stale_trials as _fail_stale_trials
from optuna.trial import TrialState

from pipeline.config import BaselineConfig, OptimizeConfig
from pipeline.model.config import Candidate
from pipeline.training.engine import TrainingDivergedError
from pipeline.training.job import TrainingData, train
from pipeline.tuning import spaces

log = logging.getLogger(__name__)
optuna.logging.set_verbosity(optuna.logging.WARNING)  # our progress lines say what matters


def _not_an_interruption(record: logging.LogRecord) -> bool:
    """Optuna logs the traceback of a trial stopped by Ctrl-C; the CLI says it in one line instead."""
    return not (record.exc_info and isinstance(record.exc_info[1], KeyboardInterrupt))


logging.getLogger("optuna.study._optimize").addFilter(_not_an_interruption)  # the module that logs it


def fail_stale_trials(study: optuna.Study) -> None:
    with warnings.catch_warnings():  # experimental since Optuna 2.9, and the only API for this
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        _fail_stale_trials(study)


TICKET = "ticket"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass(frozen=True)
class StudyPlan:
    label: str  # "adam", ..., or "search"
    kind: Literal["comparison", "search"]
    budget: int
    name: str  # the Optuna study name: label plus a hash of everything that defines the study

    @property
    def optimizer(self) -> str | None:
        return self.label if self.kind == "comparison" else None


def plan_studies(opt: OptimizeConfig, baseline_candidate: Candidate, data_md5: str) -> list[StudyPlan]:
    """One study per compared optimizer, then the full search. A change to anything that
    defines a study (its space, budget, training recipe, data) gives it a new name, so a
    rerun resumes only an identical study."""
    definition = {
        "data_md5": data_md5,
        "baseline": baseline_candidate.model_dump(),
        "optimize": opt.model_dump(exclude={"workers", "storage", "heartbeat_seconds", "comparison", "search"}),
    }
    plans = [
        _plan(name, "comparison", opt.comparison.trials_per_optimizer, definition, opt.comparison.model_dump())
        for name in opt.comparison.optimizers
    ]
    plans.append(_plan("search", "search", opt.search.trials, definition, opt.search.model_dump()))
    return plans


def _plan(label: str, kind: str, budget: int, definition: dict, space: dict) -> StudyPlan:
    payload = json.dumps({**definition, "label": label, "space": space, "budget": budget}, sort_keys=True)
    digest = hashlib.sha256(payload.encode()).hexdigest()[:10]
    return StudyPlan(label=label, kind=kind, budget=budget, name=f"{label}-{digest}")


def storage_url(opt: OptimizeConfig, studies_dir: Path) -> str:
    """``optimize.storage`` (a shared database in team mode), else SQLite in ``studies_dir``."""
    if opt.storage:
        return opt.storage
    folder = studies_dir.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'optuna.db'}"


def open_storage(opt: OptimizeConfig, studies_dir: Path) -> RDBStorage:
    beat = opt.heartbeat_seconds
    url = storage_url(opt, studies_dir)
    engine_kwargs = {"connect_args": {"timeout": 120}} if url.startswith("sqlite") else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=beat,
            grace_period=3 * beat,
            heartbeat_stale_trial_callback=_replace_with_ticket,
        )
    if url.startswith("sqlite"):
        _serialize_sqlite_transactions(storage.engine)
    return storage


def _replace_with_ticket(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """A dead worker's trial, just failed by exactly one live process: queue a new ticket for it.
    (Optuna's ``RetryHeartbeatStaleTrialCallback`` would re-run its parameters at the end of the
    queue, where they no longer follow from the finished trials before it.)"""
    if TICKET in trial.user_attrs:
        study.enqueue_trial({}, user_attrs={TICKET: True})


def _serialize_sqlite_transactions(engine: sqlalchemy.engine.Engine) -> None:
    """Make every SQLite transaction take the write lock when it begins.

    Optuna hands a queued trial to one worker by reading it ``FOR UPDATE`` and then
    marking it running. SQLite ignores ``FOR UPDATE``, so two processes could both read
    the trial as waiting and both run it. ``BEGIN IMMEDIATE`` closes that window (the
    recipe SQLAlchemy documents for pysqlite); PostgreSQL and MySQL need nothing.
    """

    @sqlalchemy.event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None

    @sqlalchemy.event.listens_for(engine, "begin")
    def _begin_immediate(connection: sqlalchemy.engine.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections opened before the listeners would not have them


class PositionSeededSampler(optuna.samplers.BaseSampler):
    """TPE, drawn afresh for each trial with a seed from the study seed, the trial's position and
    the worker (workers must not draw the same random trials). TPE keeps no state between trials
    but its random generator, so this is TPE with a reproducible generator. With parallel workers
    two trials can start at the same position, so ``by_number`` records Optuna's (unique) trial
    number as the position instead: names stay unique, and parallel studies are not reproducible
    anyway."""

    def __init__(self, seed: int, study_name: str, worker: int, by_number: bool = False, **tpe: object) -> None:
        self.seed, self.study_name, self.worker, self.by_number, self.tpe = seed, study_name, worker, by_number, tpe
        self.positions: dict[int, int] = {}  # trial number -> position, for the objective to record
        self._sampler = self._tpe(0)

    def _tpe(self, position: int) -> optuna.samplers.TPESampler:
        key = f"{self.seed}:{self.study_name}:{position}:{self.worker}".encode()
        seed = int.from_bytes(hashlib.sha256(key).digest()[:4], "big")
        with warnings.catch_warnings():  # multivariate and group are stable in practice, "experimental" in name
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(seed=seed, **self.tpe)

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        position = len(budget_trials(study))
        self.positions[trial.number] = trial.number if self.by_number else position
        self._sampler = self._tpe(position)
        self._sampler.before_trial(study, trial)

    def infer_relative_search_space(self, study, trial):
        return self._sampler.infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._sampler.sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._sampler.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study, trial, state, values):
        self._sampler.after_trial(study, trial, state, values)


def budget_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The trials that count against the budget: finished (complete or pruned) tickets."""
    return [t for t in study.get_trials(deepcopy=False, states=FINISHED) if TICKET in t.user_attrs]


def position(trial: optuna.trial.FrozenTrial) -> int:
    """The trial's place in its study's budget (0-based): the same in a resumed study as in an
    uninterrupted one, where Optuna's trial numbers shift by each interrupted trial."""
    return int(trial.user_attrs["position"])


def open_study(plan: StudyPlan, storage: RDBStorage, opt: OptimizeConfig, worker: int = 0) -> optuna.Study:
    sampler = PositionSeededSampler(
        opt.sampler_seed,
        plan.name,
        worker,
        by_number=opt.workers != 1,
        n_startup_trials=opt.sampler_startup_trials,
        multivariate=True,
        group=plan.kind == "search",  # the search space is conditional on the optimizer and depth
        # with parallel workers, running trials count as pessimistic results; with one, a running
        # trial can only be a dead one, which must not change what comes next
        constant_liar=opt.workers != 1,
    )
    pruner = optuna.pruners.MedianPruner(
        n_startup_trials=opt.pruner.startup_trials, n_warmup_steps=opt.pruner.warmup_epochs
    )
    return optuna.create_study(
        study_name=plan.name,
        storage=storage,
        sampler=sampler,
        pruner=pruner,
        direction="minimize",
        load_if_exists=True,
    )


def counts(study: optuna.Study) -> dict[TrialState, int]:
    tally = dict.fromkeys(TrialState, 0)
    for trial in study.get_trials(deepcopy=False):
        if trial.state != TrialState.FAIL or TICKET in trial.user_attrs:
            tally[trial.state] += 1
    return tally


def issue_tickets(study: optuna.Study, budget: int) -> int:
    """Queue one ticket per trial the budget still allows; returns how many were queued."""
    fail_stale_trials(study)
    tally = counts(study)
    in_hand = sum(tally[s] for s in (*FINISHED, TrialState.WAITING, TrialState.RUNNING))
    missing = max(0, budget - in_hand)
    for _ in range(missing):
        study.enqueue_trial({}, user_attrs={TICKET: True})
    return missing


def wait_for_tickets(plans: list[StudyPlan], storage: RDBStorage, poll_seconds: float = 2.0) -> None:
    """Return once every study has its tickets: a worker on another machine may start before ``optimize``
    has queued them, and would otherwise find nothing to run and stop."""
    waited = False
    while not all(_has_tickets(plan, storage) for plan in plans):
        if not waited:
            log.info("waiting for `optimize` to queue the studies' trials")
            waited = True
        time.sleep(poll_seconds)


def _has_tickets(plan: StudyPlan, storage: RDBStorage) -> bool:
    try:
        study = optuna.load_study(study_name=plan.name, storage=storage)
    except KeyError:  # not created yet
        return False
    return any(TICKET in trial.user_attrs for trial in study.get_trials(deepcopy=False))


class OverBudgetError(RuntimeError):
    """Raised inside a trial that did not come from the ticket queue."""


@dataclass
class CurveRecorder:
    """Collects per-epoch metrics as they come, so even a pruned trial keeps its curves."""

    train_loss: list[float]
    val_loss: list[float]
    val_roc_auc: list[float]

    def as_attrs(self) -> dict[str, list[float]]:
        return {"train_loss": self.train_loss, "val_loss": self.val_loss, "val_roc_auc": self.val_roc_auc}


def make_objective(
    plan: StudyPlan, opt: OptimizeConfig, baseline: BaselineConfig, data: TrainingData, worker: int = 0
) -> Callable[[optuna.Trial], float]:

    def objective(trial: optuna.Trial) -> float:
        if TICKET not in trial.user_attrs:
            raise OverBudgetError(f"{plan.label}: trial {trial.number} is beyond the budget of {plan.budget}")
        if plan.kind == "comparison":
            candidate = spaces.comparison_candidate(trial, plan.label, baseline.candidate, opt)
        else:
            candidate = spaces.search_candidate(trial, opt.search, baseline.candidate, opt)
        trial.set_user_attr("candidate", candidate.model_dump(mode="json"))
        trial.set_user_attr("position", trial.study.sampler.positions[trial.number])
        trial.set_user_attr("worker", worker)
        curves = CurveRecorder([], [], [])

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
            trial.set_user_attr("diverged", str(err))
            raise optuna.TrialPruned(str(err)) from None
        finally:
            trial.set_user_attr("curves", curves.as_attrs())
            trial.set_user_attr("seconds", time.perf_counter() - started)
        trial.set_user_attr("val_metrics", trained.val_metrics)
        return trained.val_metrics["log_loss"]

    return objective


def work(
    plans: list[StudyPlan],
    storage: RDBStorage,
    opt: OptimizeConfig,
    baseline: BaselineConfig,
    data: TrainingData,
    worker: int = 0,
    progress_over: list[StudyPlan] | None = None,
) -> None:
    """Run trials from the studies' ticket queues until none is left; safe in many processes.

    A study whose last trials are running elsewhere is left for later rather than waited on,
    and revisited until they finish (or fail from a dead worker and come back to the queue).
    The progress lines count the trials of ``progress_over`` (default: ``plans``).
    """
    progress = Progress(progress_over or plans, storage, worker)
    pending = {plan.label: (plan, open_study(plan, storage, opt, worker)) for plan in plans}
    objectives = {plan.label: make_objective(plan, opt, baseline, data, worker) for plan in plans}
    while pending:
        ran = False
        for label, (plan, study) in list(pending.items()):
            fail_stale_trials(study)  # a dead worker's trial goes back to the queue
            tally = counts(study)
            finished = tally[TrialState.COMPLETE] + tally[TrialState.PRUNED]
            if finished >= plan.budget or tally[TrialState.WAITING] + tally[TrialState.RUNNING] == 0:
                del pending[label]  # done, or starved: the coordinator checks the count
            elif tally[TrialState.WAITING]:
                study.optimize(
                    objectives[label], n_trials=1, catch=(OverBudgetError,), callbacks=[progress.report(plan)]
                )
                ran = True
                break  # back to the first unfinished study: studies finish in order
        if pending and not ran:
            time.sleep(1)  # only others' trials are left: wait for them


class Progress:
    """One line per finished trial: what it did, how far the studies are, time spent and left."""

    def __init__(self, plans: list[StudyPlan], storage: RDBStorage, worker: int) -> None:
        self.plans, self.storage, self.worker = plans, storage, worker
        self.started = time.monotonic()
        self.total = sum(p.budget for p in plans)

    def report(self, plan: StudyPlan) -> Callable[[optuna.Study, optuna.trial.FrozenTrial], None]:
        def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            if TICKET not in trial.user_attrs or trial.state not in FINISHED:
                return
            done = sum(self._finished(p) for p in self.plans)
            elapsed = time.monotonic() - self.started
            remaining = self.total - done
            value = f"val_loss={trial.value:.4f}" if trial.value is not None else "pruned"
            epochs = len(trial.user_attrs.get("curves", {}).get("train_loss", []))
            print(
                f"[worker {self.worker}] {trial_name(plan, position(trial))} {trial.state.name.lower()} "
                f"{value} epochs={epochs} {trial.user_attrs.get('seconds', 0):.1f}s | "
                f"{plan.label} {self._finished(plan)}/{plan.budget} | all {done}/{self.total}, "
                f"{remaining} left | {_clock(elapsed)} elapsed",
                flush=True,
            )

        return callback

    def _finished(self, plan: StudyPlan) -> int:
        try:
            study = optuna.load_study(study_name=plan.name, storage=self.storage)
        except KeyError:
            return 0
        tally = counts(study)
        return tally[TrialState.COMPLETE] + tally[TrialState.PRUNED]


def trial_name(plan: StudyPlan, place: int) -> str:
    return f"{plan.label}-trial-{place:02d}"


def best_candidate(study: optuna.Study) -> Candidate:
    return Candidate.model_validate(study.best_trial.user_attrs["candidate"])


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"
