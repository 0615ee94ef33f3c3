"""Every customer scored once, with the evidence and the explanations behind the scores; no I/O.

Every customer (all splits) gets the champion's probability, a risk x value segment, a persona, the
net value of contacting them and three reasons (SHAP). The evidence (actual churn per segment,
deciles, gains against the baseline) comes from the test split only, whose scores were never seen
in training or in any choice; the rows from it are marked ``unseen_in_training``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.config import SegmentConfig
from pipeline.data.schema import DataSchema
from pipeline.segmentation import campaign, explain, importance, personas, segments

TEST = "test"  # the split whose outcomes give the evidence
REASONS = 3  # reasons per customer


@dataclass(frozen=True)
class Segmentation:
    """What the segment stage writes, in one place, so the stage only has to lay it out."""

    customers: pd.DataFrame  # every split, one row per customer, with a ``split`` column
    scored: pd.DataFrame  # ``scored_table``: what marketing works from
    personas: personas.Personas
    described: pd.DataFrame  # each persona's name, size and defining values, on the training split
    explanations: explain.Explanations  # the champion's SHAP values, every customer
    importance: pd.DataFrame  # SHAP against permutation importance (``importance.compare``)
    evidence: segments.Evidence  # on the test split
    value_cut: segments.ValueCut  # the value axis's cut point, resolved on the training split
    drivers: pd.DataFrame  # ``explain.drivers_by_segment``
    persona_by_segment: pd.DataFrame  # ``personas.by_segment``


def segment_customers(
    splits: Mapping[str, pd.DataFrame],
    schema: DataSchema,
    cfg: SegmentConfig,
    champion: explain.Probability,
    baseline: explain.Probability,
) -> Segmentation:
    """Score, segment, cluster and explain every customer with the ``champion``; the baseline's
    probabilities only serve as the yardstick in the evidence. The value cut is resolved (a quantile
    taken), personas are fitted, and the SHAP background drawn, on the training split; permutation
    importance is measured on validation."""
    cfg = cfg.resolved(splits["train"][cfg.value_column])
    frames = {name: frame.assign(split=name) for name, frame in splits.items()}
    customers = pd.concat(frames.values(), ignore_index=True)
    p = champion(_columns(customers, schema))
    value = customers[cfg.value_column].to_numpy(dtype="float64")
    assigned = segments.assign(p, value, cfg)
    persona_columns = {c: schema.categorical[c] for c in cfg.persona_columns}
    persona_model = personas.fit(frames["train"], persona_columns, cfg.persona_k, cfg.persona_seed)
    described = persona_model.describe(frames["train"])
    explanations, permutation = _explain(champion, frames["train"], frames["validation"], customers, schema, cfg)
    expected = campaign.net_value(p, cfg.monthly_value(value), cfg.campaign, cfg.horizon_months)
    scored = scored_table(
        customers, schema.record_id, p, assigned, expected,
        persona_model.assign(customers), described, explain.reasons(explanations, customers, schema),
    )  # fmt: skip
    test = (customers["split"] == TEST).to_numpy()
    churned = customers[schema.target.column].to_numpy()
    return Segmentation(
        customers=customers,
        scored=scored,
        personas=persona_model,
        described=described,
        explanations=explanations,
        importance=importance.compare(explanations.global_importance(), permutation),
        evidence=segments.evidence_on(
            test, assigned, p, baseline(_columns(customers, schema)), churned, cfg.top_shares
        ),
        drivers=explain.drivers_by_segment(explanations, assigned["segment"]),
        persona_by_segment=personas.by_segment(scored["persona"], scored["segment"]),
        value_cut=segments.ValueCut.of(cfg, splits["train"][cfg.value_column]),
    )


def scored_table(
    customers: pd.DataFrame,
    id_column: str,
    probability: np.ndarray,
    assigned: pd.DataFrame,
    expected: np.ndarray,
    persona: np.ndarray,
    described: pd.DataFrame,
    reasons: list[list[str]],
) -> pd.DataFrame:
    """One row per customer, rounded for reading: the test rows marked, as their scores were never
    seen in training or model choice; ``expected`` is the net value of contacting (``campaign``)."""
    return pd.DataFrame(
        {
            id_column: customers[id_column],
            "split": customers["split"],
            "unseen_in_training": (customers["split"] == TEST).to_numpy(),
            "churn_probability": probability.round(6),
            "segment": assigned["segment"],
            "action": assigned["action"],
            "persona": persona,
            "persona_name": described.set_index("persona")["name"].loc[persona].to_numpy(),
            "revenue_at_risk": assigned["revenue_at_risk"].round(2),
            "expected_value": campaign.in_cents(expected),
            "contact": campaign.contact(expected),
            **{f"reason_{k + 1}": [r[k] for r in reasons] for k in range(REASONS)},
        }
    )


def _explain(
    probability: explain.Probability,
    train: pd.DataFrame,
    validation: pd.DataFrame,
    customers: pd.DataFrame,
    schema: DataSchema,
    cfg: SegmentConfig,
) -> tuple[explain.Explanations, pd.Series]:
    """SHAP values for every customer (against a training sample), and permutation importance on
    validation as the cross-check."""
    codec = explain.Codec(schema)
    background = train.sample(cfg.shap_background, random_state=cfg.shap_seed)
    explanations = explain.explain(probability, codec, background, customers, cfg.shap_seed)
    permutation = explain.permutation_importance(
        probability, codec, validation, validation[schema.target.column].to_numpy(),
        cfg.permutation_repeats, cfg.shap_seed,
    )  # fmt: skip
    return explanations, permutation


def _columns(frame: pd.DataFrame, schema: DataSchema) -> dict[str, np.ndarray]:
    return {c: frame[c].to_numpy() for c in schema.feature_columns}
