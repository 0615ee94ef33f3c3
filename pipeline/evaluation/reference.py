"""Reference models on the same features: context for the ANN, not candidates."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression


def fit_reference_models(x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, object]:
    """Logistic regression (the simplest model of this kind) and gradient-boosted trees
    (the usual strongest tabular baseline), with library defaults: untuned, like the ANN baseline."""
    return {
        "logistic_regression": LogisticRegression(max_iter=2000).fit(x, y),
        "gradient_boosting": HistGradientBoostingClassifier(random_state=seed).fit(x, y),
    }


def probabilities(model: object, x: np.ndarray) -> np.ndarray:
    return model.predict_proba(x)[:, 1].astype("float64")  # type: ignore[attr-defined]
