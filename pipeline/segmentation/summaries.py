"""What ``segment`` and ``campaign`` hand the report: their ``summary.json``, as typed models.

Each stage builds one, writes it (``summary/<stage>.json``, a DVC metrics file, and the run's
``summary.json`` in MLflow) and the report reads it back with ``model_validate``. One definition each:
the stages and the report use these classes. Fields are in the files' order.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Summary(BaseModel):
    """Frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class SegmentOnTest(Summary):
    """One segment's test customers: how many, their predicted and actual churn rate, and the lift."""

    customers: float
    predicted_churn_rate: float
    actual_churn_rate: float
    lift: float


class ValueCutSummary(Summary):
    amount: float  # segment.value_cut as an amount (a quantile resolved on the training split)
    training_share_below: float


class SegmentSummary(Summary):
    customers: int
    personas: int
    persona_silhouette: float
    segments_test: dict[str, SegmentOnTest]  # by segment name
    churners_reached_test: dict[str, dict[str, int]]  # "top_20pct" -> champion / baseline -> churners
    importance_rank_correlation: float
    # columns whose rank differs by 3 or more between SHAP and permutation importance
    importance_disagreements: dict[str, dict[str, int]]
    value_cut: ValueCutSummary


class CampaignSummary(Summary):
    """Counts are of test customers unless named otherwise."""

    customers: int
    test_customers: int
    planned_contacts: int
    planned_expected_net_value: float
    test_planned_contacts: int
    base_planned_contacts: int  # the scored table's flag, whole base
    test_planned_share: float
    test_net_value: dict[str, dict[str, float]]  # rule -> net value, interval, the plan's lead over it
    base_scale: float  # customers / test customers: an assumption when used (test is typical of the base)
