"""SHAP and permutation importance side by side: ranks, their agreement, and where they part."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline.segmentation import importance

SHAP = pd.Series({"a": 0.5, "b": 0.3, "c": 0.2, "d": 0.1, "e": 0.05})
PERMUTATION = pd.Series({"e": 0.4, "a": 0.3, "b": 0.2, "c": 0.1, "d": 0.0})  # another order: e first


def test_both_methods_are_ranked_in_shaps_order_by_column() -> None:
    table = importance.compare(SHAP, PERMUTATION)
    assert table.index.name == "column"
    assert list(table.index) == ["a", "b", "c", "d", "e"]
    assert list(table.columns) == ["shap_mean_abs", "permutation_auc_drop", "shap_rank", "permutation_rank"]
    assert table["shap_rank"].tolist() == [1, 2, 3, 4, 5]
    assert table["permutation_rank"].tolist() == [2, 3, 4, 5, 1]
    assert table.loc["e", "permutation_auc_drop"] == 0.4


def test_tied_importances_share_the_lower_whole_rank() -> None:
    table = importance.compare(pd.Series({"a": 0.3, "b": 0.2, "c": 0.1}), pd.Series({"a": 0.2, "b": 0.2, "c": 0.1}))
    assert table["permutation_rank"].tolist() == [1, 1, 3]  # 1.5 each, as whole numbers


def test_rank_correlation_is_spearmans_between_the_two_rankings() -> None:
    assert importance.rank_correlation(importance.compare(SHAP, SHAP)) == pytest.approx(1.0)
    assert importance.rank_correlation(importance.compare(SHAP, -SHAP)) == pytest.approx(-1.0)
    # rank differences -1, -1, -1, -1, 4: 1 - 6 x 20 / (5 x 24) = 0
    assert importance.rank_correlation(importance.compare(SHAP, PERMUTATION)) == pytest.approx(0.0)


def test_disagreements_are_the_columns_ranked_far_apart() -> None:
    table = importance.compare(SHAP, PERMUTATION)
    assert importance.disagreements(table) == {"e": {"shap_rank": 5, "permutation_rank": 1}}
    assert set(importance.disagreements(table, gap=1)) == {"a", "b", "c", "d", "e"}
    assert importance.disagreements(importance.compare(SHAP, SHAP)) == {}
