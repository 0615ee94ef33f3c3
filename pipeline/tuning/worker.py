"""The worker loop: run trials from the studies' ticket queues until none is left; safe in many processes."""

from __future__ import annotations

import time

from optuna.storages import RDBStorage

from pipeline.config import BaselineConfig, OptimizeConfig
from pipeline.training.job import TrainingData
from pipeline.tuning.objective import make_objective
from pipeline.tuning.plan import StudyPlan
from pipeline.tuning.progress import Progress
from pipeline.tuning.sampler import open_study
from pipeline.tuning.tickets import OverBudgetError, Tally, fail_stale_trials

IDLE_SECONDS = 1.0


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
            tally = Tally.of(study)
            if tally.finished >= plan.budget or tally.in_flight == 0:
                del pending[label]  # done, or starved: the coordinator checks the count
            elif tally.waiting:
                study.optimize(
                    objectives[label], n_trials=1, catch=(OverBudgetError,), callbacks=[progress.report(plan)]
                )
                ran = True
                break  # back to the first unfinished study: studies finish in order
        if pending and not ran:
            time.sleep(IDLE_SECONDS)  # only others' trials are left: wait for them
