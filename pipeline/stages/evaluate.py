"""``evaluate``: the only stage that reads the test split.

Serves each network configuration as the average of its seed models' probabilities, fits
that ensemble's decision (calibration, threshold) on validation, takes the champion the
``resample`` stage's gate named on development data, then scores every model once on test
with bootstrap intervals, next to the scikit-learn reference models. Registers the champion
and the baseline as pyfunc models. The test split decides nothing.
"""

from __future__ import annotations

import logging
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.utils.mlflow_tags import MLFLOW_PARENT_RUN_ID

from pipeline import figures
from pipeline.config import Params
from pipeline.data.prepared import data_md5
from pipeline.data.schema import DataSchema
from pipeline.evaluation import before_after, bootstrap, compare, ensemble, errors, metrics, reference
from pipeline.evaluation.compare import ModelResult
from pipeline.features.encoded import Split, load_split
from pipeline.features.preprocessing import Preprocessor
from pipeline.io import read_json, write_atomic, write_json
from pipeline.metric_registry import BEFORE_AFTER, VERSUS_ORIGINAL, with_interval
from pipeline.segmentation import campaign
from pipeline.serving.package import log_pyfunc
from pipeline.serving.scorer import Decision
from pipeline.tracking import registry, runs, store
from pipeline.training import store as model_store
from pipeline.training.job import predict
from pipeline.training.store import StoredCandidate

log = logging.getLogger(__name__)
MODEL_GROUPS = ("baseline", "recipes", "candidates")
TRAINING_STAGES = ("baseline", "recipes", "optimize")


def run(params: Params) -> None:
    paths, cfg = params.paths, params.evaluate
    schema = DataSchema.from_yaml(paths.schema_file)
    pre = Preprocessor.load(paths.preprocessor)
    train = load_split(paths, "train", schema, pre)
    validation = load_split(paths, "validation", schema, pre)
    test = load_split(paths, "test", schema, pre)  # the first and only read of the test split
    gated = read_json(paths.reports / "resample" / "comparison.json")
    champion = gated["champion"]  # named on development data by the gate, before any test row is read

    stored = {c.name: c for c in model_store.load_all(paths.models, MODEL_GROUPS)}
    seed_probabilities = {name: _seed_probabilities(c, validation.x, test.x) for name, c in stored.items()}
    seeds_test = {name: p_test for name, (_, p_test) in seed_probabilities.items()}
    results = _decisions(params, seed_probabilities, train, validation, test)
    compare.score_on_test(results, test.y, cfg)
    indices = bootstrap.resample_indices(len(test.y), cfg.bootstrap.resamples, cfg.bootstrap.seed)
    ensembles = {
        name: ensemble.single_vs_ensemble(test.y, seeds_test[name], indices, cfg.bootstrap.confidence)
        for name in dict.fromkeys(("baseline", champion))
    }
    log.info("champion (the gate, on resampled development data): %s", champion)

    breakdown = errors.error_breakdown(
        test.frame,
        test.y,
        {n: results[n].p_test >= results[n].threshold for n in ("baseline", champion)},
        cfg.error_analysis.columns,
        cfg.error_analysis.bands,
    )
    write_atomic(paths.reports / "evaluate" / "error_analysis.csv", lambda tmp: breakdown.to_csv(tmp, index=False))
    write_json(paths.reports / "evaluate" / "ensemble_vs_single.json", ensembles)
    assessed = _before_after(params, stored, seed_probabilities, results, gated, validation, test)
    write_json(paths.reports / "evaluate" / "before_after.json", assessed)
    versions = _log(params, schema, stored, results, gated, test, train, validation, data_md5(paths))
    _log_before_after(versions, assessed, paths.reports / "evaluate" / "before_after.json", paths.plots / "evaluate")
    summary = _summary(results, champion, ensembles, gated)
    write_json(paths.summary("evaluate"), summary)
    write_json(paths.registered_versions, {alias: int(v.version) for alias, v in versions.items()})
    write_json(paths.headline("evaluate"), _headline(summary))


def _seed_probabilities(stored: StoredCandidate, *xs: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every seed model's raw probabilities on each of ``xs``, [seeds, rows] each."""
    models = stored.load_models()
    return tuple(np.stack([predict(model, x) for model in models]) for x in xs)


def _decisions(
    params: Params,
    seed_probabilities: dict[str, tuple[np.ndarray, np.ndarray]],
    train: Split,
    validation: Split,
    test: Split,
) -> dict[str, ModelResult]:
    """Each network as the ensemble of its seeds and each reference, with its decision fitted on validation."""
    cfg = params.evaluate
    contact_value = _contact_value(params, validation)
    results: dict[str, ModelResult] = {}
    for name, (seeds_val, seeds_test) in seed_probabilities.items():
        p_val, p_test = seeds_val.mean(axis=0), seeds_test.mean(axis=0)
        results[name] = compare.fit_decision(name, "ann", cfg, validation.y, p_val, p_test, contact_value)
    tuned = reference.load_tuned(params.paths.tuned_references)
    for name, estimator in reference.fit_reference_models(train.x, train.y, tuned, params.references.seed).items():
        p_val, p_test = reference.probabilities(estimator, validation.x), reference.probabilities(estimator, test.x)
        results[name] = compare.fit_decision(name, "reference", cfg, validation.y, p_val, p_test, contact_value)
    return results


def _contact_value(params: Params, validation: Split) -> np.ndarray:
    """Each validation customer's realized net value if contacted (the ``max_profit`` threshold rule)."""
    seg = params.segment
    monthly = seg.monthly_value(validation.frame[seg.value_column])
    return campaign.net_value(validation.y, monthly, seg.campaign, seg.horizon_months)


def _before_after(
    params: Params,
    stored: dict[str, StoredCandidate],
    seed_probabilities: dict[str, tuple[np.ndarray, np.ndarray]],
    results: dict[str, ModelResult],
    gated: dict,
    validation: Split,
    test: Split,
) -> dict[str, object]:
    """The original network as it was used against every served network, and the ladder from it to the
    best tuned optimizer (chosen on the resampling folds), all on test with paired intervals."""
    cfg, gate = params.evaluate, gated["gate"]

    def network(name: str) -> before_after.Network:
        updates = [int(stored[name].seeds[seed]["updates"]) for seed in stored[name].seeds]
        return before_after.Network(name, *seed_probabilities[name], updates)

    start = before_after.original(network("baseline"), params.baseline.threshold)
    after = [gated["champion"], *(o for o in params.optimize.comparison.optimizers if o in stored), "search"]
    served = [
        before_after.Served(name, name, len(stored[name].seeds), results[name].calibrator.kind
                            if results[name].calibrator else "none", results[name].p_test, results[name].threshold,
                            sum(network(name).updates))
        for name in dict.fromkeys(after) if name in stored
    ]  # fmt: skip
    means = {name: m["mean"][gate["criterion"]] for name, m in gated["models"].items()}
    best = before_after.best_optimizer(means, params.optimize.comparison.optimizers, gate["lower_is_better"])
    decide = before_after.DecisionRule(cfg.threshold, validation.y, _contact_value(params, validation))
    steps = before_after.ladder(start, network(best), decide, results[best].calibration_losses)
    b = cfg.bootstrap
    indices = bootstrap.resample_indices(len(test.y), b.resamples, b.seed)  # those of every other test interval
    return {
        "original": before_after.as_dict(before_after.score(test.y, [start], None, indices, b.confidence)[0]),
        "after": {s.served.network: before_after.as_dict(s)
                  for s in before_after.score(test.y, served, start, indices, b.confidence)},
        "ladder": [before_after.as_dict(s) for s in before_after.score(test.y, steps, None, indices, b.confidence)],
    }  # fmt: skip


def _log_before_after(versions: dict[str, ModelVersion], assessed: dict, artifact: Path, plots: Path) -> None:
    """On the evaluate run: the original's test metrics and each ladder step's, with its difference from
    the step before, and the before/after bars; on each served network's run: its difference from the original."""
    parent = mlflow.get_run(versions[registry.CHAMPION].run_id).data.tags[MLFLOW_PARENT_RUN_ID]
    children = {r.data.tags["model"]: r.info.run_id for r in mlflow.search_runs(
        filter_string=f"tags.`{MLFLOW_PARENT_RUN_ID}` = '{parent}'", output_format="list")}  # fmt: skip
    original = assessed["original"]
    values = {"original_threshold": original["threshold"], "original_updates": original["updates"]}
    values |= {k: v for m in VERSUS_ORIGINAL for k, v in with_interval("original_test", m, original["test"][m]).items()}
    params = {}
    for k, step in enumerate(assessed["ladder"]):
        params |= {f"ladder{k}_label": step["label"], f"ladder{k}_network": step["network"],
                   f"ladder{k}_calibration": step["calibration"]}  # fmt: skip
        values |= {f"ladder{k}_threshold": step["threshold"], f"ladder{k}_updates": step["updates"],
                   f"ladder{k}_seeds": step["seeds"]}  # fmt: skip
        for m in VERSUS_ORIGINAL:
            values |= with_interval(f"ladder{k}_test", m, step["test"][m])
            values |= with_interval(f"ladder{k}_step", m, step["versus"][m]) if step["versus"] else {}
    runs.log_values(parent, params=params, metrics=values)
    runs.log_file(parent, artifact)
    champion = mlflow.get_run(versions[registry.CHAMPION].run_id).data.tags["model"]
    bars = {
        f"before: original, one seed, threshold {original['threshold']:g}": original["test"],
        f"after: champion ({champion})": assessed["after"][champion]["test"],
    }
    bars = {k: {m: (v[m]["value"], v[m]["low"], v[m]["high"]) for m in BEFORE_AFTER} for k, v in bars.items()}
    title = "The original network as used against the served champion, test split"
    runs.save_and_log_figures(parent, {"before_after.png": figures.before_after(bars, BEFORE_AFTER, title)}, plots)
    for name, scored in assessed["after"].items():
        diffs = {k: v for m in VERSUS_ORIGINAL for k, v in with_interval("vs_original", m, scored["versus"][m]).items()}
        runs.log_values(children[name], metrics=diffs)


def _log(
    params: Params,
    schema: DataSchema,
    stored: dict[str, StoredCandidate],
    results: dict[str, ModelResult],
    gated: dict,
    test: Split,
    train: Split,
    validation: Split,
    md5: str,
) -> dict[str, ModelVersion]:
    """The parent run with the figures, a nested run per model, and the two registered versions."""
    paths, cfg, champion = params.paths, params.evaluate, gated["champion"]
    trained_by = {k: v for stage in TRAINING_STAGES for k, v in read_json(paths.training_runs(stage)).items()}
    store.configure(params.tracking.experiment)
    tags = store.run_tags("evaluate", md5)
    resample_run = {"resample_run_id": read_json(paths.training_runs("resample"))["resample"]}  # the gate it follows
    with mlflow.start_run(run_name="evaluate", tags={**tags, **resample_run}) as parent:
        mlflow.log_params(
            {
                "champion": champion,
                "champion_criterion": f"resampled {gated['gate']['criterion']}",
                "threshold_rule": cfg.threshold.rule,
                "bootstrap_resamples": cfg.bootstrap.resamples,
            }
        )
        figs = _figures(results, champion, gated, test.y, cfg.ece_bins)
        runs.save_and_log_figures(parent.info.run_id, figs, paths.plots / "evaluate")
        mlflow.log_artifact(str(paths.reports / "evaluate" / "error_analysis.csv"))
        mlflow.log_artifact(str(paths.reports / "evaluate" / "ensemble_vs_single.json"))
        model_runs = {
            name: _log_model_run(parent.info.run_id, result, tags, champion, test.y, trained_by.get(name))
            for name, result in results.items()
        }
        example = validation.frame[schema.feature_columns].head(3)
        seg = params.segment.resolved(train.frame[params.segment.value_column])  # the served value cut: an amount
        mlflow.log_param("value_cut", seg.cut)
        background = train.frame[schema.feature_columns].sample(seg.shap_background, random_state=seg.shap_seed)
        models = {
            name: (stored[name], results[name], model_runs[name]) for name in dict.fromkeys([champion, "baseline"])
        }
        served = params.model_copy(update={"segment": seg})
        versions = _register_aliases(served, schema, models, champion, md5, gated, example, background)
        mlflow.log_params({f"{alias}_version": v.version for alias, v in versions.items()})
    return versions


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
        values |= with_interval("test", metric, v)
    for metric, v in result.vs_baseline.items():
        values |= with_interval("diff", metric, v)
    values |= {f"val_log_loss_{k}": v for k, v in result.calibration_losses.items()}
    calibration = result.calibrator.kind if result.calibrator else "none"
    runs.log_values(run_id, params={"threshold": result.threshold, "calibration": calibration}, metrics=values)
    counts = metrics.confusion(y_test, result.p_test, result.threshold)
    title = f"{result.name}: test, threshold {result.threshold:.3f}"
    runs.log_figure(run_id, figures.confusion_matrix(counts, title), "confusion_matrix_test.png")
    runs.finish(run_id)
    return run_id


def _register_aliases(
    params: Params,
    schema: DataSchema,
    models: dict[str, tuple[StoredCandidate, ModelResult, str]],
    champion: str,
    md5: str,
    gated: dict,
    example: pd.DataFrame,
    background: pd.DataFrame,
) -> dict[str, ModelVersion]:
    """Register the champion and the baseline (``models``: name -> stored, result, evaluate run)
    under their aliases; a baseline that kept its place is one version with both aliases."""
    name = params.tracking.registered_model
    registered = {
        model: _register(params, schema, stored, result, run_id, md5, gated, example, background)
        for model, (stored, result, run_id) in models.items()
    }
    return {
        registry.CHAMPION: registry.add_alias(name, registry.CHAMPION, registered[champion]),
        registry.BASELINE: registry.add_alias(name, registry.BASELINE, registered["baseline"]),
    }


def _register(
    params: Params,
    schema: DataSchema,
    stored: StoredCandidate,
    result: ModelResult,
    run_id: str,
    md5: str,
    gated: dict,
    example: pd.DataFrame,
    background: pd.DataFrame,
) -> ModelVersion:
    """Log the seed ensemble as a pyfunc (``example``: raw validation records) into the model's
    evaluate run and register it (the caller points the aliases at it)."""
    decision = Decision(threshold=result.threshold, calibrator=result.calibrator)
    with mlflow.start_run(run_id=run_id, nested=True):
        info = log_pyfunc(
            "model",
            schema,
            params.paths.preprocessor,
            stored.model_paths,
            decision,
            example,
            params.segment,
            background,
        )
    criterion = gated["gate"]["criterion"]
    tags = {
        "data_md5": md5,
        "git_commit": store.git_commit(),
        "reproduction": store.reproduction(),
        "threshold": round(result.threshold, 4),
        "optimizer": stored.candidate.optimizer.name,
        "candidate": stored.name,
        "seeds": len(stored.model_paths),
        "calibration": result.calibrator.kind if result.calibrator else "none",
        "selection_criterion": f"resampled {criterion}",
        "selection_value": round(gated["models"][stored.name]["mean"][criterion], 6),
    }
    return registry.register(info.model_uri, params.tracking.registered_model, tags)


def _figures(results: dict[str, ModelResult], champion: str, gated: dict, y_test: np.ndarray, bins: int) -> dict:
    shown = ["baseline", champion, "logistic_regression", "gradient_boosting"]
    curves = {n: (y_test, results[n].p_test) for n in dict.fromkeys(shown)}
    criterion = gated["gate"]["criterion"]
    panels = ("resampled development data", "test split")
    forest = {}
    for name, model in gated["models"].items():
        if name == "baseline":
            continue
        c = model["vs_baseline"][criterion]
        forest[name] = {panels[0]: (c["mean"], c["low"], c["high"])}
        if name in results:
            d = results[name].vs_baseline[criterion]
            forest[name][panels[1]] = (d["value"], d["low"], d["high"])
    label = f"{criterion.replace('_', ' ')} minus the baseline's (95 % interval)"
    return {
        "roc_pr_curves.png": figures.roc_and_pr_curves(curves, "Test split"),
        "reliability.png": figures.reliability(curves, bins, "Calibration on the test split"),
        "forest.png": figures.forest(forest, panels, label, "Each model against the baseline"),
    }


def _summary(results: dict[str, ModelResult], champion: str, ensembles: dict[str, dict], gated: dict) -> dict:
    return {
        "champion": champion,
        "champion_criterion": f"resampled {gated['gate']['criterion']}",
        "ensemble_vs_single": ensembles,
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


def _headline(summary: dict) -> dict[str, object]:
    """The champion's test metrics with intervals, and the baseline's, under names that stay put when
    the champion changes."""
    models, metrics = summary["models"], ("log_loss", "roc_auc", "pr_auc")
    return {
        "champion": summary["champion"],
        "test": {
            "champion": {k: models[summary["champion"]]["test"][k] for k in metrics},
            "baseline": {k: models["baseline"]["test"][k]["value"] for k in metrics},
        },
    }
