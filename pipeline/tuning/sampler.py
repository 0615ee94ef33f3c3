"""The sampler that makes a resumed study end where an uninterrupted one ends, and the study opened with it.

Each suggestion is drawn by a sampler seeded from the study's seed, the trial's *position* (how many
trials of the budget had finished when it started) and the worker, so it depends only on the study's
definition and its finished trials, not on how often the process restarted. A trial that was
interrupted and re-run from a new ticket therefore gets the same suggestion again.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Sequence
from typing import TypedDict, Unpack

import optuna
from optuna.distributions import BaseDistribution
from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial, TrialState

from pipeline.config import OptimizeConfig
from pipeline.tuning.plan import StudyPlan
from pipeline.tuning.tickets import Tally


class TpeOptions(TypedDict, total=False):
    """The TPE options the studies set; the others keep Optuna's defaults."""

    n_startup_trials: int
    multivariate: bool
    group: bool
    constant_liar: bool


class PositionSeededSampler(optuna.samplers.BaseSampler):
    """TPE, drawn afresh for each trial with a seed from the study seed, the trial's position and
    the worker (workers must not draw the same random trials). TPE keeps no state between trials
    but its random generator, so this is TPE with a reproducible generator. With parallel workers
    two trials can start at the same position, so ``by_number`` records Optuna's (unique) trial
    number as the position instead: names stay unique, and parallel studies are not reproducible
    anyway."""

    def __init__(
        self, seed: int, study_name: str, worker: int, by_number: bool = False, **tpe: Unpack[TpeOptions]
    ) -> None:
        self.seed, self.study_name, self.worker, self.by_number, self.tpe = seed, study_name, worker, by_number, tpe
        self.positions: dict[int, int] = {}  # trial number -> position, for the objective to record
        self._sampler = self._tpe(0)

    def _tpe(self, position: int) -> optuna.samplers.TPESampler:
        key = f"{self.seed}:{self.study_name}:{position}:{self.worker}".encode()
        seed = int.from_bytes(hashlib.sha256(key).digest()[:4], "big")
        with warnings.catch_warnings():  # multivariate and group are stable in practice, "experimental" in name
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(seed=seed, **self.tpe)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        position = Tally.of(study).finished
        self.positions[trial.number] = trial.number if self.by_number else position
        self._sampler = self._tpe(position)
        self._sampler.before_trial(study, trial)

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._sampler.infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: optuna.Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, object]:
        return self._sampler.sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: optuna.Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> object:
        return self._sampler.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(
        self, study: optuna.Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None
    ) -> None:
        self._sampler.after_trial(study, trial, state, values)


def drawn_position(trial: optuna.Trial) -> int:
    """The position the study's sampler drew ``trial`` at, for the objective to record."""
    sampler = trial.study.sampler
    if not isinstance(sampler, PositionSeededSampler):
        raise TypeError(f"study {trial.study.study_name} has no position-seeded sampler")
    return sampler.positions[trial.number]


def open_study(plan: StudyPlan, storage: RDBStorage, opt: OptimizeConfig, worker: int = 0) -> optuna.Study:
    """The study in ``storage``, created if new, with its sampler and pruner (neither is stored)."""
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
