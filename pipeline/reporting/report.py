"""The Markdown report: evidence from the registry, tables, figures and diagrams, into a Jinja2 template.

Every number comes from the gathered runs. The narrative's judgements ("better", "within
noise") are computed here from those numbers, so the text changes when the results do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import keras
import mlflow
import yaml

from pipeline import figures
from pipeline.config import Params
from pipeline.data.schema import DataSchema
from pipeline.evaluation.summary import BASELINE
from pipeline.metric_registry import label
from pipeline.reporting import before_after_tables, diagrams, facts, formats, rendering, tables
from pipeline.reporting.evidence import Evidence, Study, download
from pipeline.tracking import registry

TEMPLATE = "report.md.j2"
SUMMARY_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss")  # results diagram

# images copied from the runs: (run, artifact path) -> file name under the figures folder
ARTIFACT_FIGURES = {
    "before_after.png": ("evaluate", "before_after.png"),
    "roc_pr_curves.png": ("evaluate", "roc_pr_curves.png"),
    "forest.png": ("evaluate", "forest.png"),
    "reliability.png": ("evaluate", "reliability.png"),
    "convergence_tuned.png": ("comparison", "convergence.png"),
    "seeds_roc_auc.png": ("comparison", "seeds_roc_auc.png"),
    "seeds_log_loss.png": ("comparison", "seeds_log_loss.png"),
    "search_history.png": ("search", "optuna/optimization_history.png"),
    "search_importances.png": ("search", "optuna/param_importances.png"),
    "confusion_baseline.png": ("model:baseline", "confusion_matrix_test.png"),
    "confusion_champion.png": ("model:champion", "confusion_matrix_test.png"),
    "gains.png": ("segment", "gains.png"),
    "shap_bar.png": ("segment", "shap_bar.png"),
    "shap_beeswarm.png": ("segment", "shap_beeswarm.png"),
    "campaign_curves.png": ("campaign", "campaign_curves.png"),
    "campaign_sensitivity.png": ("campaign", "sensitivity.png"),
}
# Optuna draws importances only from two or more complete trials: a small search may have fewer
OPTIONAL_FIGURES = {"search_importances.png"}


@dataclass(frozen=True)
class Figure:
    path: str  # relative to the report
    source: str | None = None  # the draw.io file a diagram image was drawn from


def render(params: Params, evidence: Evidence, workdir: Path) -> str:
    """Write figures and diagrams, then return the report's text."""
    cfg = params.report
    document_dir = cfg.document.parent
    images = _artifact_figures(evidence, cfg.figures, document_dir)
    images["loss_curves.png"] = _loss_figure(evidence, cfg.figures, document_dir)
    images["recipes_loss_curves.png"] = _recipes_loss_figure(evidence, cfg.figures, document_dir)
    images |= _diagrams(params, evidence, workdir, document_dir)
    built = _tables(params, evidence)
    environment = rendering.environment()
    schema = DataSchema.from_yaml(params.paths.schema_file)
    context = {
        "tables": {t.id: t.markdown() for t in built.values()},
        "fig": images,
        "facts": facts.facts(params, schema, evidence),
        "params": params,
        "evidence": evidence,
    }
    return environment.get_template(TEMPLATE).render(**context)


def _tables(params: Params, evidence: Evidence) -> dict[str, tables.Table]:
    actions = {spec.name: spec.action for spec in params.segment.segments.values()}
    built = [
        tables.provenance(evidence),
        tables.gate(evidence),
        tables.resampled(evidence),
        tables.resampled_verdicts(evidence),
        tables.recipes(evidence),
        tables.recipes_vs_tuned(evidence),
        tables.confirmation(evidence),
        tables.ensemble(evidence),
        tables.splits(evidence),
        tables.customer_base(evidence, params.report.profile_columns),
        tables.baseline_validation(evidence),
        tables.convergence(evidence),
        tables.optimizers(evidence),
        tables.search_configuration(evidence),
        before_after_tables.before_after(evidence),
        before_after_tables.after_vs_original(evidence),
        before_after_tables.ladder(evidence),
        *([tables.paired(evidence)] if evidence.champion != BASELINE else []),
        tables.models_on_test(evidence),
        tables.calibration(evidence),
        tables.errors(evidence),
        tables.segments(evidence, actions),
        tables.churners_reached(evidence),
        tables.campaign_rules(evidence),
        tables.campaign_plan(evidence),
        tables.campaign_sensitivity(evidence),
        tables.personas(evidence),
        tables.drivers(evidence),
        tables.importance(evidence),
    ]
    return {t.id: t for t in built}


def _artifact_figures(evidence: Evidence, folder: Path, document_dir: Path) -> dict[str, Figure]:
    runs = {
        "evaluate": evidence.evaluate_run,
        "comparison": evidence.comparison_run,
        "search": evidence.studies["search"].run,
        "segment": evidence.segment_run,
        "campaign": evidence.campaign_run,
        "model:baseline": evidence.model_runs[BASELINE],
        "model:champion": evidence.model_runs[evidence.champion],
    }
    out = {}
    for name, (run_key, artifact) in ARTIFACT_FIGURES.items():
        try:
            path = download(runs[run_key], artifact, folder / name)
        except mlflow.exceptions.MlflowException:
            if name in OPTIONAL_FIGURES:
                continue
            raise
        out[name] = Figure(os.path.relpath(path, document_dir))
    return out


def _loss_figure(evidence: Evidence, folder: Path, document_dir: Path) -> Figure:
    """Validation loss per epoch, mean over the seeds: the baseline against each tuned study."""
    return _convergence(evidence, evidence.studies, "Validation loss per epoch: baseline and every tuned study",
                        folder / "loss_curves.png", document_dir)  # fmt: skip


def _recipes_loss_figure(evidence: Evidence, folder: Path, document_dir: Path) -> Figure:
    """Validation loss per epoch, mean over the seeds: the baseline against each of the briefs' recipes."""
    return _convergence(evidence, evidence.recipes, "Validation loss per epoch: baseline and the briefs' recipes",
                        folder / "recipes_loss_curves.png", document_dir)  # fmt: skip


def _convergence(
    evidence: Evidence, trained: Mapping[str, Study], title: str, path: Path, document_dir: Path
) -> Figure:
    curves = {BASELINE: [evidence.histories[r.info.run_id]["val_loss"] for r in evidence.baseline_seed_runs]}
    for name, study in trained.items():
        curves[name] = [evidence.histories[r.info.run_id]["val_loss"] for r in study.seed_runs]
    fig = figures.convergence(curves, title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    figures.close(fig)
    return Figure(os.path.relpath(path, document_dir))


def _diagrams(params: Params, evidence: Evidence, workdir: Path, document_dir: Path) -> dict[str, Figure]:
    cfg = params.report
    champion = evidence.champion

    def title(alias: str) -> str:  # the served model averages its seeds: the diagram shows one of them
        version = evidence.versions[alias]
        return f"(version {version.version}; one of {version.tags['seeds']} seed models)"

    models = {
        f"Baseline {title(registry.BASELINE)}": _keras_model(
            tables.selected_baseline_run(evidence), workdir / "baseline"
        ),
        f"Champion: {champion} {title(registry.CHAMPION)}": _keras_model(
            trained.selected_run()
            if (trained := evidence.trained(champion))
            else tables.selected_baseline_run(evidence),
            workdir / "champion",
        ),
    }
    original, champ = evidence.before_after["original"], evidence.model_runs[champion].data.metrics
    metric_rows = [["Test metric", f"Before: original (threshold {original['threshold']:g})", f"After: {champion}"]] + [
        [label(k), formats.num(original["test"][k]["value"]), formats.num(champ[f"test_{k}"])] for k in SUMMARY_METRICS
    ]
    segment_rows = [["Segment", "Test customers", "Actual churn (%)", "Lift"]] + [
        [r["segment"], f"{r['customers']:.0f}", formats.pct(r["actual_churn_rate"]), formats.num(r["lift"], 2)]
        for _, r in evidence.segment_tables["segments_test"].iterrows()
    ]
    raw_params = yaml.safe_load(params.source.read_text())
    actual = {k: v.actual_churn_rate for k, v in evidence.segment_summary.segments_test.items()}
    segmented = params.segment.model_copy(update={"value_cut": evidence.segment_summary.value_cut.amount})
    champion_version = evidence.versions[registry.CHAMPION]
    drawn = [
        diagrams.pipeline(cfg.dvc_file, raw_params),
        diagrams.architectures(models),
        diagrams.study_design(params),
        diagrams.segmentation(segmented, actual),
        diagrams.serving(
            params.tracking.registered_model,
            float(champion_version.tags["threshold"]),
            champion_version.tags["calibration"],
        ),
        diagrams.results(
            f"The original network as used against the champion ({champion}), test split", metric_rows, segment_rows
        ),
    ]
    out = {}
    for diagram in drawn:
        source, image = diagram.write(cfg.diagrams, cfg.figures / "diagrams")
        out[f"diagram:{diagram.name}"] = Figure(os.path.relpath(image, document_dir), str(source))
    return out


def _keras_model(seed_run: mlflow.entities.Run, folder: Path) -> keras.Model:
    seed = seed_run.data.tags["seed"]
    path = download(seed_run, f"model/seed-{seed}.keras", folder / f"seed-{seed}.keras")
    return keras.saving.load_model(path, compile=False)
