"""One printed line per finished trial: what it did, how far the studies are, time spent and left."""

from __future__ import annotations

import time
from collections.abc import Callable

import optuna
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial

from pipeline.tuning.plan import StudyPlan, trial_name
from pipeline.tuning.records import TrialRecord, position
from pipeline.tuning.tickets import FINISHED, Tally

Callback = Callable[[optuna.Study, FrozenTrial], None]


class Progress:
    """Counts the finished trials of ``plans`` (in every worker) each time one of this worker's finishes."""

    def __init__(self, plans: list[StudyPlan], storage: RDBStorage, worker: int) -> None:
        self.plans, self.storage, self.worker = plans, storage, worker
        self.started = time.monotonic()
        self.total = sum(p.budget for p in plans)

    def report(self, plan: StudyPlan) -> Callback:
        def callback(study: optuna.Study, trial: FrozenTrial) -> None:
            record = TrialRecord.of(trial)
            if not record.ticket or trial.state not in FINISHED:
                return
            done = sum(self._finished(p) for p in self.plans)
            value = f"val_loss={trial.value:.4f}" if trial.value is not None else "pruned"
            print(
                f"[worker {self.worker}] {trial_name(plan, position(trial))} {trial.state.name.lower()} "
                f"{value} epochs={len(record.curves.train_loss)} {record.seconds:.1f}s | "
                f"{plan.label} {self._finished(plan)}/{plan.budget} | all {done}/{self.total}, "
                f"{self.total - done} left | {_clock(time.monotonic() - self.started)} elapsed",
                flush=True,
            )

        return callback

    def _finished(self, plan: StudyPlan) -> int:
        try:
            study = optuna.load_study(study_name=plan.name, storage=self.storage)
        except KeyError:
            return 0
        return Tally.of(study).finished


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"
