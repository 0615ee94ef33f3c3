"""Risk x value segments and the evidence a campaign team needs to trust them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from pipeline.config import SEGMENT_CELLS, SegmentConfig

CELLS = SEGMENT_CELLS


def cell(probability: np.ndarray, value: np.ndarray, cfg: SegmentConfig) -> np.ndarray:
    """Each customer's cell: exactly one of ``CELLS``, from the two cut points (``cfg`` resolved: the
    value cut an amount, see ``SegmentConfig.resolved``)."""
    return np.asarray(CELLS, dtype=object)[_cell_index(probability, value, cfg)]


def _cell_index(probability: np.ndarray, value: np.ndarray, cfg: SegmentConfig) -> np.ndarray:
    """Each customer's place in ``CELLS``: low risk adds 2, low value 1."""
    high_risk = np.asarray(probability) >= cfg.risk_cut
    high_value = np.asarray(value, dtype="float64") >= cfg.cut
    return 2 * (~high_risk).astype("intp") + (~high_value).astype("intp")


def names_and_actions(probability: np.ndarray, value: np.ndarray, cfg: SegmentConfig) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's segment name and recommended action (object arrays of text), looked up per cell."""
    index = _cell_index(probability, value, cfg)
    names = np.array([cfg.segments[c].name for c in CELLS], dtype=np.object_)
    actions = np.array([cfg.segments[c].action for c in CELLS], dtype=np.object_)
    return names[index], actions[index]


@dataclass(frozen=True)
class ValueCut:
    """Where the value axis is cut: the amount, and the share of the training split's customers below it."""

    amount: float
    training_share_below: float

    @classmethod
    def of(cls, cfg: SegmentConfig, training_values: npt.ArrayLike) -> ValueCut:
        """``cfg`` resolved on ``training_values`` (the training split's value column)."""
        values = np.asarray(training_values, dtype="float64")
        return cls(cfg.cut, float(np.mean(values < cfg.cut)))


def assign(probability: np.ndarray, value: np.ndarray, cfg: SegmentConfig) -> pd.DataFrame:
    """Segment name, recommended action and expected revenue at risk per customer."""
    names, actions = names_and_actions(probability, value, cfg)
    return pd.DataFrame(
        {
            "segment": names,
            "action": actions,
            "revenue_at_risk": np.asarray(probability) * cfg.monthly_value(value) * cfg.horizon_months,
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


def churners_reached_at(
    probabilities: dict[str, np.ndarray], churned: np.ndarray, top_shares: Sequence[float]
) -> dict[str, dict[str, int]]:
    """Per campaign size (``top_<percent>pct``), the churners each model's ranking reaches: the
    comparison a campaign team can act on, in customers rather than in ROC-AUC."""
    return {
        f"top_{round(share * 100)}pct": {
            model: churners_reached(q, churned, share) for model, q in probabilities.items()
        }
        for share in top_shares
    }


def summarize(evidence_table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """An ``evidence`` table's headline numbers per segment, as plain numbers for a metrics file."""
    return {
        row["segment"]: {k: float(row[k]) for k in ("customers", "predicted_churn_rate", "actual_churn_rate", "lift")}
        for _, row in evidence_table.iterrows()
    }


@dataclass(frozen=True)
class Evidence:
    """What customers with known outcomes say about the champion's segments and ranking, against the
    baseline's ranking (models are keyed ``champion`` and ``baseline``, in that order)."""

    segments: pd.DataFrame  # ``evidence``: actual against predicted churn per segment
    deciles: dict[str, pd.DataFrame]  # per model
    gains: dict[str, tuple[np.ndarray, np.ndarray]]  # per model: share targeted, share of churners reached
    churners_reached: dict[str, dict[str, int]]  # ``churners_reached_at``


def evidence_on(
    rows: np.ndarray,
    assigned: pd.DataFrame,
    champion: np.ndarray,
    baseline: np.ndarray,
    churned: np.ndarray,
    top_shares: Sequence[float],
) -> Evidence:
    """The evidence from the customers in ``rows`` (a mask: the test split, whose scores no training or
    model choice has seen, so the evidence is honest), given ``assign``'s output for all customers."""
    y = churned[rows]
    probabilities = {"champion": champion[rows], "baseline": baseline[rows]}
    return Evidence(
        segments=evidence(assigned["segment"][rows], champion[rows], y, assigned["revenue_at_risk"][rows].to_numpy()),
        deciles={model: deciles(p, y) for model, p in probabilities.items()},
        gains={model: gains(p, y) for model, p in probabilities.items()},
        churners_reached=churners_reached_at(probabilities, y, top_shares),
    )
