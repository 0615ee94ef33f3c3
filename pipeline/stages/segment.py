"""``segment``: marketing segments from the champion's scores, with evidence and reasons.

Every customer gets a risk x value segment, a persona and three reasons (SHAP). Evidence
(actual churn per segment, deciles, gains against the baseline) comes from the test split,
whose scores were never seen in training or in any choice. Logged as an MLflow run linked
to the registered champion version.
"""

from __future__ import annotations

import logging

import mlflow
import pandas as pd

from pipeline import figures
from pipeline.config import Params
from pipeline.data.prepared import data_md5, read_split
from pipeline.data.schema import DataSchema
from pipeline.data.split import SPLITS
from pipeline.io import read_json, write_atomic, write_json
from pipeline.segmentation import campaign, explain, personas, segments
from pipeline.tracking import registry, runs, store

log = logging.getLogger(__name__)


def run(params: Params) -> None:
    paths, cfg = params.paths, params.segment
    schema = DataSchema.from_yaml(paths.schema_file)
    frames = {name: read_split(paths, name).assign(split=name) for name in SPLITS}
    customers = pd.concat(frames.values(), ignore_index=True)
    churned = customers[schema.target.column].to_numpy()
    test = (customers["split"] == "test").to_numpy()

    store.configure(params.tracking.experiment)
    versions = read_json(paths.metrics / "evaluate.json")["registry_versions"]
    name = params.tracking.registered_model
    champion = registry.load_scorer(registry.version_uri(name, versions[registry.CHAMPION]))
    baseline = registry.load_scorer(registry.version_uri(name, versions[registry.BASELINE]))

    champion_probability = champion.probability_of
    p = champion_probability({c: customers[c].to_numpy() for c in schema.feature_columns})
    p_base = baseline.probability_of({c: customers[c].to_numpy() for c in schema.feature_columns})
    value = customers[cfg.value_column].to_numpy(dtype="float64")
    assigned = segments.assign(p, value, cfg)
    expected = campaign.net_value(p, value, cfg.campaign, cfg.horizon_months)

    persona_model = personas.fit(
        frames["train"], {c: schema.categorical[c] for c in cfg.persona_columns}, cfg.persona_k, cfg.persona_seed
    )
    persona = persona_model.assign(customers)
    described = persona_model.describe(frames["train"])

    codec = explain.Codec(schema)
    background = frames["train"].sample(cfg.shap_background, random_state=cfg.shap_seed)
    shap_values = explain.explain(champion_probability, codec, background, customers, cfg.shap_seed)
    reasons = explain.reasons(shap_values, customers, schema)
    validation = frames["validation"]
    permutation = explain.permutation_importance(
        champion_probability, codec, validation, validation[schema.target.column].to_numpy(),
        cfg.permutation_repeats, cfg.shap_seed,
    )  # fmt: skip

    scored = pd.DataFrame(
        {
            schema.id_column: customers[schema.id_column],
            "split": customers["split"],
            "unseen_in_training": test,  # test rows: scores never seen in training or model choice
            "churn_probability": p.round(6),
            "segment": assigned["segment"],
            "action": assigned["action"],
            "persona": persona,
            "persona_name": described.set_index("persona")["name"].loc[persona].to_numpy(),
            "revenue_at_risk": assigned["revenue_at_risk"].round(2),
            "expected_value": expected.round(2),  # net value of contacting (segment.campaign's assumptions)
            "contact": campaign.contact(expected),
            **{f"reason_{k + 1}": [r[k] for r in reasons] for k in range(3)},
        }
    )
    write_atomic(paths.scored / "customers.csv", lambda tmp: scored.to_csv(tmp, index=False))

    evidence = segments.evidence(
        assigned["segment"][test], p[test], churned[test], assigned["revenue_at_risk"][test].to_numpy()
    )
    deciles = {m: segments.deciles(q[test], churned[test]) for m, q in (("champion", p), ("baseline", p_base))}
    reached = {
        f"top_{round(share * 100)}pct": {
            m: segments.churners_reached(q[test], churned[test], share)
            for m, q in (("champion", p), ("baseline", p_base))
        }
        for share in cfg.top_shares
    }
    drivers = _drivers_by_segment(shap_values, assigned["segment"])
    crossed = pd.crosstab(scored["persona"], scored["segment"])
    importance = pd.DataFrame({"shap_mean_abs": shap_values.global_importance(), "permutation_auc_drop": permutation})
    importance["shap_rank"] = importance["shap_mean_abs"].rank(ascending=False).astype(int)
    importance["permutation_rank"] = importance["permutation_auc_drop"].rank(ascending=False).astype(int)
    importance = importance.sort_values("shap_rank")

    out = paths.reports / "segment"
    tables = {
        "segments_test.csv": evidence,
        "deciles_champion_test.csv": deciles["champion"],
        "deciles_baseline_test.csv": deciles["baseline"],
        "personas.csv": described,
        "persona_by_segment.csv": crossed.reset_index(),
        "drivers_by_segment.csv": drivers,
        "importance.csv": importance.rename_axis("column").reset_index(),
    }
    for file, table in tables.items():
        write_atomic(out / file, lambda tmp, t=table: t.to_csv(tmp, index=False, float_format="%.6f"))
    write_atomic(out / "personas.json", lambda tmp: tmp.write_text(persona_model.to_json()))

    codes = codec.encode(customers)
    figs = {
        "gains.png": figures.gains_chart(
            {m: segments.gains(q[test], churned[test]) for m, q in (("champion", p), ("baseline", p_base))},
            "Cumulative gains on the test split",
        ),
        "shap_bar.png": figures.shap_summary(shap_values.values, codes, codec.columns, shap_values.base_value, "bar"),
        "shap_beeswarm.png": figures.shap_summary(
            shap_values.values, codes, codec.columns, shap_values.base_value, "beeswarm"
        ),
    }
    summary = {
        "customers": len(scored),
        "personas": persona_model.k,
        "persona_silhouette": persona_model.silhouettes[persona_model.k],
        "segments_test": {
            row["segment"]: {
                k: float(row[k]) for k in ("customers", "predicted_churn_rate", "actual_churn_rate", "lift")
            }
            for _, row in evidence.iterrows()
        },
        "churners_reached_test": reached,
        "importance_rank_correlation": float(
            importance["shap_rank"].corr(importance["permutation_rank"], method="spearman")
        ),
        # columns whose rank differs by 3 or more between SHAP (all customers, probability scale)
        # and permutation importance (validation, ROC-AUC): where the two methods tell different stories
        "importance_disagreements": {
            col: {"shap_rank": int(r["shap_rank"]), "permutation_rank": int(r["permutation_rank"])}
            for col, r in importance.iterrows()
            if abs(r["shap_rank"] - r["permutation_rank"]) >= 3
        },
    }
    write_json(paths.metrics / "segment.json", summary)

    tags = store.run_tags("segment", data_md5(paths), champion_version=versions[registry.CHAMPION])
    with mlflow.start_run(run_name="segment", tags=tags) as active:
        mlflow.log_metric("personas", persona_model.k)
        runs.save_and_log_figures(active.info.run_id, figs, paths.plots / "segment")
        mlflow.log_artifacts(str(out), "tables")
        mlflow.log_dict(summary, "summary.json")
    log.info("segments on test: %s", {s: round(v["actual_churn_rate"], 3) for s, v in summary["segments_test"].items()})


def _drivers_by_segment(values: explain.Explanations, segment: pd.Series, top: int = 3) -> pd.DataFrame:
    """The columns that push each segment's risk up the most (mean SHAP value in the segment)."""
    frame = pd.DataFrame(values.values, columns=values.columns)
    rows = []
    for name, group in frame.groupby(segment.to_numpy()):
        means = group.mean().sort_values(ascending=False)
        rows.append(
            {"segment": name, **{f"driver_{i + 1}": f"{c} ({v:+.3f})" for i, (c, v) in enumerate(means[:top].items())}}
        )
    return pd.DataFrame(rows)
