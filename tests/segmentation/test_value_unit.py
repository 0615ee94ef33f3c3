"""segment.value_unit: revenue at risk is the same money whether the value column is monthly, yearly or lifetime."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from pipeline.config import Params, SegmentConfig
from pipeline.segmentation import segments
from tests.conftest import REPO


@pytest.fixture
def monthly() -> SegmentConfig:
    return Params.load(REPO / "params.yaml").segment.model_copy(update={"value_cut": 70.0})


def test_a_yearly_or_lifetime_value_gives_the_revenue_at_risk_of_its_monthly_equivalent(monthly: SegmentConfig) -> None:
    p, per_month = np.array([0.2, 0.9]), np.array([50.0, 80.0])
    horizon = monthly.horizon_months
    expected = p * per_month * horizon
    np.testing.assert_array_equal(segments.assign(p, per_month, monthly)["revenue_at_risk"], expected)
    yearly = monthly.model_copy(update={"value_unit": "year"})
    np.testing.assert_allclose(segments.assign(p, per_month * 12, yearly)["revenue_at_risk"], expected)
    lifetime = monthly.model_copy(update={"value_unit": "lifetime"})
    np.testing.assert_allclose(segments.assign(p, per_month * horizon, lifetime)["revenue_at_risk"], expected)


def test_an_undeclared_unit_is_refused(monthly: SegmentConfig) -> None:
    with pytest.raises(ValidationError, match="value_unit"):
        SegmentConfig.model_validate({**monthly.model_dump(), "value_unit": "week"})


def test_the_served_expected_value_uses_the_monthly_equivalent(monthly: SegmentConfig) -> None:
    """The value model (campaign.net_value) gets the monthly amount wherever it runs: a yearly fee of
    12 x m gives the expected net value of a monthly fee m (the scorer, evaluate, resample, campaign
    all go through SegmentConfig.monthly_value)."""
    from pipeline.segmentation import campaign

    p, per_month = np.array([0.2, 0.9]), np.array([50.0, 80.0])
    yearly = monthly.model_copy(update={"value_unit": "year"})
    expected = campaign.net_value(p, per_month, monthly.campaign, monthly.horizon_months)
    np.testing.assert_allclose(
        campaign.net_value(p, yearly.monthly_value(per_month * 12), yearly.campaign, yearly.horizon_months), expected
    )
    assert not np.allclose(campaign.net_value(p, per_month * 12, monthly.campaign, monthly.horizon_months), expected)
