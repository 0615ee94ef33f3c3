"""Exact budgets across workers: the ticket queue, and the one count of a study's trials.

Before workers start, each study gets one queued *ticket* (an enqueued trial with no fixed
parameters) per trial still to run. Optuna hands a queued trial to exactly one worker, so workers
on any number of machines run the budget between them, none twice. A trial that is not a ticket
(the queue ran dry between a worker's check and its ask) is failed at once and never trained. A
worker that dies mid-trial stops sending heartbeats; after three missed beats Optuna fails that
trial and ``replace_with_ticket`` (the storage's callback) queues a new ticket in its place.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections import Counter
from dataclasses import dataclass

import optuna
from optuna.storages import RDBStorage
from optuna.storages import fail_stale_trials as _fail_stale_trials
from optuna.trial import FrozenTrial, TrialState

from pipeline.tuning.records import TrialRecord

log = logging.getLogger(__name__)

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


class OverBudgetError(RuntimeError):
    """Raised inside a trial that did not come from the ticket queue."""


def is_ticket(trial: FrozenTrial | optuna.Trial) -> bool:
    return TrialRecord.of(trial).ticket


@dataclass(frozen=True)
class Tally:
    """A study's tickets by state: what counts against the budget, and what is still to come."""

    finished: int  # complete or pruned
    waiting: int  # queued, not taken yet
    running: int  # taken by a worker (perhaps a dead one, until its heartbeats time out)

    @property
    def in_flight(self) -> int:
        """Queued or running: tickets that will finish unless their worker dies."""
        return self.waiting + self.running

    @classmethod
    def of(cls, study: optuna.Study) -> Tally:
        states = Counter(trial.state for trial in study.get_trials(deepcopy=False) if is_ticket(trial))
        return cls(
            finished=sum(states[state] for state in FINISHED),
            waiting=states[TrialState.WAITING],
            running=states[TrialState.RUNNING],
        )


def budget_trials(study: optuna.Study) -> list[FrozenTrial]:
    """The trials that count against the budget (``Tally.finished`` of them): finished tickets."""
    return [trial for trial in study.get_trials(deepcopy=False, states=FINISHED) if is_ticket(trial)]


def queue_ticket(study: optuna.Study) -> None:
    study.enqueue_trial({}, user_attrs=TrialRecord(ticket=True).user_attrs())


def issue_tickets(study: optuna.Study, budget: int) -> int:
    """Queue one ticket per trial the budget still allows; returns how many were queued."""
    fail_stale_trials(study)
    tally = Tally.of(study)
    missing = max(0, budget - tally.finished - tally.in_flight)
    for _ in range(missing):
        queue_ticket(study)
    return missing


def replace_with_ticket(study: optuna.Study, trial: FrozenTrial) -> None:
    """A dead worker's trial, just failed by exactly one live process: queue a new ticket for it.
    (Optuna's ``RetryHeartbeatStaleTrialCallback`` would re-run its parameters at the end of the
    queue, where they no longer follow from the finished trials before it.)"""
    if is_ticket(trial):
        queue_ticket(study)


def fail_stale_trials(study: optuna.Study) -> None:
    """Fail the trials of dead workers (their heartbeats stopped), which puts their tickets back."""
    with warnings.catch_warnings():  # experimental since Optuna 2.9, and the only API for this
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        _fail_stale_trials(study)


def wait_for_tickets(study_names: list[str], storage: RDBStorage, poll_seconds: float = 2.0) -> None:
    """Return once every study has its tickets: a worker on another machine may start before ``optimize``
    has queued them, and would otherwise find nothing to run and stop."""
    waited = False
    while not all(_has_tickets(name, storage) for name in study_names):
        if not waited:
            log.info("waiting for `optimize` to queue the studies' trials")
            waited = True
        time.sleep(poll_seconds)


def _has_tickets(study_name: str, storage: RDBStorage) -> bool:
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:  # not created yet
        return False
    return any(is_ticket(trial) for trial in study.get_trials(deepcopy=False))
