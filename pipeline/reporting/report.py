"""The Markdown report: evidence from the registry, tables, figures and diagrams, into a Jinja2 template.

Every number comes from the gathered runs. The narrative's judgements ("better", "within
noise") are computed here from those numbers, so the text changes when the results do.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import mlflow
import yaml

from pipeline import figures
from pipeline.config import Params, SegmentConfig
from pipeline.data.schema import DataSchema
from pipeline.metric_registry import RESAMPLED, label, read_interval
from pipeline.reporting import before_after_tables, claims, diagrams, rendering, tables
from pipeline.reporting.evidence import Evidence, Study, download
from pipeline.segmentation import personas
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
        "facts": facts(params, evidence) | data_facts(params, schema, evidence.segment_summary["value_cut"]),
        "params": params,
        "evidence": evidence,
    }
    return environment.get_template(TEMPLATE).render(**context)


def data_facts(params: Params, schema: DataSchema, value_cut: Mapping[str, float]) -> dict[str, object]:
    """What the prose says of the data, from the schema and params rather than in the template's words:
    column counts, the split, the value axis, the persona columns, the high-risk segments' names."""
    seg = params.segment
    checked = [*([schema.id_column] if schema.id_column else []), *schema.feature_columns, schema.target.column]
    fractions = params.prepare.fractions
    return {
        "feature_columns": len(schema.feature_columns),
        "checked_columns": len(checked),  # what the contract checks: the id, the features and the target
        "ignored_columns": len(schema.ignore),
        "split": "/".join(f"{100 * fractions[name]:g}" for name in ("train", "validation", "test")),
        "value": value_facts(seg, value_cut),
        "persona_columns": params.report.persona_columns_text or f"the columns {listed(seg.persona_columns)}",
        "high_risk_segments": [seg.segments[c].name for c in ("high_risk_high_value", "high_risk_low_value")],
    }


def value_facts(seg: SegmentConfig, value_cut: Mapping[str, float]) -> dict[str, object]:
    """The value axis in words: the value column's name as words ("annual_fee": "annual fee"),
    its cut (``segment``'s ``value_cut``: the amount and the training split's share below it), and
    revenue at risk's formula in its unit."""
    words = " ".join(personas.column_words(seg.value_column))
    per_month = {"month": f" x {seg.horizon_months}", "year": f" / 12 x {seg.horizon_months}", "lifetime": ""}
    return {
        "words": words,
        "cut": value_cut["amount"],
        "position": position(value_cut["training_share_below"]),
        "revenue_at_risk": f"probability x {words}{per_month[seg.value_unit]}",
    }


def position(share_below: float) -> str:
    """Where a cut sits among the training customers: "about the median" within 5 points of it, else the
    nearest percentile ("about the 70th percentile")."""
    if abs(share_below - 0.5) <= 0.05:
        return "about the median"
    percent = round(100 * share_below)
    suffix = "th" if 10 <= percent % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(percent % 10, "th")
    return f"about the {percent}{suffix} percentile"


def listed(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


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
        *([tables.paired(evidence)] if evidence.champion != tables.BASELINE else []),
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


def campaign_facts(params: Params, evidence: Evidence) -> dict:
    """The campaign answer: the plan, what it realized on test against its rivals, and how it moves
    with the success rate at the configured contact cost."""
    summary, cfg = evidence.campaign_summary, params.segment.campaign
    realized = summary["test_net_value"]
    sensitivity = evidence.campaign_tables["sensitivity_test"]
    at_cost = sensitivity[sensitivity["contact_cost"] == cfg.contact_cost].sort_values("success_rate")
    plan = evidence.campaign_tables["plan_by_segment"]
    return {
        "contacts": summary["planned_contacts"],  # of the test customers, as every value here
        "customers": summary["customers"],  # the whole base, which the scaling assumes test is typical of
        "share": summary["planned_contacts"] / summary["test_customers"],
        "expected": summary["planned_expected_net_value"],
        "scale": summary["base_scale"],
        "existing_is_champion": evidence.champion == tables.BASELINE,
        "test_contacts": summary["test_planned_contacts"],
        "test_customers": summary["test_customers"],
        "realized": realized,
        # the plan against each rule at the same size: 1 ahead, -1 behind, 0 within noise (paired interval)
        "lead": {
            rule: 1 if v["plan_minus_rule_low"] > 0 else -1 if v["plan_minus_rule_high"] < 0 else 0
            for rule, v in realized.items()
        },
        "mix": [(r["segment"], int(r["contacts"])) for _, r in plan.iterrows() if r["contacts"] > 0],
        "by_success": [(r["success_rate"], r["contact_share"], r["net_value"]) for _, r in at_cost.iterrows()],
    }


def _sign(low: float, high: float, lower_is_better: bool) -> int:
    """1: the interval says better, -1: worse, 0: it contains zero."""
    better, worse = (high < 0, low > 0) if lower_is_better else (low > 0, high < 0)
    return 1 if better else -1 if worse else 0


def resampled_facts(evidence: Evidence) -> dict:
    """The answer the gate gave on resampled development data, and what the test split says of it."""
    r = evidence.resampled
    g, models, champion = r["gate"], r["models"], r["champion"]
    key, alpha, lower = g["criterion"], g["alpha"], g["lower_is_better"]
    challengers = [n for n in tables.resampled_order(evidence) if n != tables.BASELINE]
    networks = [n for n in challengers if models[n]["kind"] == "ann"]
    references = [n for n in challengers if models[n]["kind"] != "ann"]
    verdicts = {n: tables.verdict(evidence, n) for n in challengers}

    def versus(name: str) -> dict:
        c = models[name]["vs_baseline"][key]
        significant = verdicts[name].startswith("significantly better")
        return c | {"sign": 1 if significant else -1 if verdicts[name].startswith("worse") else 0,
                    "p_gate": tables.gate_p(c), "significant": significant}  # fmt: skip

    def on_test(name: str) -> dict | None:
        run = evidence.model_runs.get(name)
        if run is None or f"diff_{key}" not in run.data.metrics:
            return None
        value, low, high = read_interval(run.data.metrics, "diff", key)
        within = -g["rope"] < low and high < g["rope"]
        return {"value": value, "low": low, "high": high, "sign": _sign(low, high, lower), "within_rope": within}

    return {
        "criterion": key,
        "label": label(key).lower(),
        "lower_is_better": lower,
        "alpha": alpha,
        "gate": g,
        "design": r["design"],
        "detectable": r["detectable"],
        "rope_money": r["rope_in_money"],
        "n_folds": r["design"]["repeats"] * r["design"]["folds"],
        "nb_factor": 1 / (r["design"]["repeats"] * r["design"]["folds"])
        + r["design"]["held_rows"] / r["design"]["training_rows"],
        "champion": champion,
        "route": r["route"],
        "reason": r["reason"],
        "qualified": r["qualified"],
        "equivalent_and_cheaper": r["equivalent_and_cheaper"],
        "family": len(networks),
        "metrics": len(RESAMPLED),
        "networks": networks,
        "references": references,
        "mean": {n: m["mean"][key] for n, m in models.items()},
        "value": {n: 1000 * m["value"] for n, m in models.items()},
        "posterior": {n: models[n]["posterior"] for n in challengers},
        "verdict": verdicts,
        "versus": {n: versus(n) for n in challengers},
        "better": [n for n in networks if versus(n)["sign"] > 0],
        "equivalent": [n for n in networks if verdicts[n].startswith("practically equivalent")],
        "worse": [n for n in networks if versus(n)["sign"] < 0],
        "references_better": [n for n in references if versus(n)["sign"] > 0],
        "cost": {n: m["cost"] for n, m in models.items()},
        "half_width": _half_width(models, networks, key),
        "blend": _blend_facts(evidence, versus, key, lower),
        "test": {n: on_test(n) for n in challengers},
        "test_value": {n: run.data.metrics[f"test_{key}"] for n, run in evidence.model_runs.items()},
        "test_better": [n for n in networks if (t := on_test(n)) and t["sign"] > 0],
        "test_worse": [n for n in networks if (t := on_test(n)) and t["sign"] < 0],
    }


def _half_width(models: dict, networks: list[str], key: str) -> float:
    """Mean half-width of the networks' 95 % corrected intervals on their difference from the baseline."""
    widths = [(models[n]["vs_baseline"][key]["high"] - models[n]["vs_baseline"][key]["low"]) / 2 for n in networks]
    return sum(widths) / len(widths) if widths else math.nan


def _blend_facts(evidence: Evidence, versus: Callable[[str], dict], key: str, lower: bool) -> dict | None:
    models, champion = evidence.resampled["models"], evidence.resampled["champion"]
    if tables.BLEND not in models:
        return None
    rival = "gradient_boosting" if "gradient_boosting" in models else None
    return {
        "name": tables.BLEND,
        "mean": models[tables.BLEND]["mean"][key],
        "versus": versus(tables.BLEND),
        "champion": _pair(evidence, tables.BLEND, champion, key, lower) if champion != tables.BASELINE else None,
        "trees": _pair(evidence, tables.BLEND, rival, key, lower) if rival else None,
        "trees_mean": models[rival]["mean"][key] if rival else None,
    }


def _pair(evidence: Evidence, model: str, other: str, key: str, lower: bool) -> dict:
    c = tables.resampled_difference(evidence, model, other, key)
    return {"mean": c.mean, "low": c.low, "high": c.high, "sign": _sign(c.low, c.high, lower)}


def recipe_facts(evidence: Evidence) -> list[dict]:
    """Per recipe: its standing against the baseline, and what tuning its counterpart added."""
    r = evidence.resampled
    key, lower = r["gate"]["criterion"], r["gate"]["lower_is_better"]
    out = []
    for name in evidence.recipes:
        verdict = tables.verdict(evidence, name)
        c = r["models"][name]["vs_baseline"][key]
        other = tables.counterpart(evidence, name)
        params, base = evidence.recipes[name].run.data.params, evidence.baseline_run.data.params
        changed = sorted(k.split(".")[0] for k, v in base.items() if k in params and params[k] != v)
        out.append(
            {
                "changes": list(dict.fromkeys(changed)),  # which of model, optimizer, training differ from the baseline
                "name": name,
                "mean": r["models"][name]["mean"][key],
                "versus": c,
                "verdict": verdict.removesuffix(" (champion)"),
                "counterpart": other,
                "counterpart_mean": r["models"][other]["mean"][key] if other else None,
                "added": _pair(evidence, other, name, key, lower) if other else None,
                "optimizer": evidence.recipes[name].run.data.params["optimizer"],
            }
        )
    return out


def ensemble_facts(evidence: Evidence) -> dict:
    """Per model: is the seed ensemble better than a single seed model on test (log loss, ROC-AUC)?"""
    return {
        name: {m: v | {"sign": _sign(v["low"], v["high"], m in ("log_loss", "brier"))} for m, v in by_metric.items()}
        for name, by_metric in evidence.ensemble_vs_single.items()
    }


def facts(params: Params, evidence: Evidence) -> dict:
    """The numbers and judgements the narrative needs, computed from the runs."""
    champion = evidence.champion
    base_run, champ_run = evidence.model_runs["baseline"], evidence.model_runs[champion]
    bm, cm = base_run.data.metrics, champ_run.data.metrics

    def ci_excludes_zero(metrics: dict[str, float], key: str) -> int:
        _, low, high = read_interval(metrics, "diff", key)
        return 1 if low > 0 else -1 if high < 0 else 0

    comparison = {k: s for k, s in evidence.studies.items() if k != "search"}
    val_loss = {k: s.run.data.metrics["val_log_loss_mean"] for k, s in comparison.items()}
    seed_sd = sum(s.run.data.metrics["val_log_loss_std"] for s in comparison.values()) / len(comparison)
    best_optimizer = min(val_loss, key=val_loss.get)
    epochs = {k: s.run.data.metrics["val_best_epoch_mean"] for k, s in comparison.items()}
    references = {n: r for n, r in evidence.model_runs.items() if r.data.tags.get("kind") == "reference"}
    best_reference = max(references, key=lambda n: references[n].data.metrics["test_roc_auc"])
    ann_auc = {n: r.data.metrics["test_roc_auc"] for n, r in evidence.model_runs.items() if n not in references}
    segments_test = evidence.segment_summary["segments_test"]
    by_risk = sorted(segments_test.items(), key=lambda kv: kv[1]["actual_churn_rate"], reverse=True)
    reached = evidence.segment_summary["churners_reached_test"]
    baseline_curve = tables.curve_summary(evidence.histories[tables.selected_baseline_run(evidence).info.run_id])
    return {
        "resampled": resampled_facts(evidence),
        "summary": summary_facts(evidence, (min(epochs.values()), max(epochs.values()))),
        "recipes": recipe_facts(evidence),
        "ensemble": ensemble_facts(evidence),
        "campaign": campaign_facts(params, evidence),
        "champion": champion,
        "champion_version": evidence.versions[registry.CHAMPION].version,
        "baseline_version": evidence.versions[registry.BASELINE].version,
        "customers": int(sum(evidence.prepare_run.data.metrics[f"{s}_rows"] for s in ("train", "validation", "test"))),
        "churn_rate": evidence.prepare_run.data.metrics["train_churn_rate"],
        "roc_auc": {"baseline": bm["test_roc_auc"], "champion": cm["test_roc_auc"]},
        "f1": {"baseline": bm["test_f1"], "champion": cm["test_f1"]},
        "recall": {"baseline": bm["test_recall"], "champion": cm["test_recall"]},
        "precision": {"baseline": bm["test_precision"], "champion": cm["test_precision"]},
        "log_loss": {"baseline": bm["test_log_loss"], "champion": cm["test_log_loss"]},
        "diff": {k: {"value": cm.get(f"diff_{k}", 0.0), "sign": ci_excludes_zero(cm, k)} for k in ("roc_auc", "f1")}
        if champion != "baseline"
        else {k: {"value": 0.0, "sign": 0} for k in ("roc_auc", "f1")},
        "ann_auc_range": (min(ann_auc.values()), max(ann_auc.values())),
        "best_reference": best_reference,
        "best_reference_auc": references[best_reference].data.metrics["test_roc_auc"],
        "val_loss": {
            "baseline": evidence.baseline_run.data.metrics["val_log_loss_mean"],
            "champion": (
                trained.run if (trained := evidence.trained(champion)) else evidence.baseline_run
            ).data.metrics["val_log_loss_mean"],
            "best_optimizer": best_optimizer,
            "best_optimizer_value": val_loss[best_optimizer],
            "optimizer_range": max(val_loss.values()) - min(val_loss.values()),
            "seed_sd": seed_sd,
        },
        "epochs": {
            "baseline": evidence.baseline_run.data.metrics["val_best_epoch_mean"],
            "baseline_max": params.baseline.candidate.training.epochs,
            "tuned_min": min(epochs.values()),
            "tuned_max": max(epochs.values()),
            "baseline_overfit": baseline_curve["last_minus_best"],
        },
        "baseline_recall_at_half": evidence.baseline_run.data.metrics["val_recall_mean"],
        "threshold": {
            "baseline": float(base_run.data.params["threshold"]),
            "champion": float(champ_run.data.params["threshold"]),
        },
        "calibration": {
            "baseline": base_run.data.params["calibration"],
            "champion": champ_run.data.params["calibration"],
        },
        "ece": {"baseline": bm["test_ece"], "champion": cm["test_ece"]},
        "segments_by_risk": by_risk,
        "reached": reached,
        "test_churners": round(sum(v["customers"] * v["actual_churn_rate"] for v in segments_test.values())),
        "personas": evidence.segment_summary["personas"],
        "importance_correlation": evidence.segment_summary["importance_rank_correlation"],
        "disagreements": evidence.segment_summary["importance_disagreements"],
        "top_drivers": list(evidence.segment_tables["importance"]["column"].head(3)),
        "paired_auc_width": cm.get("diff_roc_auc_high", 0.0) - cm.get("diff_roc_auc_low", 0.0),
        "churn_contrasts": _contrasts(evidence.profile, params.report.profile_columns),
    }


def summary_facts(evidence: Evidence, tuned_epochs: tuple[float, float]) -> claims.Summary:
    """What § 1 may claim changed for the served model, from this run's numbers."""
    champion = evidence.champion
    run = evidence.model_runs[champion]
    trained = evidence.trained(champion)
    training_run = trained.run if trained else evidence.baseline_run
    prefix = "best." if "best.training.epochs" in training_run.data.params else ""
    patience = training_run.data.params[f"{prefix}training.early_stopping_patience"]
    training = claims.Training(
        early_stopping=patience not in ("None", "null", ""),
        max_epochs=int(training_run.data.params[f"{prefix}training.epochs"]),
        best_epoch=training_run.data.metrics["val_best_epoch_mean"],
        tuned_epochs=tuned_epochs,
    )
    return claims.Summary(
        before_after=claims.before_after(evidence.before_after, champion),
        training=training,
        calibration=run.data.params["calibration"],
        ece=run.data.metrics["test_ece"],
        threshold=float(run.data.params["threshold"]),
    )


def _contrasts(profile: dict, columns: int) -> list[tuple[str, tuple[str, float], tuple[str, float]]]:
    """Per column of the customer-base table: its highest- and lowest-churn values."""
    out = []
    for col in tables.widest_churn_spread(profile, columns):
        rates = [(level, v["churn_rate"]) for level, v in profile["categorical"][col].items()]
        out.append((col, max(rates, key=lambda x: x[1]), min(rates, key=lambda x: x[1])))
    return out


def _artifact_figures(evidence: Evidence, folder: Path, document_dir: Path) -> dict[str, Figure]:
    runs = {
        "evaluate": evidence.evaluate_run,
        "comparison": evidence.comparison_run,
        "search": evidence.studies["search"].run,
        "segment": evidence.segment_run,
        "campaign": evidence.campaign_run,
        "model:baseline": evidence.model_runs["baseline"],
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
    curves = {"baseline": [evidence.histories[r.info.run_id]["val_loss"] for r in evidence.baseline_seed_runs]}
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
        [label(k), tables.num(original["test"][k]["value"]), tables.num(champ[f"test_{k}"])] for k in SUMMARY_METRICS
    ]
    segment_rows = [["Segment", "Test customers", "Actual churn (%)", "Lift"]] + [
        [r["segment"], f"{r['customers']:.0f}", tables.pct(r["actual_churn_rate"]), tables.num(r["lift"], 2)]
        for _, r in evidence.segment_tables["segments_test"].iterrows()
    ]
    raw_params = yaml.safe_load(params.source.read_text())
    actual = {k: v["actual_churn_rate"] for k, v in evidence.segment_summary["segments_test"].items()}
    segmented = params.segment.model_copy(update={"value_cut": evidence.segment_summary["value_cut"]["amount"]})
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
