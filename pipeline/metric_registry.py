"""The one list of the metrics the project measures: what each is called, which way is better, which
ones each part of the study reports, and how a value with its interval is named in MLflow.

Training (validation summaries over seeds), evaluation (test metrics, paired differences), the
resampled comparison, tracking and the report all take their metric names from here, so a metric is
added, renamed or relabelled in one place. The functions that compute the metrics live in
``pipeline.evaluation.metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSpec:
    key: str  # as in MLflow and the JSON outputs: ``val_<key>_mean``, ``test_<key>``, ``diff_<key>``
    label: str  # as a reader sees it
    lower_is_better: bool


METRICS: dict[str, MetricSpec] = {
    spec.key: spec
    for spec in (
        MetricSpec("accuracy", "Accuracy", lower_is_better=False),
        MetricSpec("precision", "Precision", lower_is_better=False),
        MetricSpec("recall", "Recall", lower_is_better=False),
        MetricSpec("f1", "F1", lower_is_better=False),
        MetricSpec("macro_f1", "Macro-F1", lower_is_better=False),
        MetricSpec("roc_auc", "ROC-AUC", lower_is_better=False),
        MetricSpec("pr_auc", "PR-AUC", lower_is_better=False),
        MetricSpec("log_loss", "Log loss", lower_is_better=True),
        MetricSpec("brier", "Brier score", lower_is_better=True),
        MetricSpec("ece", "Expected calibration error", lower_is_better=True),
        MetricSpec("best_epoch", "Best epoch", lower_is_better=True),  # fewer epochs: cheaper to train
    )
}

# Which metrics each part of the study reports, in the order readers see them
VALIDATION = ("log_loss", "roc_auc", "pr_auc", "f1", "accuracy", "precision", "recall", "best_epoch")  # over seeds
TEST = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier", "ece")  # with intervals
PAIRED = ("log_loss", "brier", "roc_auc", "pr_auc", "f1")  # minus the baseline's, paired (every gate criterion, F1)
RESAMPLED = ("log_loss", "roc_auc", "pr_auc", "brier", "f1", "macro_f1")  # per fold of the resampled comparison
BEFORE_AFTER = ("accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc")  # the before/after bars
# the brief's before/after: every network minus the original as it was used (one seed, threshold 0.5, raw)
VERSUS_ORIGINAL = ("accuracy", "precision", "recall", "f1", "macro_f1", "roc_auc", "pr_auc", "log_loss", "brier")


def label(key: str) -> str:
    return METRICS[key].label


def lower_is_better(key: str) -> bool:
    return METRICS[key].lower_is_better


def interval_names(prefix: str, key: str) -> tuple[str, str, str]:
    """The MLflow names of an estimate and its interval: ``<prefix>_<key>``, ``…_low``, ``…_high``."""
    name = f"{prefix}_{key}"
    return name, f"{name}_low", f"{name}_high"


def with_interval(prefix: str, key: str, estimate: Mapping[str, float]) -> dict[str, float]:
    """``{"value"|"mean", "low", "high"}`` as MLflow metrics named by ``interval_names``."""
    value = estimate["value"] if "value" in estimate else estimate["mean"]
    return dict(zip(interval_names(prefix, key), (value, estimate["low"], estimate["high"]), strict=True))


def read_interval(metrics: Mapping[str, float], prefix: str, key: str) -> tuple[float, float, float]:
    """The estimate and interval ``with_interval`` wrote, from a run's metrics."""
    value, low, high = (metrics[name] for name in interval_names(prefix, key))
    return value, low, high
