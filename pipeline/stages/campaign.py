"""``campaign``: what a retention campaign is worth, in money, under the stated assumptions.

The plan is made without outcomes: contact every customer whose expected net value (the
champion's calibrated probability through the value model of ``segment.campaign``) is positive.
It is checked on the test split, whose outcomes the models never saw: realized net value
against campaign size for four targeting rules with bootstrap bands, the plan and its rivals at
the planned size, the plan re-made over a grid of success rates and contact costs, and the plan
per segment. Logged as an MLflow run linked to the registered champion version.
"""

from __future__ import annotations

import logging

import mlflow
import numpy as np
import pandas as pd

from pipeline import figures
from pipeline.config import Params
from pipeline.data.prepared import data_md5, read_split
from pipeline.data.schema import DataSchema
from pipeline.io import read_json, write_atomic, write_json
from pipeline.segmentation import campaign
from pipeline.tracking import registry, runs, store

log = logging.getLogger(__name__)
RULES = {  # rule -> the score it contacts customers by (None: random order)
    "expected net value": "expected",
    "churn probability": "champion",
    "existing model's probability": "baseline",
    campaign.RANDOM: None,
}


def run(params: Params) -> None:
    paths, seg = params.paths, params.segment
    cfg = seg.campaign
    schema = DataSchema.from_yaml(paths.schema_file)
    customers = pd.read_csv(paths.scored / "customers.csv")
    test = read_split(paths, "test")
    columns = {c: test[c].to_numpy() for c in schema.feature_columns}
    monthly = test[seg.value_column].to_numpy("float64")
    churned = test[schema.target.column].to_numpy("float64")

    store.configure(params.tracking.experiment)
    versions = read_json(paths.metrics / "evaluate.json")["registry_versions"]
    name = params.tracking.registered_model
    p = {role: registry.load_scorer(registry.version_uri(name, versions[alias])).probability_of(columns)
         for role, alias in (("champion", registry.CHAMPION), ("baseline", registry.BASELINE))}  # fmt: skip
    p["expected"] = campaign.net_value(p["champion"], monthly, cfg, seg.horizon_months)
    realized = campaign.net_value(churned, monthly, cfg, seg.horizon_months)
    planned = campaign.contact(p["expected"])
    planned_share = float(planned.mean())

    scores = {rule: None if key is None else p[key] for rule, key in RULES.items()}
    grid = np.unique(np.r_[np.linspace(0, 1, cfg.shares + 1), planned_share])
    b = cfg.bootstrap
    curves = campaign.curves(scores, realized, grid, b.resamples, b.confidence, b.seed)
    at_plan = int(np.flatnonzero(grid == planned_share)[0])
    plan_rule = next(iter(RULES))
    comparison = pd.DataFrame([
        {
            "rule": rule,
            "contacts": int(planned.sum()),
            "net_value": curves.value[rule][at_plan],
            "low": curves.low[rule][at_plan],
            "high": curves.high[rule][at_plan],
            **dict(zip(("plan_minus_rule", "plan_minus_rule_low", "plan_minus_rule_high"),
                       curves.difference(plan_rule, rule, at_plan), strict=True)),
            **dict(zip(("best_contacts", "best_net_value"),
                       campaign.best_size(score, realized) if score is not None else (None, None), strict=True)),
        }
        for rule, score in scores.items()
    ])  # fmt: skip
    sensitivity = campaign.sensitivity(p["champion"], churned, monthly, cfg, seg.horizon_months)
    plan = campaign.by_segment(customers["segment"].to_numpy(), customers["expected_value"].to_numpy())

    out = paths.reports / "campaign"
    tables = {
        "rules_test.csv": comparison,
        "curves_test.csv": curves.table(),
        "sensitivity_test.csv": sensitivity,
        "plan_by_segment.csv": plan,
    }
    for file, table in tables.items():
        write_atomic(out / file, lambda tmp, t=table: t.to_csv(tmp, index=False, float_format="%.6f"))
    scale = len(customers) / len(test)  # the test split is a random fifth of the customer base
    summary = {
        "customers": len(customers),
        "test_customers": len(test),
        "planned_contacts": int(customers["contact"].sum()),
        "planned_expected_net_value": float(plan["expected_net_value"].sum()),
        "test_planned_contacts": int(planned.sum()),
        "test_planned_share": planned_share,
        "test_net_value": {
            r["rule"]: {
                k: float(r[k])
                for k in ("net_value", "low", "high", "plan_minus_rule", "plan_minus_rule_low", "plan_minus_rule_high")
            }
            for _, r in comparison.iterrows()
        },
        "base_scale": scale,
    }
    write_json(paths.metrics / "campaign.json", summary)

    figs = {
        "campaign_curves.png": figures.campaign_curves(
            curves.shares,
            curves.value,
            {r: (curves.low[r], curves.high[r]) for r in RULES},
            planned_share,
            "Realized net value of a campaign on the test split",
        ),
        "sensitivity.png": figures.sensitivity_map(
            sensitivity.to_dict("list"), "The plan's realized net value on test, by assumption"
        ),
    }
    tags = store.run_tags("campaign", data_md5(paths), champion_version=versions[registry.CHAMPION])
    with mlflow.start_run(run_name="campaign", tags=tags) as active:
        mlflow.log_params(cfg.model_dump(exclude={"sensitivity", "bootstrap", "shares"}))
        mlflow.log_metrics({"planned_contacts": summary["planned_contacts"],
                            "planned_expected_net_value": summary["planned_expected_net_value"]})  # fmt: skip
        runs.save_and_log_figures(active.info.run_id, figs, paths.plots / "campaign")
        mlflow.log_artifacts(str(out), "tables")
        mlflow.log_dict(summary, "summary.json")
    log.info(
        "plan: contact %d of %d customers, expected net value %.0f; on test: %s",
        summary["planned_contacts"], len(customers), summary["planned_expected_net_value"],
        {r: round(v["net_value"]) for r, v in summary["test_net_value"].items()},
    )  # fmt: skip
