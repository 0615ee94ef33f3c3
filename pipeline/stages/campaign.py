"""``campaign``: what a retention campaign is worth, in money, under the stated assumptions.

The plan is made without outcomes: contact every customer whose expected net value (the
champion's calibrated probability through the value model of ``segment.campaign``) is positive.
It is checked on the test split, whose outcomes the models never saw: realized net value
against campaign size for four targeting rules with bootstrap bands, the plan and its rivals at
the planned size, the plan re-made over a grid of success rates and contact costs, and the plan
per segment (its expected value on the test customers only). Logged as an MLflow run linked to the
registered champion version. The check is
``pipeline.segmentation.targeting``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict

import mlflow
import pandas as pd
from matplotlib.figure import Figure

from pipeline import figures
from pipeline.config import Params
from pipeline.data.prepared import data_md5, read_split
from pipeline.data.schema import DataSchema
from pipeline.io import read_json, write_csv, write_json
from pipeline.segmentation import campaign, targeting
from pipeline.segmentation.summaries import CampaignSummary
from pipeline.tracking import registry, runs, store

log = logging.getLogger(__name__)


class CampaignHeadline(TypedDict):
    """``headline/campaign.json``: what runs are compared by."""

    test_planned_contacts: int
    test_net_value: dict[str, float]  # net_value, low, high
    test_plan_minus_existing: dict[str, float]  # value, low, high


def run(params: Params) -> None:
    paths, seg = params.paths, params.segment
    schema = DataSchema.from_yaml(paths.schema_file)
    customers = pd.read_csv(paths.scored / "customers.csv")
    test = read_split(paths, "test")
    columns = {c: test[c].to_numpy() for c in schema.feature_columns}
    monthly = seg.monthly_value(test[seg.value_column])
    churned = test[schema.target.column].to_numpy("float64")

    store.configure(params.tracking.experiment)
    versions = read_json(paths.registered_versions)
    name = params.tracking.registered_model
    p = {role: registry.load_scorer(registry.version_uri(name, versions[alias])).probability_of(columns)
         for role, alias in (("champion", registry.CHAMPION), ("baseline", registry.BASELINE))}  # fmt: skip
    check = targeting.check_plan(p["champion"], p["baseline"], churned, monthly, seg.campaign, seg.horizon_months)
    unseen = customers[customers["unseen_in_training"]]  # the plan's value is stated on test customers only
    plan = campaign.by_segment(unseen["segment"].to_numpy(), unseen["expected_value"].to_numpy())

    out = paths.reports / "campaign"
    _write_tables(out, check, plan)
    summary = _summary(customers, test, plan, check)
    write_json(paths.summary("campaign"), summary.model_dump(mode="json"))
    write_json(paths.headline("campaign"), _headline(summary))

    tags = store.run_tags("campaign", data_md5(paths), champion_version=versions[registry.CHAMPION])
    with mlflow.start_run(run_name="campaign", tags=tags) as active:
        mlflow.log_params(seg.campaign.model_dump(exclude={"sensitivity", "bootstrap", "shares"}))
        mlflow.log_metrics({"planned_contacts": summary.planned_contacts,
                            "planned_expected_net_value": summary.planned_expected_net_value})  # fmt: skip
        runs.save_and_log_figures(active.info.run_id, _figures(check), paths.plots / "campaign")
        runs.log_tables(active.info.run_id, out)
        mlflow.log_dict(summary.model_dump(mode="json"), "summary.json")
    log.info(
        "plan on the %d test customers: contact %d, expected net value %.0f; realized: %s",
        len(test), summary.planned_contacts, summary.planned_expected_net_value,
        {r: round(v["net_value"]) for r, v in summary.test_net_value.items()},
    )  # fmt: skip


def _write_tables(out: Path, check: targeting.PlanCheck, plan: pd.DataFrame) -> None:
    tables = {
        "rules_test.csv": check.rules,
        "curves_test.csv": check.curves.table(),
        "sensitivity_test.csv": check.sensitivity,
        "plan_by_segment.csv": plan,
    }
    for file, table in tables.items():
        write_csv(out / file, table, float_format="%.6f")


def _summary(
    customers: pd.DataFrame, test: pd.DataFrame, plan: pd.DataFrame, check: targeting.PlanCheck
) -> CampaignSummary:
    return CampaignSummary(
        customers=len(customers),
        test_customers=len(test),
        planned_contacts=int(plan["contacts"].sum()),  # test customers, as every value below
        planned_expected_net_value=float(plan["expected_net_value"].sum()),
        test_planned_contacts=int(check.planned.sum()),
        base_planned_contacts=int(customers["contact"].sum()),  # the scored table's flag, whole base
        test_planned_share=check.planned_share,
        test_net_value=targeting.summarize(check.rules),
        base_scale=len(customers) / len(test),  # an assumption when used: test is typical of the whole base
    )


def _headline(summary: CampaignSummary) -> CampaignHeadline:
    """The plan's size and what it realized on test, alone and against the existing model's targeting."""
    planned, existing = (summary.test_net_value[r] for r in ("expected net value", "existing model's probability"))
    return {
        "test_planned_contacts": summary.test_planned_contacts,
        "test_net_value": {k: planned[k] for k in ("net_value", "low", "high")},
        "test_plan_minus_existing": {
            "value": existing["plan_minus_rule"],
            "low": existing["plan_minus_rule_low"],
            "high": existing["plan_minus_rule_high"],
        },
    }


def _figures(check: targeting.PlanCheck) -> Mapping[str, Figure]:
    curves = check.curves
    return {
        "campaign_curves.png": figures.campaign_curves(
            curves.shares,
            curves.value,
            {r: (curves.low[r], curves.high[r]) for r in targeting.RULES},
            check.planned_share,
            "Realized net value of a campaign on the test split",
        ),
        "sensitivity.png": figures.sensitivity_map(
            check.sensitivity.to_dict("list"), "The plan's realized net value on test, by assumption"
        ),
    }
