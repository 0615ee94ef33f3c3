"""``params.yaml``'s validation: the references' ranges and budgets (the other sections' rules are tested
where they are used)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from pipeline.config import Params, ReferencesConfig
from tests.conftest import REPO, deep_update

REFERENCES = Params.load(REPO / "params.yaml").references.model_dump()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"gradient_boosting": {"learning_rate": [0.3, 0.01]}}, r"a range needs low < high, got \[0.3, 0.01\]"),
        ({"gradient_boosting": {"max_features": [0.5, 0.5]}}, "a range needs low < high"),
        ({"gradient_boosting": {"l2_regularization": [0.0, 1.0]}}, "searched on a log scale needs low > 0"),
        ({"gradient_boosting": {"max_leaf_nodes": [1, 8]}}, "a tree needs at least 2 leaves"),
        ({"gradient_boosting": {"max_features": [0.5, 1.5]}}, r"max_features is a share of the features, in \(0, 1\]"),
        ({"gradient_boosting": {"trials": 0}}, "greater than 0"),
        ({"logistic_regression": {"C": [-1.0, 1.0]}}, "searched on a log scale needs low > 0"),
        ({"logistic_regression": {"penalty": ["elasticnet"]}}, "'l1' or 'l2'"),
        ({"logistic_regression": {"class_weight": []}}, "at least 1 item"),
        ({"logistic_regression": {"max_iter": [1, 2]}}, "Extra inputs are not permitted"),
    ],
)
def test_a_wrong_reference_space_is_refused_with_a_reason(changes: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ReferencesConfig.model_validate(deep_update(REFERENCES, changes))


def test_params_yaml_budgets_match_the_network_studies() -> None:
    """The documented budgets: boosting as many trials as the full search, logistic regression as each optimizer."""
    params = Params.load(REPO / "params.yaml")
    assert params.references.gradient_boosting.trials == params.optimize.search.trials
    assert params.references.logistic_regression.trials == params.optimize.comparison.trials_per_optimizer
