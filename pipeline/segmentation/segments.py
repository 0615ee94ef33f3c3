"""Risk x value segments and the evidence a campaign team needs to trust them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.config import SegmentConfig

CELLS = ("high_risk_high_value", "high_risk_low_value", "low_risk_high_value", "low_risk_low_value")


def cell(probability: np.ndarray, value: np.ndarray, cfg: SegmentConfig) -> np.ndarray:
    """Each customer's cell: exactly one of ``CELLS``, from the two cut points."""
    high_risk = np.asarray(probability) >= cfg.risk_cut
    high_value = np.asarray(value, dtype="float64") >= cfg.value_cut
    names = np.where(high_risk, np.where(high_value, CELLS[0], CELLS[1]), np.where(high_value, CELLS[2], CELLS[3]))
    return names.astype(object)


def assign(probability: np.ndarray, value: np.ndarray, cfg: SegmentConfig) -> pd.DataFrame:
    """Segment name, recommended action and expected revenue at risk per customer."""
    cells = cell(probability, value, cfg)
    return pd.DataFrame(
        {
            "segment": [cfg.segments[c].name for c in cells],
            "action": [cfg.segments[c].action for c in cells],
            "revenue_at_risk": np.asarray(probability) * np.asarray(value, dtype="float64") * cfg.horizon_months,
        }
    )


def evidence(
    segments: pd.Series, probability: np.ndarray, churned: np.ndarray, revenue_at_risk: np.ndarray
) -> pd.DataFrame:
    """Per segment: customers, predicted and actual churn rate, revenue at risk, lift over the base rate."""
    frame = pd.DataFrame(
        {"segment": segments.to_numpy(), "p": probability, "churned": churned, "revenue_at_risk": revenue_at_risk}
    )
    base_rate = float(np.mean(churned))
    table = frame.groupby("segment", sort=False).agg(
        customers=("p", "size"),
        predicted_churn_rate=("p", "mean"),
        actual_churn_rate=("churned", "mean"),
        revenue_at_risk=("revenue_at_risk", "sum"),
    )
    table["share"] = table["customers"] / len(frame)
    table["lift"] = table["actual_churn_rate"] / base_rate
    return table.sort_values("predicted_churn_rate", ascending=False).reset_index()


def deciles(probability: np.ndarray, churned: np.ndarray) -> pd.DataFrame:
    """Customers ranked by risk in ten equal groups (1 = riskiest): churn rate, lift, cumulative capture."""
    order = np.argsort(-np.asarray(probability), kind="mergesort")
    churned = np.asarray(churned, dtype="float64")[order]
    groups = np.array_split(np.arange(len(order)), 10)
    base_rate, total = churned.mean(), churned.sum()
    rows, captured = [], 0.0
    for i, rows_of_group in enumerate(groups, start=1):
        hits = churned[rows_of_group].sum()
        captured += hits
        rows.append({
            "decile": i,
            "customers": len(rows_of_group),
            "churners": int(hits),
            "churn_rate": hits / len(rows_of_group),
            "lift": hits / len(rows_of_group) / base_rate,
            "cumulative_share_of_churners": captured / total,
        })  # fmt: skip
    return pd.DataFrame(rows)


def gains(probability: np.ndarray, churned: np.ndarray, points: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative gains: share of all churners reached when targeting the top k % by risk."""
    order = np.argsort(-np.asarray(probability), kind="mergesort")
    cumulative = np.cumsum(np.asarray(churned, dtype="float64")[order]) / np.sum(churned)
    targeted = np.linspace(0, 1, points + 1)
    reached = np.r_[0.0, cumulative][np.round(targeted * len(order)).astype(int)]
    return targeted, reached


def churners_reached(probability: np.ndarray, churned: np.ndarray, top_share: float) -> int:
    """How many actual churners a campaign reaches when it targets the riskiest ``top_share``."""
    order = np.argsort(-np.asarray(probability), kind="mergesort")
    k = round(top_share * len(order))
    return int(np.asarray(churned)[order][:k].sum())
