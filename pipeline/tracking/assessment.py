"""The evaluate stage's runs: an ``Assessment`` logged as a parent run with its figures and files, and a
nested run per model, with before/after on both."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import mlflow
from matplotlib.figure import Figure

from pipeline import figures
from pipeline.evaluation import metrics
from pipeline.evaluation.assessment import Assessment, BeforeAfter
from pipeline.evaluation.compare import ModelResult
from pipeline.metric_registry import BEFORE_AFTER, VERSUS_ORIGINAL, with_interval
from pipeline.tracking import runs, store


@dataclass(frozen=True)
class EvaluateRun:
    """What the evaluate runs record beside an ``Assessment``, and where."""

    experiment: str
    data_md5: str
    resample_run_id: str  # the run of the gate evaluate follows
    trained_by: Mapping[str, str]  # network -> the run that trained it
    params: Mapping[str, object]  # the parent run's parameters beside the champion's
    artifacts: Sequence[Path]  # files logged on the parent run
    before_after: Path  # the before/after document, logged on the parent run
    plots: Path  # where the parent run's figures are also saved (a DVC plots output)


@dataclass(frozen=True)
class LoggedAssessment:
    parent: str  # the evaluate run
    model_runs: Mapping[str, str]  # model -> its nested run


def log_assessment(assessment: Assessment, run: EvaluateRun) -> LoggedAssessment:
    """The parent run with the figures, a nested run per model (each closed), and before/after."""
    store.configure(run.experiment)
    tags = store.run_tags("evaluate", run.data_md5)
    with mlflow.start_run(run_name="evaluate", tags={**tags, "resample_run_id": run.resample_run_id}) as parent:
        parent_id = parent.info.run_id
        champion = {"champion": assessment.champion, "champion_criterion": assessment.champion_criterion}
        runs.log_values(parent_id, params={**champion, **run.params})
        runs.save_and_log_figures(parent_id, _figures(assessment), run.plots)
        for path in run.artifacts:
            runs.log_file(parent_id, path)
        model_runs = {
            name: _log_model_run(parent_id, result, tags, assessment, run.trained_by.get(name))
            for name, result in assessment.results.items()
        }
        _log_before_after(parent_id, model_runs, assessment, run)
    return LoggedAssessment(parent_id, model_runs)


def _log_model_run(
    parent_id: str, result: ModelResult, tags: Mapping[str, str], assessment: Assessment, training_run_id: str | None
) -> str:
    """A nested run per model; ``training_run_id`` links a network to the run that trained it."""
    champion = str(result.name == assessment.champion)
    model_tags = {**tags, "model": result.name, "kind": result.kind, "champion": champion}
    if training_run_id is not None:
        model_tags["training_run_id"] = training_run_id
    run_id = runs.start_child(parent_id, f"evaluate-{result.name}", model_tags)
    values: dict[str, float] = {}
    for metric, v in result.test.items():
        values |= with_interval("test", metric, v)
    for metric, v in result.vs_baseline.items():
        values |= with_interval("diff", metric, v)
    values |= {f"val_log_loss_{k}": v for k, v in result.calibration_losses.items()}
    params = {"threshold": result.threshold, "calibration": result.calibration}
    runs.log_values(run_id, params=params, metrics=values)
    counts = metrics.confusion(assessment.y_test, result.p_test, result.threshold)
    title = f"{result.name}: test, threshold {result.threshold:.3f}"
    runs.log_figure(run_id, figures.confusion_matrix(counts, title), "confusion_matrix_test.png")
    runs.finish(run_id)
    return run_id


def _log_before_after(parent_id: str, model_runs: Mapping[str, str], assessment: Assessment, run: EvaluateRun) -> None:
    """On the evaluate run: the original's test metrics and each ladder step's, with its difference from
    the step before, and the before/after bars; on each served network's run: its difference from the original."""
    assessed = assessment.before_after
    params, values = ladder_values(assessed)
    runs.log_values(parent_id, params=params, metrics=values)
    runs.log_file(parent_id, run.before_after)
    figure = {"before_after.png": _before_after_figure(assessed, assessment.champion)}
    runs.save_and_log_figures(parent_id, figure, run.plots)
    for name, scored in assessed.after.items():
        diffs = {k: v for m in VERSUS_ORIGINAL for k, v in with_interval("vs_original", m, scored.versus[m]).items()}
        runs.log_values(model_runs[name], metrics=diffs)


def ladder_values(assessed: BeforeAfter) -> tuple[dict[str, object], dict[str, float]]:
    """The parameters and metrics of the original and of each ladder step ``ladder<k>_…``."""
    original = assessed.original.served
    values: dict[str, float] = {"original_threshold": original.threshold, "original_updates": original.updates}
    for m in VERSUS_ORIGINAL:
        values |= with_interval("original_test", m, assessed.original.test[m])
    params: dict[str, object] = {}
    for k, step in enumerate(assessed.ladder):
        s, n = step.served, f"ladder{k}"
        params |= {f"{n}_label": s.label, f"{n}_network": s.network, f"{n}_calibration": s.calibration}
        values |= {f"{n}_threshold": s.threshold, f"{n}_updates": s.updates, f"{n}_seeds": s.seeds}
        for m in VERSUS_ORIGINAL:
            values |= with_interval(f"ladder{k}_test", m, step.test[m])
            values |= with_interval(f"ladder{k}_step", m, step.versus[m]) if step.versus else {}
    return params, values


def _before_after_figure(assessed: BeforeAfter, champion: str) -> Figure:
    bars = {
        f"before: original, one seed, threshold {assessed.original.served.threshold:g}": assessed.original.test,
        f"after: champion ({champion})": assessed.after[champion].test,
    }
    shown = {k: {m: (v[m]["value"], v[m]["low"], v[m]["high"]) for m in BEFORE_AFTER} for k, v in bars.items()}
    title = "The original network as used against the served champion, test split"
    return figures.before_after(shown, BEFORE_AFTER, title)


def _figures(assessment: Assessment) -> dict[str, Figure]:
    """ROC and precision-recall curves and reliability on test, and the forest of each model against the
    baseline on the resampling folds and on test."""
    results, y = assessment.results, assessment.y_test
    shown = ["baseline", assessment.champion, "logistic_regression", "gradient_boosting"]
    curves = {n: (y, results[n].p_test) for n in dict.fromkeys(shown)}
    return {
        "roc_pr_curves.png": figures.roc_and_pr_curves(curves, "Test split"),
        "reliability.png": figures.reliability(curves, assessment.ece_bins, "Calibration on the test split"),
        "forest.png": _forest(assessment),
    }


def _forest(assessment: Assessment) -> Figure:
    criterion, panels = assessment.gate.criterion, ("resampled development data", "test split")
    forest: dict[str, dict[str, tuple[float, float, float]]] = {}
    for name, model in assessment.gate.models.items():
        if name == "baseline":
            continue
        c = model.vs_baseline[criterion]
        forest[name] = {panels[0]: (c.mean, c.low, c.high)}
        if name in assessment.results:
            d = assessment.results[name].vs_baseline[criterion]
            forest[name][panels[1]] = (d["value"], d["low"], d["high"])
    label = f"{criterion.replace('_', ' ')} minus the baseline's (95 % interval)"
    return figures.forest(forest, panels, label, "Each model against the baseline")
