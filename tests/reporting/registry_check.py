"""Re-read the registry and check every number in REPORT.md's tables.

Deliberately independent of ``pipeline.reporting`` (only its display labels are shared): it
walks the registry and the runs with ``MlflowClient`` itself, so a wrong link or a wrong metric
in the report code shows up here. The resampled numbers are read from the resample run's metrics
(``<model>/<metric>``, ``<model>/diff_<metric>``, ...), its parameters and its artifacts; the
differences between two challengers are recomputed from its ``folds.csv`` with the pipeline's
corrected resampled t-test; the seed-ensemble table from the evaluate run's ``ensemble_vs_single.json``.
Used by the synthetic-project tests and by the end-to-end test on the real data.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

from pipeline.evaluation.resampled import corrected_t_test
from pipeline.metric_registry import METRICS, TEST, VERSUS_ORIGINAL
from pipeline.metric_registry import label as metric_label
from pipeline.reporting.tables import NOT_RECORDED

# Each table's column titles after its key column(s), in the order of the expected cells below: the report's
# cells are matched to them by title, so the check does not depend on the order of the report's columns.
TITLES = {
    "provenance": ["Version", "Model", "Evaluate run", "Reproduction", "Git commit", "Data md5"],
    "paired": ["Champion minus baseline, paired bootstrap [95 % CI]"],
    "models_on_test": ["Kind", "Calibration", "Threshold", "ROC-AUC", "PR-AUC", "F1", "Log loss",
                       "ROC-AUC minus baseline"],
    "calibration": ["Val. log loss, raw", "Platt", "Isotonic", "Kept", "Test Brier score [95 % CI]",
                    "Test ECE [95 % CI]"],
    "baseline_validation": ["Mean over seeds", "Standard deviation"],
    "optimizers": ["Tuned hyperparameters", "Trials", "Best trial val. log loss", "Val. log loss, mean ± sd over seeds",
                   "Val. ROC-AUC, mean ± sd", "Best epoch (mean)"],
    "search_configuration": ["Value found by the search"],
    "convergence": ["Epochs run", "Best epoch", "Val. loss at best", "Val. loss at last", "Train loss at last",
                    "Last minus best"],
    "splits": ["Customers", "Churn rate (%)"],
    "segments": ["Test customers", "Share (%)", "Predicted churn (%)", "Actual churn (%)", "Lift", "Revenue at risk",
                 "Action"],
    "campaign_plan": ["Test customers", "To contact", "Contact share (%)", "Expected net value of contacting them",
                      "Mean expected value per customer"],
    "importance": ["Mean abs. SHAP value", "SHAP rank", "Permutation ROC-AUC drop", "Permutation rank"],
    "drivers": ["First driver (mean SHAP)", "Second", "Third"],
    "customer_base": ["Share of train (%)", "Churn rate (%)"],
    "gate": ["Value"],
    "recipes": ["Hidden units", "Dropout", "Batch normalization", "Optimizer", "Batch size", "Early stopping patience",
                "Val. log loss, mean ± sd over seeds", "Best epoch (mean)"],
    "ensemble": ["Single model, mean ± sd over seeds", "Seed ensemble",
                 "Ensemble minus single [paired bootstrap 95 % CI]"],
}  # fmt: skip
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?")
PARENT = "mlflow.parentRunId"
Expected = float | str | tuple | dict | None


def read_tables(report: str) -> dict[str, list[list[str]]]:
    """``<!-- table: id -->`` followed by a Markdown table -> rows of cells (header and rule dropped)."""
    return {table_id: rows for table_id, (_, rows) in read_headed_tables(report).items()}


def read_headed_tables(report: str) -> dict[str, tuple[list[str], list[list[str]]]]:
    """``<!-- table: id -->`` followed by a Markdown table -> its column titles and its rows of cells."""
    found = {}
    for match in re.finditer(r"<!-- table: (\w+) -->\n((?:\|.*\|\n?)+)", report):
        lines = [
            [c.strip() for c in line.strip().strip("|").split(" | ")] for line in match.group(2).strip().splitlines()
        ]
        found[match.group(1)] = (lines[0], lines[2:])
    return found


def check_report(report_path: Path, registered_model: str, profile_columns: int) -> int:
    """Assert each table cell equals what the registry's runs hold, matching cells by column title, and that
    the report states the gate's reason as the resample run recorded it; return how many numbers were checked."""
    text = report_path.read_text()
    tables = read_headed_tables(text)
    client = MlflowClient()
    expected, titles = expected_tables(client, registered_model, profile_columns)
    reason = resample_run(client, registered_model).data.tags["gate_reason"]
    assert f"*{reason}*" in text, f"the gate's reason is not in the report: {reason!r}"
    assert set(tables) == set(expected), f"tables in report {sorted(tables)} != checked {sorted(expected)}"
    checked = 0
    for table_id, rows in expected.items():
        header, found = tables[table_id]
        keys = 2 if isinstance(next(iter(rows)), tuple) else 1  # (attribute, value) tables have two key columns
        assert sorted(header[keys:]) == sorted(titles[table_id]), f"{table_id}: columns {header} vs {titles[table_id]}"
        actual = {(tuple(row[:keys]) if keys == 2 else row[0]): dict(zip(header, row, strict=True)) for row in found}
        assert set(actual) == set(rows), f"{table_id}: rows {sorted(actual)} != {sorted(rows)}"
        for key, cells in rows.items():
            assert len(titles[table_id]) == len(cells), f"{table_id}/{key}: {cells} for {titles[table_id]}"
            for title, want in zip(titles[table_id], cells, strict=True):
                checked += _check_cell(f"{table_id}/{key}", actual[key][title], want, title)
    return checked


def _check_cell(where: str, text: str, want: Expected, column: str) -> int:
    """One cell against what it must say; the column's title ends each message."""
    if want is None:  # free text (an action); not a number
        return 0
    if isinstance(want, str):
        assert text == want, f"{where}: {text!r} != {want!r} [{column}]"
        return 0
    if isinstance(want, dict):  # "optimizer: name=value, ..."
        name, _, pairs = text.partition(": ")
        assert name == want["optimizer"], f"{where}: {text!r} [{column}]"
        got = dict(p.split("=") for p in pairs.split(", "))
        assert set(got) == set(want["values"]), f"{where}: {text!r} vs {want} [{column}]"
        for key, value in want["values"].items():
            _close(where, got[key], float(value), column)
        return len(got)
    values = want if isinstance(want, tuple) else (want,)
    tokens = NUMBER.findall(text)
    assert len(tokens) == len(values), f"{where}: {text!r} holds {tokens}, expected {values} [{column}]"
    for token, value in zip(tokens, values, strict=True):
        _close(where, token, value, column)
    return len(values)


def _close(where: str, token: str, value: float, column: str) -> None:
    """Equal to the precision the token is printed with: half a unit of its last digit."""
    number = float(token.replace(",", ""))
    mantissa, _, exponent = token.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    unit = 10.0 ** (int(exponent or 0) - decimals)
    assert abs(number - value) <= 0.51 * unit + 1e-12, f"{where}: {token} != {value} [{column}]"


def expected_tables(
    client: MlflowClient, name: str, profile_columns: int
) -> tuple[dict[str, dict], dict[str, list[str]]]:
    """Each table's rows as the registry's runs say they must be (key -> expected cells), and each table's
    column titles for those cells."""
    champion_version = client.get_model_version_by_alias(name, "champion")
    baseline_version = client.get_model_version_by_alias(name, "baseline")
    champion_run = client.get_run(champion_version.run_id)
    assert client.get_run(baseline_version.run_id).data.tags["model"] == "baseline", "@baseline is not the baseline"
    evaluate = client.get_run(champion_run.data.tags[PARENT])
    experiment = evaluate.info.experiment_id
    children = client.search_runs([experiment], f"tags.`{PARENT}` = '{evaluate.info.run_id}'")
    champion = champion_run.data.tags["model"]
    model_runs = {r.data.tags["model"]: r for r in children}

    def label(model: str) -> str:
        return f"{model} (champion)" if model == champion else model

    def triple(run, key: str, prefix: str = "test_") -> tuple:
        m = run.data.metrics
        return (m[f"{prefix}{key}"], m[f"{prefix}{key}_low"], m[f"{prefix}{key}_high"])

    out: dict[str, dict[str, list[Expected]]] = {}
    out["provenance"] = {
        alias: [
            str(v.version),
            v.tags["candidate"],
            v.run_id,
            v.tags.get("reproduction", NOT_RECORDED),
            v.tags["git_commit"],
            v.tags["data_md5"],
        ]
        for alias, v in (("champion", champion_version), ("baseline", baseline_version))
    }
    labels = {k: metric_label(k) for k in TEST}  # display names only: the numbers are walked here
    titles = dict(TITLES)
    out |= before_after_tables(evaluate, model_runs, champion_run, label, titles)
    if champion != "baseline":  # the baseline kept its place: nothing to pair
        paired = ("log_loss", "brier", "roc_auc", "pr_auc", "f1")
        out["paired"] = {labels[k]: [triple(champion_run, k, "diff_")] for k in paired}
    out["models_on_test"] = {
        label(model): [
            run.data.tags["kind"],
            run.data.params["calibration"],
            float(run.data.params["threshold"]),
            triple(run, "roc_auc"),
            triple(run, "pr_auc"),
            triple(run, "f1"),
            triple(run, "log_loss"),
            "n/a" if model == "baseline" else triple(run, "roc_auc", "diff_") if "diff_roc_auc" in run.data.metrics
            else "reference",
        ]
        for model, run in model_runs.items()
    }  # fmt: skip
    out["calibration"] = {
        label(model): [
            run.data.metrics["val_log_loss_none"],
            run.data.metrics["val_log_loss_platt"],
            run.data.metrics["val_log_loss_isotonic"],
            run.data.params["calibration"],
            triple(run, "brier"),
            triple(run, "ece"),
        ]
        for model, run in model_runs.items()
        if model in ("baseline", champion)
    }

    # the training runs behind the networks: optimize studies and the briefs' recipes
    baseline_run = client.get_run(model_runs["baseline"].data.tags["training_run_id"])
    trained = {
        model: client.get_run(run.data.tags["training_run_id"])
        for model, run in model_runs.items()
        if model != "baseline" and run.data.tags["kind"] == "ann"
    }
    studies = {model: run for model, run in trained.items() if run.data.tags["stage"] == "optimize"}
    recipes = {model: run for model, run in trained.items() if run.data.tags["stage"] == "recipes"}
    assert set(studies) | set(recipes) == set(trained), {m: r.data.tags["stage"] for m, r in trained.items()}
    bm = baseline_run.data.metrics
    out["baseline_validation"] = {
        text: [bm[f"val_{key}_mean"], bm[f"val_{key}_std"]]
        for key, text in ((k, m.label) for k, m in METRICS.items())
        if key not in ("brier", "ece", "macro_f1")  # validation metrics over seeds: no calibration ones
    }

    def optimizer_cell(params: dict, prefix: str) -> dict:
        keys = [k for k in params if k.startswith(f"{prefix}optimizer.")]
        return {
            "optimizer": params[f"{prefix}optimizer"],
            "values": {k.removeprefix(f"{prefix}optimizer."): params[k] for k in keys},
        }

    out["optimizers"] = {
        "baseline (untuned sgd)": [
            optimizer_cell(baseline_run.data.params, ""),
            "none",
            "n/a",
            (bm["val_log_loss_mean"], bm["val_log_loss_std"]),
            (bm["val_roc_auc_mean"], bm["val_roc_auc_std"]),
            bm["val_best_epoch_mean"],
        ]
    }
    for model, study in studies.items():
        m = study.data.metrics
        out["optimizers"][label(model)] = [
            optimizer_cell(study.data.params, "best."),
            (m["trials"], m["pruned"]),
            m["best_val_loss"],
            (m["val_log_loss_mean"], m["val_log_loss_std"]),
            (m["val_roc_auc_mean"], m["val_roc_auc_std"]),
            m["val_best_epoch_mean"],
        ]
    search_params = studies["search"].data.params
    out["search_configuration"] = {
        k.removeprefix("best."): [_parameter(v)] for k, v in search_params.items() if k.startswith("best.")
    }

    def selected(parent) -> object:
        seed = str(int(parent.data.metrics["selected_seed"]))
        runs = client.search_runs([experiment], f"tags.`{PARENT}` = '{parent.info.run_id}' and tags.seed = '{seed}'")
        return next(r for r in runs if r.data.tags.get("kind", "retrain") == "retrain" or parent is baseline_run)

    out["convergence"] = {}
    for model, parent in {"baseline": baseline_run, **studies, **recipes}.items():
        run = selected(parent)
        val = [m.value for m in sorted(client.get_metric_history(run.info.run_id, "val_loss"), key=lambda m: m.step)]
        train = [
            m.value for m in sorted(client.get_metric_history(run.info.run_id, "train_loss"), key=lambda m: m.step)
        ]
        best = min(val)
        out["convergence"][label(model)] = [
            float(len(val)), float(val.index(best) + 1), best, val[-1], train[-1], val[-1] - best
        ]  # fmt: skip

    # the prepare run of the same data, the segment run of this champion version
    def newest(filter_string: str):
        return client.search_runs([experiment], filter_string, order_by=["attributes.start_time DESC"], max_results=1)[
            0
        ]

    prepare = newest(f"tags.stage = 'prepare' and tags.data_md5 = '{champion_version.tags['data_md5']}'")
    pm = prepare.data.metrics
    out["splits"] = {s: [pm[f"{s}_rows"], 100 * pm[f"{s}_churn_rate"]] for s in ("train", "validation", "test")}
    segment = newest(f"tags.stage = 'segment' and tags.champion_version = '{champion_version.version}'")
    with tempfile.TemporaryDirectory() as tmp:
        seg_dir = Path(mlflow.artifacts.download_artifacts(run_id=segment.info.run_id, dst_path=tmp))
        summary = json.loads((seg_dir / "summary.json").read_text())
        segments = pd.read_csv(seg_dir / "tables" / "segments_test.csv")
        importance = pd.read_csv(seg_dir / "tables" / "importance.csv").head(10)
        drivers = pd.read_csv(seg_dir / "tables" / "drivers_by_segment.csv")
        personas = pd.read_csv(seg_dir / "tables" / "personas.csv")
        crossed = pd.read_csv(seg_dir / "tables" / "persona_by_segment.csv").set_index("persona")
        fetch = mlflow.artifacts.download_artifacts
        campaign = newest(f"tags.stage = 'campaign' and tags.champion_version = '{champion_version.version}'")
        campaign_dir = Path(fetch(run_id=campaign.info.run_id, dst_path=str(Path(tmp) / "campaign")))
        campaign_summary = json.loads((campaign_dir / "summary.json").read_text())
        rules = pd.read_csv(campaign_dir / "tables" / "rules_test.csv")
        plan = pd.read_csv(campaign_dir / "tables" / "plan_by_segment.csv")
        sensitivity = pd.read_csv(campaign_dir / "tables" / "sensitivity_test.csv")
        errors = pd.read_csv(fetch(run_id=evaluate.info.run_id, artifact_path="error_analysis.csv", dst_path=tmp))
        profile = json.loads(
            Path(fetch(run_id=prepare.info.run_id, artifact_path="summary.json", dst_path=tmp)).read_text()
        )
    out["segments"] = {
        r["segment"]: [
            r["customers"], 100 * r["share"], 100 * r["predicted_churn_rate"], 100 * r["actual_churn_rate"],
            r["lift"], r["revenue_at_risk"], None,
        ]
        for _, r in segments.iterrows()
    }  # fmt: skip
    out["churners_reached"] = {
        f"riskiest {k.removeprefix('top_').removesuffix('pct')} %": [float(v["champion"])]
        + ([] if champion == "baseline" else [float(v["baseline"])])
        for k, v in summary["churners_reached_test"].items()
    }
    scale = campaign_summary["customers"] / campaign_summary["test_customers"]
    out["campaign_rules"] = {
        r["rule"]: [
            float(r["contacts"]), (r["net_value"], r["low"], r["high"]),
            "" if i == 0 else (r["plan_minus_rule"], r["plan_minus_rule_low"], r["plan_minus_rule_high"]),
            r["net_value"] * scale,
            *(("", "") if pd.isna(r["best_contacts"]) else (float(r["best_contacts"]), r["best_net_value"])),
        ]
        for i, (_, r) in enumerate(rules.iterrows())
        if not (champion == "baseline" and r["rule"] == "existing model's probability")  # the row above, again
    }  # fmt: skip
    out["campaign_plan"] = {
        r["segment"]: [
            float(r["customers"]), float(r["contacts"]), 100 * r["contact_share"], r["expected_net_value"],
            r["mean_expected_value"],
        ]
        for _, r in plan.iterrows()
    }  # fmt: skip
    out["campaign_sensitivity"] = {
        f"{100 * rate:.0f} %": [
            (r["net_value"], 100 * r["contact_share"]) for _, r in group.sort_values("contact_cost").iterrows()
        ]
        for rate, group in sensitivity.groupby("success_rate", sort=True)
    }
    out["importance"] = {
        r["column"]: [
            r["shap_mean_abs"],
            float(r["shap_rank"]),
            r["permutation_auc_drop"],
            float(r["permutation_rank"]),
        ]
        for _, r in importance.iterrows()
    }
    out["drivers"] = {r["segment"]: [r["driver_1"], r["driver_2"], r["driver_3"]] for _, r in drivers.iterrows()}
    out["personas"] = {
        r["name"]: [
            float(r["customers"]),
            r["defining"],
            *(float(crossed.loc[r["persona"], c]) for c in crossed.columns),
        ]
        for _, r in personas.iterrows()
    }
    models = ["baseline"] if champion == "baseline" else ["baseline", champion]  # no model beside itself
    error_columns = ("customers", "churners", *(f"{m}_false_{k}" for m in models for k in ("negatives", "positives")))
    out["errors"] = {(r["attribute"], r["value"]): [float(r[c]) for c in error_columns] for _, r in errors.iterrows()}
    who = {"baseline": "Baseline (champion)" if champion == "baseline" else "Baseline", champion: "Champion"}
    titles["errors"] = ["Test customers", "Churners", *(f"{who[m]} {k}" for m in models for k in ("FN", "FP"))]
    titles["personas"] = ["Train customers", "Defining traits", *crossed.columns]
    titles["campaign_sensitivity"] = [f"Contact cost {c:g}" for c in sorted(sensitivity["contact_cost"].unique())]
    titles["campaign_rules"] = ["Test customers contacted", "Realized net value on test [95 % CI]",
                                "The plan's lead over it [paired 95 % CI]",
                                f"Scaled to the whole base (x {scale:.2f}, an assumption)", "Best size in hindsight",
                                "Its net value"]  # fmt: skip
    titles["churners_reached"] = (
        ["Churners reached: champion (the baseline)"]
        if champion == "baseline"
        else ["Churners reached: champion", "Baseline"]
    )
    spread = {
        col: max(v["churn_rate"] for v in levels.values()) - min(v["churn_rate"] for v in levels.values())
        for col, levels in profile["categorical"].items()
    }
    out["customer_base"] = {
        (col, level): [100 * v["share"], 100 * v["churn_rate"]]
        for col in sorted(spread, key=spread.get, reverse=True)[:profile_columns]
        for level, v in profile["categorical"][col].items()
    }
    out |= resampled_tables(client, name, model_runs, baseline_run, studies, recipes, label, titles)
    return out, titles


def resample_run(client: MlflowClient, name: str):
    """The resample run behind the registered champion: same data and champion as the evaluate run, started
    before it, and holding the resampled mean each registered version carries as its selection value."""
    versions = [client.get_model_version_by_alias(name, alias) for alias in ("champion", "baseline")]
    evaluate = client.get_run(client.get_run(versions[0].run_id).data.tags[PARENT])
    champion = evaluate.data.params["champion"]
    runs = client.search_runs(
        [evaluate.info.experiment_id],
        f"tags.stage = 'resample' and tags.data_md5 = '{versions[0].tags['data_md5']}' "
        f"and params.champion = '{champion}'",
        order_by=["attributes.start_time DESC"],
    )

    def holds(run, version) -> bool:
        criterion = version.tags["selection_criterion"].removeprefix("resampled ")
        value = run.data.metrics.get(f"{version.tags['candidate']}/{criterion}")
        return value is not None and f"{value:.6f}".rstrip(
            "0"
        ) == f"{float(version.tags['selection_value']):.6f}".rstrip("0")

    found = [
        r for r in runs
        if r.info.start_time < evaluate.info.start_time and all(holds(r, v) for v in versions)
    ]  # fmt: skip
    assert found, f"no resample run named champion {champion!r} with the registered versions' selection values"
    return found[0]


def resampled_tables(client, name, model_runs, baseline_run, studies, recipes, label, titles) -> dict[str, dict]:
    """The resampled comparison (the resample run's metrics, params and artifacts), the recipes, the
    test confirmation and the seed ensembles (the evaluate run's ensemble_vs_single.json)."""
    run = resample_run(client, name)
    m, params = run.data.metrics, run.data.params
    evaluate = client.get_run(next(iter(model_runs.values())).data.tags[PARENT])
    with tempfile.TemporaryDirectory() as tmp:
        fetch = mlflow.artifacts.download_artifacts
        comparison = json.loads(
            Path(fetch(run_id=run.info.run_id, artifact_path="comparison.json", dst_path=tmp)).read_text()
        )
        folds = pd.read_csv(fetch(run_id=run.info.run_id, artifact_path="folds.csv", dst_path=tmp))
        ensembles = json.loads(
            Path(fetch(run_id=evaluate.info.run_id, artifact_path="ensemble_vs_single.json", dst_path=tmp)).read_text()
        )  # fmt: skip
    criterion, alpha = params["gate.criterion"], float(params["gate.alpha"])
    models = comparison["models"]
    assert set(models) == {k.split("/")[0] for k in m if "/" in k}, "comparison.json and the metrics name other models"
    challengers = [n for n in models if n != "baseline"]
    metrics = ("log_loss", "roc_auc", "pr_auc", "brier", "f1", "macro_f1")
    design = comparison["design"]
    assert (design["repeats"], design["folds"]) == (int(params["repeats"]), int(params["folds"]))
    out: dict[str, dict] = {}
    shown = metric_label(criterion).lower()
    p_title = "p (networks: one-sided, Holm; references: two-sided)"
    titles["resampled"] = ["Kind", *(metric_label(k) for k in metrics), "Campaign value per 1,000 customers",
                           "Cost (parameter updates)"]  # fmt: skip
    titles["resampled_verdicts"] = [f"{metric_label(criterion)} minus baseline [95 % CI]", p_title,
                                    "Minimal detectable difference", "P(better)", "P(equivalent)", "P(worse)",
                                    "Cost, share of baseline's", "Verdict"]  # fmt: skip
    titles["recipes_vs_tuned"] = [f"Resampled {shown}", "Minus baseline [95 % CI]", "p (one-sided, Holm)",
                                  "Tuned counterpart", f"Its resampled {shown}",
                                  "Tuned minus recipe [95 % CI, unadjusted]"]  # fmt: skip
    titles["confirmation"] = [f"Resampled: {shown} minus baseline [95 % CI]", p_title,
                              f"Test: {shown} minus baseline [paired bootstrap 95 % CI]"]  # fmt: skip

    def versus(model: str) -> tuple:
        return (m[f"{model}/diff_{criterion}"], m[f"{model}/diff_{criterion}_low"], m[f"{model}/diff_{criterion}_high"])

    def gate_p(model: str) -> float:  # networks: one-sided, Holm over the networks; references: two-sided, single
        return m.get(f"{model}/p_holm_{criterion}", m[f"{model}/p_{criterion}"])

    networks = [n for n in challengers if models[n]["kind"] == "ann"]
    lower = comparison["gate"]["lower_is_better"]
    sign = 1.0 if lower else -1.0
    q = float(params["gate.equivalence_probability"])
    base_cost = models["baseline"]["cost"]
    better = {n for n in challengers if sign * m[f"{n}/diff_{criterion}"] < 0 and gate_p(n) < alpha}
    cheap = sorted(n for n in networks if n not in better and m[f"{n}/p_equivalent"] >= q
                   and models[n]["cost"] <= float(params["gate.cheaper"]) * base_cost)  # fmt: skip
    assert cheap == sorted(comparison["equivalent_and_cheaper"]) or better & set(networks), (cheap, comparison)

    def verdict(model: str) -> str:
        if model in better:
            found = "significantly better"
        elif m[f"{model}/p_equivalent"] >= q:
            found = "practically equivalent"
            if models[model]["kind"] == "ann":
                found += (
                    ", materially cheaper"
                    if model in comparison["equivalent_and_cheaper"]
                    else ", not materially cheaper"
                )
        elif m[f"{model}/p_worse"] >= q:
            found = "worse"
        else:
            found = "undecided"
        return found + (" (champion)" if model == params["champion"] else "")

    out["resampled"] = {
        label(model): [
            "network" if models[model]["kind"] == "ann" else "reference",
            *(m[f"{model}/{k}"] for k in metrics),
            1000 * m[f"{model}/value"],
            "n/a" if models[model]["cost"] is None else models[model]["cost"],
        ]
        for model in models
    }
    mdd = comparison["detectable"]
    out["resampled_verdicts"] = {
        label(model): [
            versus(model),
            gate_p(model),
            mdd["per_model"][model] if model in networks else "n/a",
            m[f"{model}/p_better"], m[f"{model}/p_equivalent"], m[f"{model}/p_worse"],
            "n/a" if models[model]["cost"] is None else 100 * models[model]["cost"] / base_cost,
            verdict(model),
        ]
        for model in challengers
    }  # fmt: skip
    family = sum(1 for k in m if k.endswith(f"/p_holm_{criterion}"))
    assert family == len(networks) == mdd["tests"]
    routes = {"better": "significantly better", "equivalent_and_cheaper": "practically equivalent and cheaper",
              "none": "the baseline stays"}  # fmt: skip
    out["gate"] = {
        "Criterion": [
            f"{metric_label(criterion)}, mean over the held-out folds ({'lower' if lower else 'higher'} is better)"
        ],
        "Resampling": [(float(params["repeats"]), float(params["folds"]), float(params["seeds_per_fold"]))],
        "Rows per fold: training, held out": [(design["training_rows"], design["held_rows"])],
        "Route 1: significantly better": [(float(family), alpha)],
        "Route 2: practically equivalent and cheaper": [
            (float(params["gate.rope"]), q, 100 * float(params["gate.cheaper"]))
        ],
        f"Minimal detectable difference ({float(params['gate.power']):.0%} power), median over challengers": [
            m["minimal_detectable_difference"]
        ],
        "The ROPE in campaign value, per 1,000 customers": [(m["rope_per_1000_customers"], 1000 * m["baseline/value"])],
        "Networks significantly better than the baseline": [", ".join(comparison["qualified"]) or "none"],
        "Of those, not significantly worse than the best": [", ".join(comparison["tied_with_best"]) or "none"],
        "Practically equivalent and materially cheaper": [", ".join(comparison["equivalent_and_cheaper"]) or "none"],
        "Champion": [f"{params['champion']} ({routes[params['gate_route']]})"],
    }
    # the gate's decision, re-derived from the run's metrics: route 1 by the Holm-adjusted one-sided p,
    # route 2 by the posterior and the cost
    qualified = sorted(n for n in networks if n in better)
    assert qualified == sorted(comparison["qualified"]), (qualified, comparison["qualified"])
    if qualified:
        assert params["gate_route"] == "better"
    elif cheap:
        assert params["gate_route"] == "equivalent_and_cheaper"
        assert params["champion"] == min(cheap, key=lambda n: (models[n]["cost"], sign * m[f"{n}/{criterion}"], n))
    else:
        assert params["champion"] == "baseline" and params["gate_route"] == "none"

    def tuned_minus(model: str, other: str) -> tuple:
        table = folds.pivot(index="index", columns="model", values=criterion)
        c = corrected_t_test((table[model] - table[other]).to_numpy(), int(design["training_rows"]),
                             int(design["held_rows"]), design["confidence"])  # fmt: skip
        return (c.mean, c.low, c.high)

    base_params = baseline_run.data.params
    out["recipes"] = {}
    out["recipes_vs_tuned"] = {}
    for recipe, rrun in recipes.items():
        rp, rm = rrun.data.params, rrun.data.metrics
        out["recipes"][recipe] = [
            tuple(float(u) for u in json.loads(rp["model.hidden_units"])),
            _numbers(rp["model.dropout"]),
            rp["model.batch_norm"],
            {"optimizer": rp["optimizer"], "values": {k.removeprefix("optimizer."): v for k, v in rp.items()
                                                      if k.startswith("optimizer.")}},
            float(rp["training.batch_size"]),
            float(rp["training.early_stopping_patience"]),
            (rm["val_log_loss_mean"], rm["val_log_loss_std"]),
            rm["val_best_epoch_mean"],
        ]  # fmt: skip
        own_architecture = any(rp.get(k) != v for k, v in base_params.items() if k.startswith("model."))
        other = "search" if own_architecture else rp["optimizer"]
        cells = [m[f"{recipe}/{criterion}"], versus(recipe), gate_p(recipe)]
        if other in studies:
            cells += [other, m[f"{other}/{criterion}"], tuned_minus(other, recipe)]
        else:
            cells += ["none", "n/a", "n/a"]
        out["recipes_vs_tuned"][recipe] = cells
    out["confirmation"] = {
        label(model): [
            versus(model),
            gate_p(model),
            "not scored on test" if model not in model_runs else (
                model_runs[model].data.metrics[f"diff_{criterion}"],
                model_runs[model].data.metrics[f"diff_{criterion}_low"],
                model_runs[model].data.metrics[f"diff_{criterion}_high"],
            ),
        ]
        for model in challengers
    }  # fmt: skip
    champion = evaluate.data.params["champion"]
    assert set(ensembles) == {"baseline", champion}, sorted(ensembles)
    out["ensemble"] = {
        (label(model), metric_label(metric)): [
            (v["single_mean"], v["single_std"]), v["ensemble"], (v["diff"], v["low"], v["high"])
        ]
        for model, by_metric in ensembles.items()
        for metric, v in by_metric.items()
    }  # fmt: skip
    return out


def before_after_tables(evaluate, model_runs: dict, champion_run, label, titles: dict) -> dict[str, dict]:
    """The original as used (the evaluate run's ``original_test_*``), every served network's difference
    from it (its run's ``vs_original_*``) and the ladder (the evaluate run's ``ladder<k>_*``)."""
    m, params = evaluate.data.metrics, evaluate.data.params

    def triple(metrics: dict, name: str) -> tuple:
        return (metrics[name], metrics[f"{name}_low"], metrics[f"{name}_high"])

    out: dict[str, dict] = {}
    champion = champion_run.data.tags["model"]
    titles["before_after"] = [
        f"Before: the original network (one seed, threshold {m['original_threshold']:g}, raw) [95 % CI]",
        f"After: the champion, {champion} [95 % CI]", "After minus before [paired 95 % CI]",
    ]  # fmt: skip
    titles["after_vs_original"] = [
        "Threshold",
        "Calibration",
        *(f"{metric_label(k)} minus before" for k in VERSUS_ORIGINAL),
    ]
    titles["ladder"] = ["Network", "Seeds", "Threshold", "Calibration", "Parameter updates",
                        *(metric_label(k) for k in VERSUS_ORIGINAL)]  # fmt: skip
    out["before_after"] = {
        metric_label(k): [triple(m, f"original_test_{k}"), triple(champion_run.data.metrics, f"test_{k}"),
                          triple(champion_run.data.metrics, f"vs_original_{k}")]
        for k in VERSUS_ORIGINAL
    }  # fmt: skip
    served = {n: r for n, r in model_runs.items() if "vs_original_accuracy" in r.data.metrics}
    assert champion_run.data.tags["model"] in served, sorted(served)
    out["after_vs_original"] = {
        label(n): [float(r.data.params["threshold"]), r.data.params["calibration"],
                   *(triple(r.data.metrics, f"vs_original_{k}") for k in VERSUS_ORIGINAL)]
        for n, r in served.items()
    }  # fmt: skip
    out["ladder"] = {}
    steps = sorted(int(k.removeprefix("ladder").removesuffix("_label")) for k in params if k.endswith("_label"))
    assert steps == list(range(len(steps))) and len(steps) >= 4, steps
    for k in steps:
        cells = [m[f"ladder{k}_test_{x}"] if k == 0 else (m[f"ladder{k}_test_{x}"], *triple(m, f"ladder{k}_step_{x}"))
                 for x in VERSUS_ORIGINAL]  # fmt: skip
        out["ladder"][params[f"ladder{k}_label"]] = [
            params[f"ladder{k}_network"], m[f"ladder{k}_seeds"], m[f"ladder{k}_threshold"],
            params[f"ladder{k}_calibration"], m[f"ladder{k}_updates"], *cells,
        ]  # fmt: skip
    assert m["ladder0_test_recall"] == m["original_test_recall"], "the ladder starts at the original"
    return out


def _numbers(text: str) -> float | tuple:
    """``0.0`` or ``[0.0, 0.5]`` (a per-layer list, as MLflow stores it) -> the number(s)."""
    value = json.loads(text)
    return tuple(float(v) for v in value) if isinstance(value, list) else float(value)


def _parameter(text: str) -> Expected:
    try:
        return float(text)
    except ValueError:
        return text
