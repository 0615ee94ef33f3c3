"""The reference models: built from their tuned hyperparameters, refitted, and read back from the stage's files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from pipeline.evaluation import reference
from pipeline.io import write_json

LOGISTIC = {"C": 0.3, "penalty": "l1", "class_weight": "balanced"}
BOOSTING = {
    "learning_rate": 0.05,
    "max_iter": 20,
    "max_leaf_nodes": 4,
    "min_samples_leaf": 10,
    "l2_regularization": 0.5,
    "max_features": 0.5,
}
TUNED = {"logistic_regression": LOGISTIC, "gradient_boosting": BOOSTING}


def _data(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4))
    return x, (x[:, 0] + rng.normal(size=n) > 0.5).astype("float32")


def test_logistic_regression_is_built_with_its_penalty_and_class_weight() -> None:
    model = reference.build("logistic_regression", LOGISTIC, seed=3)
    assert isinstance(model, LogisticRegression)
    got = model.get_params()
    assert (got["C"], got["l1_ratio"], got["class_weight"]) == (0.3, 1.0, "balanced")
    assert (got["solver"], got["random_state"]) == ("liblinear", 3)
    l2 = reference.build("logistic_regression", {**LOGISTIC, "penalty": "l2", "class_weight": "none"}, 0)
    assert (l2.get_params()["l1_ratio"], l2.get_params()["class_weight"]) == (0.0, None)


def test_gradient_boosting_is_built_with_every_hyperparameter_and_no_early_stopping() -> None:
    model = reference.build("gradient_boosting", BOOSTING, seed=5)
    assert isinstance(model, HistGradientBoostingClassifier)
    got = model.get_params()
    assert {k: got[k] for k in BOOSTING} == BOOSTING
    assert (got["early_stopping"], got["random_state"]) == (False, 5)


def test_the_library_defaults_build_both_references() -> None:
    for name in reference.NAMES:
        reference.build(name, reference.DEFAULTS[name], 0)


@pytest.mark.parametrize(
    ("name", "hyperparameters", "message"),
    [
        ("random_forest", {}, "unknown reference model 'random_forest'"),
        ("logistic_regression", {"C": 1.0, "penalty": "l2"}, r"missing \['class_weight'\], unknown \[\]"),
        ("gradient_boosting", {**BOOSTING, "max_depth": 3}, r"missing \[\], unknown \['max_depth'\]"),
    ],
)
def test_a_wrong_name_or_set_of_hyperparameters_is_named(name: str, hyperparameters: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        reference.build(name, hyperparameters, 0)


def test_both_references_are_fitted_with_their_hyperparameters() -> None:
    x, y = _data()
    fitted = reference.fit_reference_models(x, y, TUNED, seed=0)
    assert list(fitted) == ["logistic_regression", "gradient_boosting"]
    assert fitted["gradient_boosting"].n_iter_ == BOOSTING["max_iter"]
    p = reference.probabilities(fitted["logistic_regression"], x)
    assert p.dtype == np.float64 and p.shape == (len(x),) and ((p > 0) & (p < 1)).all()
    with pytest.raises(ValueError, match=r"no tuned hyperparameters for \['gradient_boosting'\]"):
        reference.fit_reference_models(x, y, {"logistic_regression": LOGISTIC}, seed=0)


def test_the_stage_files_load_as_the_hyperparameters_fit_takes(tmp_path: Path) -> None:
    for name, hyperparameters in TUNED.items():
        record = reference.TunedReference(name, hyperparameters, 0.42, 0.84, trials=12, best_trial=3, study="s")
        write_json(reference.tuned_file(tmp_path, name), record.as_dict())
    assert reference.load_tuned(tmp_path) == TUNED
    assert reference.read_tuned(tmp_path)["gradient_boosting"].best_trial == 3


def test_a_missing_file_says_which_stage_writes_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"logistic_regression.json not found: run the `references` stage"):
        reference.load_tuned(tmp_path)
