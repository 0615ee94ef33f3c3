"""``evaluate``: the only stage that reads the test split.

Fits each model's decision (calibration, threshold) on validation, picks the champion on
validation, then scores every model once on test with bootstrap intervals, next to two
scikit-learn reference models. Registers the champion and the baseline as pyfunc models.
"""

from __future__ import annotations

import logging

import keras
import mlflow
import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion

from pipeline import figures
from pipeline.config import EvaluateConfig, Params
from pipeline.data.prepared import data_md5
from pipeline.data.schema import DataSchema
from pipeline.evaluation import compare, errors, metrics, reference
from pipeline.evaluation.compare import ModelResult
from pipeline.features.encoded import load_split
from pipeline.features.preprocessing import Preprocessor
from pipeline.io import read_json, write_atomic, write_json
from pipeline.segmentation import campaign
from pipeline.serving.package import log_pyfunc
from pipeline.serving.scorer import Decision
from pipeline.tracking import registry, runs, store
from pipeline.training import store as model_store
from pipeline.training.store import StoredCandidate

log = logging.getLogger(__name__)
KEY_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc")


def run(params: Params) -> None:
    paths, cfg = params.paths, params.evaluate
    schema = DataSchema.from_yaml(paths.schema_file)
    pre = Preprocessor.load(paths.preprocessor)
    train = load_split(paths, "train", schema, pre)
    validation = load_split(paths, "validation", schema, pre)
    test = load_split(paths, "test", schema, pre)  # the first and only read of the test split
    md5 = data_md5(paths)

    stored = {"baseline": model_store.load(paths.models / "baseline")}
    for directory in sorted((paths.models / "candidates").iterdir()):
        stored[directory.name] = model_store.load(directory)

    seg = params.segment
    monthly = validation.frame[seg.value_column].to_numpy("float64")
    contact_value = campaign.net_value(validation.y, monthly, seg.campaign, seg.horizon_months)
    results: dict[str, ModelResult] = {}
    for name, candidate in stored.items():
        model = candidate.load_model()
        p_val, p_test = _predict(model, validation.x), _predict(model, test.x)
        results[name] = compare.fit_decision(name, "ann", cfg, validation.y, p_val, p_test, contact_value)
    for name, estimator in reference.fit_reference_models(train.x, train.y, cfg.reference_seed).items():
        p_val, p_test = reference.probabilities(estimator, validation.x), reference.probabilities(estimator, test.x)
        results[name] = compare.fit_decision(name, "reference", cfg, validation.y, p_val, p_test, contact_value)

    trained_by = {**read_json(paths.training_runs("baseline")), **read_json(paths.training_runs("optimize"))}
    summaries = {name: c.summary for name, c in stored.items()}
    champion = compare.select_champion(summaries, cfg.champion_criterion, cfg.criterion_lower_is_better)
    compare.score_on_test(results, test.y, cfg)
    log.info("champion on validation (%s): %s", cfg.champion_criterion, champion)

    breakdown = errors.error_breakdown(
        test.frame,
        test.y,
        {n: results[n].p_test >= results[n].threshold for n in ("baseline", champion)},
        cfg.error_analysis.columns,
        cfg.error_analysis.bands,
    )
    report_dir, plot_dir = paths.reports / "evaluate", paths.plots / "evaluate"
    write_atomic(report_dir / "error_analysis.csv", lambda tmp: breakdown.to_csv(tmp, index=False))

    store.configure(params.tracking.experiment)
    tags = store.run_tags("evaluate", md5)
    with mlflow.start_run(run_name="evaluate", tags=tags) as parent:
        mlflow.log_params(
            {
                "champion": champion,
                "champion_criterion": cfg.champion_criterion,
                "threshold_rule": cfg.threshold.rule,
                "bootstrap_resamples": cfg.bootstrap.resamples,
            }
        )
        runs.save_and_log_figures(parent.info.run_id, _figures(results, champion, test.y, cfg.ece_bins), plot_dir)
        mlflow.log_artifact(str(report_dir / "error_analysis.csv"))
        model_runs = {
            name: _log_model_run(parent.info.run_id, result, tags, champion, test.y, trained_by.get(name))
            for name, result in results.items()
        }
        versions = {}
        for alias, name in ((registry.CHAMPION, champion), (registry.BASELINE, "baseline")):
            example = validation.frame.drop(columns=[schema.target.column]).head(3)
            seg = params.segment
            background = train.frame[schema.feature_columns].sample(seg.shap_background, random_state=seg.shap_seed)
            versions[alias] = _register(
                params,
                schema,
                stored[name],
                results[name],
                model_runs[name],
                alias,
                md5,
                summaries[name],
                example,
                background,
            )
        mlflow.log_params({f"{alias}_version": v.version for alias, v in versions.items()})

    write_json(paths.metrics / "evaluate.json", _metrics_file(results, champion, versions, cfg))


def _predict(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """One direct call: model.predict would retrace a function for every model loaded."""
    return np.asarray(model(x, training=False))[:, 0].astype("float64")


def _log_model_run(
    parent_id: str,
    result: ModelResult,
    tags: dict,
    champion: str,
    y_test: np.ndarray,
    training_run_id: str | None,
) -> str:
    """A nested run per model; ``training_run_id`` links a network to the run that trained it."""
    model_tags = {**tags, "model": result.name, "kind": result.kind, "champion": str(result.name == champion)}
    if training_run_id is not None:
        model_tags["training_run_id"] = training_run_id
    run_id = runs.start_child(parent_id, f"evaluate-{result.name}", model_tags)
    values: dict[str, float] = {}
    for metric, v in result.test.items():
        values |= {f"test_{metric}": v["value"], f"test_{metric}_low": v["low"], f"test_{metric}_high": v["high"]}
    for metric, v in result.vs_baseline.items():
        values |= {f"diff_{metric}": v["value"], f"diff_{metric}_low": v["low"], f"diff_{metric}_high": v["high"]}
    values |= {f"val_log_loss_{k}": v for k, v in result.calibration_losses.items()}
    calibration = result.calibrator.kind if result.calibrator else "none"
    runs.log_values(run_id, params={"threshold": result.threshold, "calibration": calibration}, metrics=values)
    counts = metrics.confusion(y_test, result.p_test, result.threshold)
    title = f"{result.name}: test, threshold {result.threshold:.3f}"
    runs.log_figure(run_id, figures.confusion_matrix(counts, title), "confusion_matrix_test.png")
    runs.finish(run_id)
    return run_id


def _register(
    params: Params,
    schema: DataSchema,
    stored: StoredCandidate,
    result: ModelResult,
    run_id: str,
    alias: str,
    md5: str,
    summary: dict[str, float],
    example: pd.DataFrame,
    background: pd.DataFrame,
) -> ModelVersion:
    """Log the pyfunc (``example``: raw validation records) into the model's evaluate run and
    register it under the alias."""
    decision = Decision(threshold=result.threshold, calibrator=result.calibrator)
    with mlflow.start_run(run_id=run_id, nested=True):
        info = log_pyfunc(
            "model", schema, params.paths.preprocessor, stored.model_path, decision, example, params.segment, background
        )
    criterion = params.evaluate.champion_criterion
    tags = {
        "data_md5": md5,
        "git_commit": store.git_commit(),
        "threshold": round(result.threshold, 4),
        "optimizer": stored.candidate.optimizer.name,
        "candidate": stored.name,
        "calibration": result.calibrator.kind if result.calibrator else "none",
        "selection_criterion": criterion,
        "selection_value": round(summary[criterion], 6),
    }
    return registry.register(info.model_uri, params.tracking.registered_model, alias, tags)


def _figures(results: dict[str, ModelResult], champion: str, y_test: np.ndarray, bins: int) -> dict:
    shown = ["baseline", champion, "logistic_regression", "gradient_boosting"]
    curves = {n: (y_test, results[n].p_test) for n in dict.fromkeys(shown)}
    bars = {
        n: {
            m: (results[n].test[m]["value"], results[n].test[m]["low"], results[n].test[m]["high"]) for m in KEY_METRICS
        }
        for n in dict.fromkeys(["baseline", champion])
    }
    return {
        "roc_pr_curves.png": figures.roc_and_pr_curves(curves, "Test split"),
        "reliability.png": figures.reliability(curves, bins, "Calibration on the test split"),
        "before_after.png": figures.before_after(bars, KEY_METRICS, f"Baseline vs champion ({champion}), test split"),
    }


def _metrics_file(
    results: dict[str, ModelResult], champion: str, versions: dict[str, ModelVersion], cfg: EvaluateConfig
) -> dict:
    return {
        "champion": champion,
        "champion_criterion": cfg.champion_criterion,
        "registry_versions": {alias: int(v.version) for alias, v in versions.items()},
        "models": {
            name: {
                "kind": r.kind,
                "threshold": r.threshold,
                "calibration": r.calibrator.kind if r.calibrator else "none",
                "test": r.test,
                "vs_baseline": r.vs_baseline,
            }
            for name, r in results.items()
        },
    }
