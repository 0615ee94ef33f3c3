"""Two answers to "which columns drive churn", side by side, and where they disagree.

SHAP (every customer, on the probability scale) and permutation importance (validation, drop in
ROC-AUC) measure different things. Where the two rank a column far apart they tell different
stories, and a reader of either one alone should know.
"""

from __future__ import annotations

import pandas as pd

DISAGREEMENT_GAP = 3  # ranks apart at which the two methods are said to disagree about a column


def compare(shap_mean_abs: pd.Series, permutation_auc_drop: pd.Series) -> pd.DataFrame:
    """Both importances and their ranks (1 = most important) per column, in SHAP's order, indexed by
    ``column``: one table, so the two methods can be read against each other."""
    table = pd.DataFrame({"shap_mean_abs": shap_mean_abs, "permutation_auc_drop": permutation_auc_drop})
    table["shap_rank"] = table["shap_mean_abs"].rank(ascending=False).astype(int)
    table["permutation_rank"] = table["permutation_auc_drop"].rank(ascending=False).astype(int)
    return table.sort_values("shap_rank").rename_axis("column")


def rank_correlation(table: pd.DataFrame) -> float:
    """Spearman correlation of the two rankings in a ``compare`` table: one number for how far the
    methods agree overall (1: the same order)."""
    return float(table["shap_rank"].corr(table["permutation_rank"], method="spearman"))


def disagreements(table: pd.DataFrame, gap: int = DISAGREEMENT_GAP) -> dict[str, dict[str, int]]:
    """The columns of a ``compare`` table whose two ranks differ by ``gap`` or more, with both ranks:
    the columns whose importance depends on how it is measured."""
    return {
        str(column): {"shap_rank": int(row["shap_rank"]), "permutation_rank": int(row["permutation_rank"])}
        for column, row in table.iterrows()
        if abs(row["shap_rank"] - row["permutation_rank"]) >= gap
    }
