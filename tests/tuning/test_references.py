"""The reference studies: spaces within params.yaml's ranges, and studies that are reproducible and resume
after an interruption without running a finished trial again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.storages import RDBStorage
from optuna.trial import TrialState

from pipeline.config import OptimizeConfig, Params, ReferencesConfig
from pipeline.evaluation.reference import HYPERPARAMETERS, NAMES
from pipeline.features.encoded import Split
from pipeline.tuning import references
from pipeline.tuning.records import position
from pipeline.tuning.storage import open_storage
from pipeline.tuning.tickets import budget_trials, issue_tickets
from tests.conftest import REPO, deep_update

PARAMS = Params.load(REPO / "params.yaml")
SMALL = {  # fast studies: a few trials, small forests, TPE after two random trials
    "gradient_boosting": {"trials": 4, "startup_trials": 2, "max_iter": [5, 20]},
    "logistic_regression": {"trials": 5, "startup_trials": 2},
}
Objective = Callable[[optuna.Trial], float]
LOGISTIC = "logistic_regression"


def _config(changes: dict | None = None) -> ReferencesConfig:
    return ReferencesConfig.model_validate(deep_update(PARAMS.references.model_dump(), changes or SMALL))


def _splits(n: int = 300) -> tuple[Split, Split]:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 5)).astype("float32")
    y = (x[:, 0] - 0.5 * x[:, 1] + rng.normal(size=n) > 0.6).astype("float32")
    half = n * 2 // 3
    return Split("train", pd.DataFrame(), x[:half], y[:half]), Split("validation", pd.DataFrame(), x[half:], y[half:])


def _storage(folder: Path) -> RDBStorage:
    optimize: OptimizeConfig = PARAMS.optimize.model_copy(update={"storage": None, "heartbeat_seconds": 1})
    return open_storage(optimize, folder)


def _study(cfg: ReferencesConfig, label: str, folder: Path) -> tuple[references.ReferencePlan, optuna.Study]:
    [plan] = [p for p in references.plan_studies(cfg, "md5") if p.label == label]
    return plan, references.open_study(plan, _storage(folder), cfg.sampler_seed)


def _by_position(study: optuna.Study) -> list[tuple[int, dict, float]]:
    trials = sorted(budget_trials(study), key=position)
    return [(position(t), t.params, t.value) for t in trials]


def test_each_space_draws_within_its_ranges_on_the_scales_params_yaml_gives() -> None:
    cfg = PARAMS.references
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for name in NAMES:
        for _ in range(30):
            trial = study.ask()
            drawn = references.suggest(trial, name, cfg)
            assert set(drawn) == set(HYPERPARAMETERS[name])
            for key, value in drawn.items():
                allowed = getattr(references.space(cfg, name), key)
                if isinstance(allowed, list):
                    assert value in allowed, key
                else:
                    assert allowed[0] <= value <= allowed[1], key
            logs = {key for key, d in trial.distributions.items() if getattr(d, "log", False)}
            expected = {"learning_rate", "max_iter", "max_leaf_nodes", "min_samples_leaf", "l2_regularization"}
            assert logs == (expected if name == "gradient_boosting" else {"C"})
            study.tell(trial, 0.5)


def test_a_study_is_renamed_by_a_change_to_its_own_definition_only() -> None:
    def names(cfg: ReferencesConfig, md5: str = "md5") -> dict[str, str]:
        return {p.label: p.name for p in references.plan_studies(cfg, md5)}

    before = names(_config())
    wider = names(_config(deep_update(SMALL, {"logistic_regression": {"C": [1e-3, 10.0]}})))
    assert wider["gradient_boosting"] == before["gradient_boosting"]
    assert wider["logistic_regression"] != before["logistic_regression"]
    assert not set(names(_config(), "other").values()) & set(before.values())
    assert before["gradient_boosting"].startswith("reference-gradient_boosting-")


@pytest.mark.parametrize("label", NAMES)
def test_a_study_runs_its_budget_and_gives_the_same_trials_twice(label: str, tmp_path: Path) -> None:
    cfg, (train, validation) = _config(), _splits()
    found = []
    for run in ("first", "second"):
        plan, study = _study(cfg, label, tmp_path / run)
        objective = references.make_objective(label, cfg, train, validation)
        assert references.run_study(plan, study, objective) == plan.budget
        found.append(_by_position(study))
        best = references.tuned(plan, study)
        assert best.trials == plan.budget and best.val_log_loss == min(v for _, _, v in found[-1])
        assert set(best.hyperparameters) == set(HYPERPARAMETERS[label])
    assert [position for position, _, _ in found[0]] == list(range(plan.budget))
    assert found[0] == found[1]


def test_the_best_trial_is_refitted_to_its_validation_scores(tmp_path: Path) -> None:
    cfg, (train, validation) = _config(), _splits()
    plan, study = _study(cfg, "gradient_boosting", tmp_path)
    references.run_study(plan, study, references.make_objective(plan.label, cfg, train, validation))
    best = references.tuned(plan, study)
    again = references.fit_and_score(plan.label, best.hyperparameters, cfg.seed, train, validation)
    assert (again.log_loss, again.roc_auc) == (best.val_log_loss, best.val_roc_auc)


def _interrupted_at(call: int, objective: Objective) -> Objective:
    calls = []

    def stopped(trial: optuna.Trial) -> float:
        calls.append(trial.number)
        if len(calls) == call:
            raise KeyboardInterrupt
        return objective(trial)

    return stopped


def _counted(objective: Objective, calls: list[int]) -> Objective:
    def counted(trial: optuna.Trial) -> float:
        calls.append(trial.number)
        return objective(trial)

    return counted


def _uninterrupted(folder: Path) -> tuple[ReferencesConfig, Objective, list[tuple[int, dict, float]]]:
    """The small logistic regression study's configuration, objective, and trials when run in one go."""
    cfg, (train, validation) = _config(), _splits()
    objective = references.make_objective(LOGISTIC, cfg, train, validation)
    plan, whole = _study(cfg, LOGISTIC, folder)
    references.run_study(plan, whole, objective)
    return cfg, objective, _by_position(whole)


def test_an_interrupted_study_resumes_without_rerunning_its_finished_trials(tmp_path: Path) -> None:
    cfg, objective, whole = _uninterrupted(tmp_path / "whole")
    label = LOGISTIC
    plan, study = _study(cfg, label, tmp_path / "stopped")
    with pytest.raises(KeyboardInterrupt):
        references.run_study(plan, study, _interrupted_at(4, objective))  # Ctrl-C in the fourth trial
    kept = _by_position(study)
    assert len(kept) == 3 and study.trials[3].state == TrialState.FAIL

    calls: list[int] = []
    plan, resumed = _study(cfg, label, tmp_path / "stopped")  # a new process: the study from storage
    assert references.run_study(plan, resumed, _counted(objective, calls)) == plan.budget - 3
    assert len(calls) == plan.budget - 3  # the finished trials were not run again
    assert _by_position(resumed)[:3] == kept
    assert _by_position(resumed) == whole  # and it ends where an uninterrupted study ends


@pytest.mark.slow  # waits three heartbeats (3 s)
@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_a_trial_left_running_by_a_killed_process_is_replaced(tmp_path: Path) -> None:
    cfg, objective, whole = _uninterrupted(tmp_path / "whole")
    plan, study = _study(cfg, LOGISTIC, tmp_path / "killed")
    issue_tickets(study, plan.budget)
    orphan = study.ask()  # a process took a ticket, sent a heartbeat, and was killed
    study._storage.record_heartbeat(orphan._trial_id)
    assert references.run_study(plan, study, objective) == plan.budget
    assert study.trials[0].state == TrialState.FAIL
    assert _by_position(study) == whole
