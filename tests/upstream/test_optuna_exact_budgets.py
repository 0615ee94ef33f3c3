"""Decision record: why the studies queue tickets (``pipeline.tuning.tickets``) rather than use what
Optuna offers for exact budgets across workers.

The need: every optimizer gets exactly its budget of finished trials, none trained twice, a dead
worker's trial run again with the suggestion an uninterrupted study makes at that position. These
tests pin the behaviour of Optuna (and SQLite) the decision rests on: each Optuna feature that falls
short is shown falling short, beside the tickets that do not. If one fails after an upgrade, the
decision is worth revisiting; docs/DOCUMENTATION.md ("Exact budgets: what Optuna offers") sums them up.

Toy objectives (no training) on the real storages: PostgreSQL, as in team mode, and SQLite, the default.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import optuna
import pytest
from optuna.storages import BaseStorage, RDBStorage, RetryHeartbeatStaleTrialCallback
from optuna.storages.journal import JournalFileBackend, JournalStorage
from optuna.trial import TrialState

from pipeline.config import Params
from pipeline.tuning.records import TrialRecord, position
from pipeline.tuning.sampler import PositionSeededSampler, drawn_position
from pipeline.tuning.storage import open_storage, storage_url
from pipeline.tuning.tickets import FINISHED, budget_trials, fail_stale_trials, is_ticket, issue_tickets
from tests.conftest import SMALL_BUDGETS, set_params
from tests.servers import create_database

pytestmark = [
    pytest.mark.slow,  # starts PostgreSQL
    pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize"),  # ask()
]

BUDGET = 3


def _toy(trial: optuna.Trial) -> float:
    """A trial as ``make_objective`` records it (its position), minus the training."""
    TrialRecord(position=drawn_position(trial)).write(trial)
    return (trial.suggest_float("x", 0, 1) - 0.3) ** 2


def _params(project: Path, storage: str | None) -> Params:
    set_params(project, {**SMALL_BUDGETS, "optimize": {**SMALL_BUDGETS["optimize"], "storage": storage}})
    return Params.load()


def test_max_trials_callback_overshoots_when_workers_overlap_or_join_late(postgres_server: str) -> None:
    """``MaxTrialsCallback`` stops a worker *after* a trial once the count is reached: overlapping workers
    each finish the trial they began, and a worker joining a study at its budget still runs one."""
    study = optuna.create_study(storage=create_database(postgres_server, "max_trials"))
    budget = optuna.study.MaxTrialsCallback(1, states=FINISHED)
    both_running = threading.Barrier(2, timeout=60)

    def overlapping(trial: optuna.Trial) -> float:
        both_running.wait()  # two workers, each in a trial
        return trial.suggest_float("x", 0, 1)

    study.optimize(overlapping, n_jobs=2, callbacks=[budget])
    after_two_workers = len(study.get_trials(states=FINISHED))
    study.optimize(lambda trial: trial.suggest_float("x", 0, 1), callbacks=[budget])
    assert (after_two_workers, len(study.get_trials(states=FINISHED))) == (2, 3)  # budget: 1


def _hand_out(open_storage: Callable[[], BaseStorage], tickets: int = 40, workers: int = 8) -> Counter:
    """Tickets queued in one study, taken by ``workers`` threads, each with its own connections like a
    process, until the queue runs dry: how often each ticket was handed out."""
    study = optuna.create_study(study_name="queue", storage=open_storage())
    issue_tickets(study, tickets)
    ready = threading.Barrier(workers, timeout=60)

    def worker(_: int) -> list[int]:
        own = optuna.load_study(study_name="queue", storage=open_storage())
        ready.wait()
        taken = []
        while is_ticket(trial := own.ask()):
            taken.append(trial.number)
            with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):  # run twice, finished elsewhere
                own.tell(trial, 0.0, skip_if_finished=True)
        own.tell(trial, state=TrialState.FAIL)  # the queue ran dry: not a ticket, never run
        return taken

    with ThreadPoolExecutor(workers) as pool:
        return Counter(n for numbers in pool.map(worker, range(workers)) for n in numbers)


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_our_storage_hands_each_ticket_to_exactly_one_of_many_concurrent_workers(
    backend: str, project: Path, postgres_server: str
) -> None:
    """Optuna hands a queued trial out by reading it ``FOR UPDATE`` and marking it running: on PostgreSQL
    the row lock makes that exact, and ``open_storage`` adds nothing; on SQLite, ``BEGIN IMMEDIATE`` does."""
    params = _params(project, create_database(postgres_server, "queue") if backend == "postgresql" else None)
    taken = _hand_out(lambda: open_storage(params.optimize, params.paths.studies))
    assert sorted(taken) == list(range(40)) and set(taken.values()) == {1}


def test_on_sqlite_optunas_queue_alone_hands_tickets_to_several_workers(project: Path) -> None:
    """The control: SQLite has no row locks (SQLAlchemy leaves ``FOR UPDATE`` out), so without ``BEGIN
    IMMEDIATE`` workers read one queued trial as waiting together and all run it."""
    params = _params(project, None)
    url = storage_url(params.optimize, params.paths.studies)
    taken = _hand_out(lambda: RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 120}}))
    assert sorted(taken) == list(range(40)) and max(taken.values()) > 1


def _positions_after_a_dead_trial(storage: RDBStorage, die: bool) -> list[dict]:
    """A single-worker study of ``BUDGET`` tickets whose first trial's worker dies (if ``die``) after one
    heartbeat, then resumed: the parameters suggested at each position of the budget."""
    sampler = PositionSeededSampler(0, "study", 0)
    study = optuna.create_study(study_name="study", storage=storage, sampler=sampler)
    issue_tickets(study, BUDGET)
    if die:
        dead = study.ask()
        TrialRecord(position=drawn_position(dead)).write(dead)
        dead.suggest_float("x", 0, 1)
        storage.record_heartbeat(dead._trial_id)  # it beats once, then its machine is gone
        time.sleep(storage.grace_period + 1)
        fail_stale_trials(study)  # a live worker fails it; the storage's callback queues what replaces it
    while len(budget_trials(study)) < BUDGET:
        study.optimize(_toy, n_trials=1)
    return [t.params for t in sorted(budget_trials(study), key=position)]


def test_a_dead_trial_replaced_by_a_ticket_resumes_as_uninterrupted_where_optunas_retry_repeats_it(
    project: Path, postgres_server: str
) -> None:
    """Optuna's ``RetryHeartbeatStaleTrialCallback`` queues the dead trial's parameters again, at the end of
    the queue: the next ticket draws the same suggestion at the dead trial's position, so those parameters
    are trained twice and the last position's never. A fresh ticket (``_replace_with_ticket``) is drawn at
    its position like any other, so the study ends as an uninterrupted one."""

    def ours(database: str) -> RDBStorage:
        params = _params(project, create_database(postgres_server, database))
        return open_storage(params.optimize, params.paths.studies)

    uninterrupted = _positions_after_a_dead_trial(ours("uninterrupted"), die=False)
    assert _positions_after_a_dead_trial(ours("replaced"), die=True) == uninterrupted
    retried = RDBStorage(
        create_database(postgres_server, "retried"),
        heartbeat_interval=SMALL_BUDGETS["optimize"]["heartbeat_seconds"],
        grace_period=3 * SMALL_BUDGETS["optimize"]["heartbeat_seconds"],
        heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(),
    )
    repeated = _positions_after_a_dead_trial(retried, die=True)
    assert repeated[:2] == uninterrupted[:2] and repeated[2] == repeated[0] != uninterrupted[2]


def test_the_journal_storage_never_fails_a_dead_workers_trial(tmp_path: Path) -> None:
    """Optuna's journal storage (a log on a shared file, or Redis) has no heartbeats: a killed worker's
    trial stays running for ever, and the budget is never finished."""
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "journal.log")))
    study = optuna.create_study(storage=storage)
    study.ask()  # its worker dies here
    fail_stale_trials(study)
    assert not hasattr(storage, "record_heartbeat")
    assert [t.state for t in study.trials] == [TrialState.RUNNING]
