"""segment.value_cut: an amount, or a quantile of the value column taken on the training split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from pipeline.config import Params, QuantileCut, SegmentConfig
from pipeline.data.schema import DataSchema
from pipeline.segmentation import segments
from pipeline.serving.package import log_pyfunc
from pipeline.serving.scorer import Decision
from tests.conftest import REPO


@pytest.fixture(scope="module")
def configured() -> SegmentConfig:
    return Params.load(REPO / "params.yaml").segment


def test_the_project_cuts_value_at_the_training_median(configured: SegmentConfig) -> None:
    assert configured.value_cut == QuantileCut(quantile=0.5)


def test_a_quantile_is_taken_of_the_training_values(configured: SegmentConfig) -> None:
    train = np.random.default_rng(0).gamma(4.0, 20.0, 1001)
    resolved = configured.resolved(pd.Series(train))
    assert resolved.cut == np.median(train)
    seventieth = configured.model_copy(update={"value_cut": QuantileCut(quantile=0.7)}).resolved(train)
    assert seventieth.cut == np.quantile(train, 0.7)
    assert segments.ValueCut.of(seventieth, train).training_share_below == pytest.approx(0.7, abs=1e-3)
    cells = segments.cell(np.full(len(train), 0.9), train, resolved)
    assert (cells == "high_risk_high_value").sum() == (train >= np.median(train)).sum()


def test_an_amount_is_kept_whatever_the_data(configured: SegmentConfig) -> None:
    fixed = configured.model_copy(update={"value_cut": 70.0})
    assert fixed.resolved([1.0, 2.0, 3.0]) is fixed and fixed.cut == 70.0


def test_a_quantile_not_yet_taken_cannot_segment_nor_be_served(configured: SegmentConfig, schema: DataSchema) -> None:
    message = (
        r"segment.value_cut \{quantile: 0.5\} has no amount until it is taken on the training split's MonthlyCharges"
    )
    with pytest.raises(ValueError, match=message):
        segments.cell(np.array([0.2]), np.array([50.0]), configured)
    with pytest.raises(ValueError, match=message):  # before anything is logged
        log_pyfunc("model", schema, Path("p.json"), [], Decision(0.5), pd.DataFrame(), configured, pd.DataFrame())
    with pytest.raises(ValueError, match="no training values of MonthlyCharges"):
        configured.resolved([])


@pytest.mark.parametrize(
    "value_cut", [{"quantile": 1.5}, {"quantile": 0.0}, {"quantile": 0.5, "of": "train"}, "median", {}]
)
def test_a_malformed_cut_is_refused(configured: SegmentConfig, value_cut: object) -> None:
    with pytest.raises(ValidationError, match="value_cut"):
        SegmentConfig.model_validate({**configured.model_dump(), "value_cut": value_cut})


def test_the_resolved_cut_is_what_the_served_model_reads(configured: SegmentConfig) -> None:
    """The served model's segments.json holds the amount, and loads back as a number."""
    resolved = configured.resolved(np.array([10.0, 20.0, 30.0]))
    assert SegmentConfig.model_validate_json(resolved.model_dump_json()).cut == 20.0
