"""The resampled comparison: folds that never leak, fold data fitted on its own rows, one row per
fold and model, and a comparison document the gate and the report read."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.config import EvaluateConfig, Params, ResampleConfig
from pipeline.data.contract import Purpose, validate_records
from pipeline.data.schema import DataSchema
from pipeline.evaluation import reference
from pipeline.evaluation.summary import GateSummary
from pipeline.metric_registry import RESAMPLED
from pipeline.model.config import Candidate
from pipeline.resampling import comparison, verdict
from pipeline.resampling.folds import make_folds
from tests.conftest import REPO
from tests.synthetic import make_customers


def test_folds_hold_out_every_row_once_per_repeat_and_never_leak() -> None:
    y = np.r_[np.ones(30), np.zeros(70)]
    folds = make_folds(y, repeats=3, folds=2, tune_fraction=0.25, seed=5)
    assert [(f.repeat, f.fold) for f in folds] == [(r, k) for r in (1, 2, 3) for k in (1, 2)]
    for repeat in (1, 2, 3):
        held = np.concatenate([f.held for f in folds if f.repeat == repeat])
        assert sorted(held.tolist()) == list(range(100))  # each row held out exactly once per repeat
    for f in folds:
        parts = [set(f.fit), set(f.tune), set(f.held)]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert len(f.fit) + len(f.tune) + len(f.held) == 100
        assert len(f.tune) == pytest.approx(0.25 * f.training_rows, abs=1)
        assert y[f.held].mean() == pytest.approx(0.3, abs=0.02)  # stratified
        assert y[f.tune].mean() == pytest.approx(0.3, abs=0.05)
    assert not np.array_equal(folds[0].held, folds[2].held)  # repeats reshuffle


@pytest.fixture(scope="module")
def development(schema: DataSchema) -> pd.DataFrame:
    return validate_records(make_customers(schema, n=240, seed=3), schema, Purpose.TRAINING).reset_index(drop=True)


def _no_value(frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    return np.zeros(len(frame))


def test_fold_preprocessing_is_fitted_on_the_fit_rows_only(development: pd.DataFrame, schema: DataSchema) -> None:
    [fold, *_] = make_folds(development[schema.target.column].to_numpy(), 1, 2, 0.25, seed=0)
    data = comparison.fold_data(development, schema, fold, _no_value)
    column = next(iter(schema.numeric))
    fit_mean = development.iloc[fold.fit][column].mean()
    assert data.training.preprocessor.numeric[column][0] == pytest.approx(fit_mean)
    assert len(data.training.train.y) == len(fold.fit)
    assert len(data.training.validation.y) == len(fold.tune)
    assert len(data.held.y) == len(fold.held)


@pytest.mark.slow  # trains on every fold
def test_every_model_is_scored_on_every_fold_and_compared_with_the_baseline(
    development: pd.DataFrame, schema: DataSchema
) -> None:
    params = Params.load(REPO / "params.yaml")
    quick = params.baseline.candidate.model_copy(
        update={"training": params.baseline.candidate.training.model_copy(update={"epochs": 3})}
    )
    other = Candidate.model_validate(
        quick.model_dump() | {"optimizer": {"name": "adam", "hyperparameters": {"learning_rate": 0.01}}}
    )
    cfg = ResampleConfig.model_validate(params.resample.model_dump() | {"repeats": 1, "seeds_per_fold": 2})
    y = development[schema.target.column].to_numpy()
    folds = make_folds(y, cfg.repeats, cfg.folds, cfg.tune_fraction, cfg.seed)
    data = [comparison.fold_data(development, schema, f, _no_value) for f in folds]
    decision: EvaluateConfig = params.evaluate
    candidates = {"baseline": quick, "adam": other}
    scores = comparison.score_folds(folds, data, candidates, reference.DEFAULTS, cfg, decision, reference_seed=0)

    models = {"baseline", "adam", "logistic_regression", "gradient_boosting", comparison.BLEND}
    assert set(scores["model"]) == models
    assert len(scores) == len(folds) * len(models)
    assert np.isfinite(scores[list(RESAMPLED)].to_numpy()).all()
    networks = scores[scores["kind"] == "ann"]
    fit_rows = {f.index: len(f.fit) for f in folds}
    for row in networks.itertuples():  # no early stopping: every epoch's steps count, each seed alike
        assert row.updates == 3 * np.ceil(fit_rows[row.index] / 32), row

    comparisons = verdict.versus_baseline(scores, cfg)
    assert set(comparisons["log_loss"]) == models - {"baseline"}
    table = verdict.paired(scores, "log_loss")
    adam = comparisons["log_loss"]["adam"]
    assert adam.mean == pytest.approx((table["adam"] - table["baseline"]).mean())
    assert adam.p_holm == pytest.approx(adam.p_improves(lower_is_better=True))  # a family of one, one-sided
    assert math.isnan(comparisons["log_loss"]["gradient_boosting"].p_holm)  # references: never in the family

    bayes = verdict.posteriors(scores, cfg.gate)
    assert bayes["adam"].better + bayes["adam"].equivalent + bayes["adam"].worse == pytest.approx(1)
    decision_, standings = verdict.choose_champion(scores, comparisons, bayes, cfg)
    assert set(standings) == {"adam"}  # references are compared but never gated
    assert decision_.champion in {"baseline", "adam"}
    summary = verdict.document(scores, comparisons, bayes, decision_, standings, cfg)
    assert set(summary.detectable.per_model) == {"adam"} and summary.detectable.tests == 1
    assert summary.champion == decision_.champion
    assert summary.models["gradient_boosting"].cost is None
    assert not summary.models["gradient_boosting"].gated
    assert summary.models["baseline"].vs_baseline == {}
    written = summary.model_dump_json()
    assert GateSummary.model_validate_json(written).model_dump_json() == written  # a reference's NaN p_holm too
    headline = verdict.headline(summary)
    assert headline["champion"] == decision_.champion and "baseline_log_loss" in headline
    # the same keys whoever wins: the one challenger here is the best, with its Holm-adjusted difference
    assert headline["best_challenger"] == "adam"
    assert headline["best_challenger_diff_log_loss"] == adam.mean and headline["best_challenger_p_holm"] == adam.p_holm
    assert headline["best_challenger_diff_low"] <= adam.mean <= headline["best_challenger_diff_high"]
