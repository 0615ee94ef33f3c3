"""A small hand-built ``Evidence`` for the fast reporting tests: no registry, no pipeline run.

Three networks (the baseline, adam, sgd), two references and the blend, scored on four folds; every
number is chosen so that a test can state the cell or the judgement it must produce. ``summary`` builds
the resample stage's ``GateSummary`` with any route and champion.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import numpy as np
import pandas as pd
from mlflow.entities import Run

from pipeline.evaluation.summary import BASELINE, BLEND, GateSummary, Route
from pipeline.reporting.evidence import Evidence
from pipeline.segmentation.summaries import CampaignSummary, SegmentOnTest, SegmentSummary, ValueCutSummary

CRITERION = "log_loss"
MEANS = {BASELINE: 0.420, "adam": 0.415, "sgd": 0.426, "logistic_regression": 0.418, "gradient_boosting": 0.412,
         BLEND: 0.410}  # fmt: skip
KINDS = {BASELINE: "ann", "adam": "ann", "sgd": "ann", "logistic_regression": "reference",
         "gradient_boosting": "reference", BLEND: "reference"}  # fmt: skip
COSTS = {BASELINE: 10_000.0, "adam": 1_000.0, "sgd": 6_000.0}
# challenger -> (mean, low, high, p, p_holm, P(better), P(equivalent), P(worse))
VERSUS = {
    "adam": (-0.005, -0.008, -0.002, 0.004, 0.008, 0.97, 0.03, 0.0),
    "sgd": (0.006, 0.003, 0.009, 0.002, 1.0, 0.0, 0.01, 0.99),
    "logistic_regression": (-0.002, -0.005, 0.001, 0.2, float("nan"), 0.6, 0.4, 0.0),
    "gradient_boosting": (-0.008, -0.011, -0.005, 0.001, float("nan"), 1.0, 0.0, 0.0),
    BLEND: (-0.010, -0.013, -0.007, 0.0005, float("nan"), 1.0, 0.0, 0.0),
}
# the fold scores behind resampled_difference: model -> log loss per fold
FOLDS = {
    BASELINE: [0.420, 0.421, 0.419, 0.420],
    "adam": [0.415, 0.416, 0.414, 0.415],
    "sgd": [0.426, 0.427, 0.425, 0.426],
    "gradient_boosting": [0.412, 0.413, 0.411, 0.412],
    BLEND: [0.405, 0.416, 0.404, 0.415],
}


def summary(champion: str = "adam", route: Route = "better", cheap: tuple[str, ...] = ()) -> GateSummary:
    """The resample stage's summary with the models above, naming ``champion`` by ``route``."""
    models = {}
    for name, mean in MEANS.items():
        v = VERSUS.get(name)
        models[name] = {
            "kind": KINDS[name],
            "mean": {CRITERION: mean, "roc_auc": 0.84},
            "value": 15.0 + (0.420 - mean) * 100,
            "vs_baseline": {} if v is None else {CRITERION: _versus(v)},
            "posterior": None if v is None else {"better": v[5], "equivalent": v[6], "worse": v[7], "rope": 0.002},
            "cost": COSTS.get(name),
            "gated": name in ("adam", "sgd"),
        }  # fmt: skip
    return GateSummary.model_validate(
        {
            "design": {"repeats": 2, "folds": 2, "seeds_per_fold": 3, "tune_fraction": 0.25, "confidence": 0.95,
                       "training_rows": 4000.0, "held_rows": 1000.0},
            "gate": {"criterion": CRITERION, "alpha": 0.05, "rope": 0.002, "equivalence_probability": 0.95,
                     "cheaper": 0.5, "power": 0.8, "lower_is_better": True},
            "detectable": {"power": 0.8, "alpha": 0.05, "tests": 2, "per_model": {"adam": 0.0031, "sgd": 0.0029},
                           "median": 0.003},
            "rope_in_money": {"pairs": 8, "slope": -100.0, "r": -0.5, "per_1000": 200.0, "baseline_per_1000": 15000.0},
            "champion": champion,
            "route": route,
            "reason": f"{champion} by {route}",
            "qualified": ["adam"] if route == "better" else [],
            "tied_with_best": ["adam"] if route == "better" else [],
            "equivalent_and_cheaper": list(cheap),
            "models": models,
        }
    )  # fmt: skip


def _versus(v: tuple[float, ...]) -> dict[str, float]:
    return dict(zip(("mean", "low", "high", "p", "p_holm"), v[:5], strict=True)) | {"t": -3.0, "se": 0.001, "df": 3}


def run(metrics: dict[str, float] | None = None, params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None, run_id: str = "run") -> Run:  # fmt: skip
    """A stand-in for an MLflow run: what the report reads of one (``data`` and ``info.run_id``)."""
    data = SimpleNamespace(metrics=metrics or {}, params=params or {}, tags=tags or {})
    return cast(Run, SimpleNamespace(data=data, info=SimpleNamespace(run_id=run_id)))


def test_run(name: str, diff: tuple[float, float, float] | None) -> Run:
    """An ``evaluate-<model>`` run: the criterion on test and, for a challenger, its paired difference."""
    metrics = {f"test_{CRITERION}": MEANS[name]}
    if diff is not None:
        metrics |= dict(
            zip((f"diff_{CRITERION}", f"diff_{CRITERION}_low", f"diff_{CRITERION}_high"), diff, strict=True)
        )
    return run(metrics, tags={"model": name, "kind": KINDS[name]}, run_id=f"evaluate-{name}")


def evidence(champion: str = "adam", route: Route = "better", **fields: object) -> Evidence:
    """An ``Evidence`` holding the resampled comparison, its folds, the models scored on test and a campaign;
    ``fields`` replace any of them."""
    folds = pd.DataFrame(
        [{"index": i, "model": m, CRITERION: v} for m, values in FOLDS.items() for i, v in enumerate(values)]
    )
    model_runs = {
        BASELINE: test_run(BASELINE, None),
        "adam": test_run("adam", (-0.004, -0.007, -0.001)),
        "sgd": test_run("sgd", (0.001, -0.002, 0.004)),
        "gradient_boosting": test_run("gradient_boosting", None),
    }
    values: dict[str, object] = {
        "evaluate_run": run(params={"champion": champion}),
        "resampled": summary(champion, route),
        "folds": folds,
        "model_runs": model_runs,
        "campaign_summary": campaign_summary(),
        "campaign_tables": campaign_tables(),
        "segment_summary": segment_summary(),
    }  # fmt: skip
    values |= fields
    missing = {name: None for name in Evidence.__dataclass_fields__ if name not in values}
    return Evidence(**(missing | values))  # type: ignore[arg-type]


def segment_summary() -> SegmentSummary:
    retain = SegmentOnTest(customers=300, predicted_churn_rate=0.6, actual_churn_rate=0.55, lift=2.1)
    grow = SegmentOnTest(customers=700, predicted_churn_rate=0.1, actual_churn_rate=0.12, lift=0.45)
    reached = {"top_10pct": {"champion": 50, "baseline": 48}, "top_20pct": {"champion": 90, "baseline": 91}}
    return SegmentSummary(
        customers=7000,
        personas=4,
        persona_silhouette=0.3,
        segments_test={"Retain now": retain, "Grow": grow},
        churners_reached_test=reached,
        importance_rank_correlation=0.8,
        importance_disagreements={},
        value_cut=ValueCutSummary(amount=70.4, training_share_below=0.488),
    )


def campaign_summary(**changes: object) -> CampaignSummary:
    rules = {"expected net value": (19_000.0, 15_000.0, 23_000.0, 0.0, 0.0, 0.0),
             "churn probability": (18_000.0, 14_000.0, 22_000.0, 1_000.0, 200.0, 1_800.0),
             "existing model's probability": (18_500.0, 14_500.0, 22_500.0, 500.0, -300.0, 1_300.0),
             "random": (5_000.0, 2_000.0, 8_000.0, 14_000.0, 11_000.0, 17_000.0)}  # fmt: skip
    keys = ("net_value", "low", "high", "plan_minus_rule", "plan_minus_rule_low", "plan_minus_rule_high")
    fields = {"customers": 7000, "test_customers": 1400, "planned_contacts": 300,
              "planned_expected_net_value": 20_500.0, "test_planned_contacts": 300, "base_planned_contacts": 1500,
              "test_planned_share": 300 / 1400,
              "test_net_value": {rule: dict(zip(keys, v, strict=True)) for rule, v in rules.items()},
              "base_scale": 5.0}  # fmt: skip
    return CampaignSummary.model_validate(fields | changes)


def campaign_tables() -> dict[str, pd.DataFrame]:
    net = campaign_summary().test_net_value
    rules = pd.DataFrame(
        [
            {
                "rule": rule,
                "contacts": 300,
                **v,
                "best_contacts": np.nan if i else 280.0,
                "best_net_value": np.nan if i else 19_500.0,
            }
            for i, (rule, v) in enumerate(net.items())
        ]
    )
    plan = pd.DataFrame(
        {
            "segment": ["Retain now", "Nurture", "Monitor"],
            "customers": [200, 400, 800],
            "contacts": [150, 150, 0],
            "contact_share": [0.75, 0.375, 0.0],
            "expected_net_value": [15_000.0, 5_500.0, 0.0],
            "mean_expected_value": [75.0, 13.75, -2.5],
        }
    )
    sensitivity = pd.DataFrame([{"success_rate": s, "contact_cost": c, "net_value": 1000 * s * 100 - c * 10,
                                 "contact_share": s / 2} for s in (0.1, 0.3) for c in (5.0, 10.0)])  # fmt: skip
    return {"rules_test": rules, "plan_by_segment": plan, "sensitivity_test": sensitivity}
