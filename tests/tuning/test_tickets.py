"""The one count of a study's trials (``Tally``), and the record a trial keeps in storage (``TrialRecord``)."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from pipeline.config import Params
from pipeline.tuning.records import Curves, TrialRecord, position
from pipeline.tuning.tickets import Tally, budget_trials, is_ticket, issue_tickets
from tests.conftest import REPO

CANDIDATE = Params.load(REPO / "params.yaml").baseline.candidate


def _study() -> optuna.Study:
    return optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))


def test_the_tally_counts_tickets_by_state_and_nothing_else() -> None:
    study = _study()
    assert issue_tickets(study, 4) == 4
    done = study.ask()
    study.tell(done, 1.0)
    pruned = study.ask()
    study.tell(pruned, state=TrialState.PRUNED)
    running = study.ask()
    study.add_trial(optuna.create_trial(value=0.5))  # finished, but not a ticket: not the budget's
    assert Tally.of(study) == Tally(finished=2, waiting=1, running=1)
    assert Tally.of(study).in_flight == 2
    assert [t.number for t in budget_trials(study)] == [done.number, pruned.number]
    assert is_ticket(running) and not is_ticket(study.trials[-1])
    assert issue_tickets(study, 5) == 1  # 2 finished and 2 in flight: one more for a budget of 5


def test_a_record_reads_and_writes_the_attributes_as_studies_in_storage_hold_them() -> None:
    """The keys and values are the storage format: a study written by earlier code resumes with this one."""
    stored = {
        "ticket": True,
        "candidate": CANDIDATE.model_dump(mode="json"),
        "position": 3,
        "worker": 1,
        "curves": {"train_loss": [0.7, 0.6], "val_loss": [0.71, 0.65], "val_roc_auc": [0.6, 0.62]},
        "seconds": 12.5,
        "diverged": "training loss is nan at epoch 2",
        "val_metrics": {"log_loss": 0.65, "roc_auc": 0.62},
    }
    record = TrialRecord.of(optuna.create_trial(value=0.65, user_attrs=stored))
    assert record.candidate == CANDIDATE and record.curves.val_loss == [0.71, 0.65]
    assert record.user_attrs() == stored
    assert position(optuna.create_trial(value=0.65, user_attrs=stored)) == 3


def test_each_write_sets_only_the_fields_it_was_given() -> None:
    """A trial writes in steps (before training, its curves in a ``finally``, its metrics at the end)."""
    trial = _study().ask()
    TrialRecord(position=2, worker=0).write(trial)
    TrialRecord(curves=Curves(train_loss=[0.5]), seconds=1.5).write(trial)
    assert trial.user_attrs == {
        "position": 2,
        "worker": 0,
        "curves": {"train_loss": [0.5], "val_loss": [], "val_roc_auc": []},
        "seconds": 1.5,
    }
    assert TrialRecord.of(trial) == TrialRecord(position=2, worker=0, curves=Curves(train_loss=[0.5]), seconds=1.5)
