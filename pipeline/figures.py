"""Matplotlib figures built from plain data; callers save or log them and close them."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

CHURN_LABELS = ("stays", "churns")


def loss_curves(curves: Mapping[str, Sequence[float]], title: str, best_epoch: int | None = None) -> Figure:
    """Per-epoch curves (e.g. train and validation loss) against the 1-based epoch."""
    fig, ax = plt.subplots(figsize=(6, 3.6), layout="constrained")
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    if best_epoch:
        ax.axvline(best_epoch, color="grey", linestyle=":", label=f"best epoch ({best_epoch})")
    ax.set(xlabel="epoch", ylabel="binary cross-entropy", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def confusion_matrix(counts: np.ndarray, title: str) -> Figure:
    """2x2 counts with row percentages, actual on rows and predicted on columns."""
    fig, ax = plt.subplots(figsize=(4, 3.6), layout="constrained")
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for (i, j), n in np.ndenumerate(counts):
        color = "white" if shares[i, j] > 0.6 else "black"
        ax.text(j, i, f"{n}\n{shares[i, j]:.0%}", ha="center", va="center", color=color)
    ax.set_xticks([0, 1], [f"predicted {c}" for c in CHURN_LABELS])
    ax.set_yticks([0, 1], [f"actually {c}" for c in CHURN_LABELS])
    ax.set_title(title)
    return fig


def close(fig: Figure) -> None:
    plt.close(fig)


def convergence(curves: Mapping[str, Sequence[Sequence[float]]], title: str) -> Figure:
    """Mean validation loss per epoch for each configuration (over seeds of unequal length)."""
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    for label, runs in curves.items():
        longest = max(len(r) for r in runs)
        padded = np.full((len(runs), longest), np.nan)
        for i, r in enumerate(runs):
            padded[i, : len(r)] = r
        ax.plot(np.arange(1, longest + 1), np.nanmean(padded, axis=0), label=label)
    ax.set(xlabel="epoch", ylabel="validation loss (mean over seeds)", title=title)
    ax.grid(alpha=0.3)
    ax.legend(ncols=2, fontsize="small")
    return fig


def seed_spread(values: Mapping[str, Sequence[float]], metric: str, title: str) -> Figure:
    """One row per configuration: every seed's value as a dot, and the mean as a bar."""
    labels = list(values)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(labels) + 1.2), layout="constrained")
    means = [float(np.mean(values[label])) for label in labels]
    ax.barh(labels, means, color="#c6dbef")
    for y, label in enumerate(labels):
        ax.scatter(values[label], [y] * len(values[label]), color="#08519c", s=14, zorder=3)
    low = min(min(v) for v in values.values())
    high = max(max(v) for v in values.values())
    margin = (high - low) * 0.15 or 0.01
    ax.set_xlim(low - margin, high + margin)
    ax.invert_yaxis()
    ax.set(xlabel=metric, title=title)
    ax.grid(axis="x", alpha=0.3)
    return fig


def roc_and_pr_curves(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], title: str) -> Figure:
    """ROC and precision-recall curves of several models on the same labels."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
    for label, (y, p) in curves.items():
        fpr, tpr, _ = roc_curve(y, p)
        precision, recall, _ = precision_recall_curve(y, p)
        roc_ax.plot(fpr, tpr, label=label)
        pr_ax.plot(recall, precision, label=label)
    roc_ax.plot([0, 1], [0, 1], color="grey", linestyle=":")
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate (recall)", title="ROC")
    pr_ax.set(xlabel="recall", ylabel="precision", title="Precision-recall")
    for ax in (roc_ax, pr_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    fig.suptitle(title)
    return fig


def reliability(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], bins: int, title: str) -> Figure:
    """Observed churn rate against mean predicted probability, per equal-width bin."""
    fig, ax = plt.subplots(figsize=(5.5, 5), layout="constrained")
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfectly calibrated")
    for label, (y, p) in curves.items():
        index = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
        counts = np.bincount(index, minlength=bins)
        seen = counts > 0
        mean_p = np.bincount(index, weights=p, minlength=bins)[seen] / counts[seen]
        rate = np.bincount(index, weights=y, minlength=bins)[seen] / counts[seen]
        ax.plot(mean_p, rate, marker="o", label=label)
    ax.set(xlabel="mean predicted churn probability", ylabel="observed churn rate", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def before_after(
    values: Mapping[str, Mapping[str, tuple[float, float, float]]], metrics: Sequence[str], title: str
) -> Figure:
    """Grouped bars per metric, one bar per model, with the confidence interval as error bar.
    ``values[model][metric] = (value, low, high)``."""
    models = list(values)
    width = 0.8 / len(models)
    fig, ax = plt.subplots(figsize=(10, 4.2), layout="constrained")
    x = np.arange(len(metrics))
    for i, model in enumerate(models):
        point = np.array([values[model][m][0] for m in metrics])
        low = point - np.array([values[model][m][1] for m in metrics])
        high = np.array([values[model][m][2] for m in metrics]) - point
        ax.bar(x + (i - (len(models) - 1) / 2) * width, point, width, yerr=[low, high], capsize=3, label=model)
    ax.set_xticks(x, [m.replace("_", " ") for m in metrics])
    ax.set(ylabel="test value (95 % CI)", title=title, ylim=(0, 1))
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return fig


def forest(
    rows: Mapping[str, Mapping[str, tuple[float, float, float]]], panels: Sequence[str], xlabel: str, title: str
) -> Figure:
    """Each model's difference from a reference with its interval, one panel per source of
    evidence, side by side on a shared model axis. ``rows[model][panel] = (value, low, high)``;
    a model missing from a panel is left blank there."""
    models = list(rows)
    fig, axes = plt.subplots(
        1, len(panels), figsize=(5 * len(panels), 0.75 + 0.38 * len(models)), sharey=True, layout="constrained"
    )
    y = np.arange(len(models))[::-1]
    for ax, panel in zip(np.atleast_1d(axes), panels, strict=True):
        for yi, model in zip(y, models, strict=True):
            if panel not in rows[model]:
                continue
            value, low, high = rows[model][panel]
            color = "tab:green" if high < 0 else "tab:red" if low > 0 else "tab:gray"
            ax.errorbar(value, yi, xerr=[[value - low], [high - value]], fmt="o", color=color, capsize=3)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set(title=panel, xlabel=xlabel)
        ax.grid(axis="x", alpha=0.3)
    np.atleast_1d(axes)[0].set_yticks(y, models)
    fig.suptitle(title)
    return fig


def gains_chart(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], title: str) -> Figure:
    """Cumulative share of churners reached against share of customers targeted, by risk."""
    fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    for label, (targeted, reached) in curves.items():
        ax.plot(targeted * 100, reached * 100, label=label)
    ax.plot([0, 100], [0, 100], color="grey", linestyle=":", label="random targeting")
    ax.set(xlabel="customers targeted, riskiest first (%)", ylabel="churners reached (%)", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def shap_summary(values: np.ndarray, data: np.ndarray, columns: Sequence[str], base: float, kind: str) -> Figure:
    """SHAP's own bar (mean |value|) or beeswarm plot, as a figure to save."""
    import shap

    explanation = shap.Explanation(values=values, base_values=np.full(len(values), base), data=data,
                                   feature_names=list(columns))  # fmt: skip
    plt.figure(figsize=(8, 6))
    plot = shap.plots.bar if kind == "bar" else shap.plots.beeswarm
    plot(explanation, max_display=12, show=False)
    fig = plt.gcf()
    fig.tight_layout()
    return fig


def campaign_curves(
    shares: np.ndarray,
    value: Mapping[str, np.ndarray],
    bands: Mapping[str, tuple[np.ndarray, np.ndarray]],
    planned_share: float,
    title: str,
) -> Figure:
    """Realized net value against campaign size, one line per targeting rule with its bootstrap band."""
    fig, ax = plt.subplots(figsize=(7, 5), layout="constrained")
    for label, curve in value.items():
        (line,) = ax.plot(shares * 100, curve, label=label)
        low, high = bands[label]
        ax.fill_between(shares * 100, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
    ax.axvline(planned_share * 100, color="grey", linestyle="--", label="the plan: positive expected value")
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set(xlabel="customers contacted (%)", ylabel="realized net value", title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def sensitivity_map(table: Mapping[Hashable, Sequence[float]], title: str) -> Figure:
    """Realized net value of the plan (and its size) over success rate x contact cost."""
    rates = sorted(set(table["success_rate"]))
    costs = sorted(set(table["contact_cost"]))
    value = np.full((len(rates), len(costs)), np.nan)
    share = np.full_like(value, np.nan)
    for s, c, v, p in zip(table["success_rate"], table["contact_cost"], table["net_value"], table["contact_share"],
                          strict=True):  # fmt: skip
        value[rates.index(s), costs.index(c)], share[rates.index(s), costs.index(c)] = v, p
    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    limit = float(np.nanmax(np.abs(value))) or 1.0
    image = ax.imshow(value, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto", origin="lower")
    for i in range(len(rates)):
        for j in range(len(costs)):
            ax.text(j, i, f"{value[i, j]:,.0f}\n{share[i, j]:.0%} contacted", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(costs)), [f"{c:g}" for c in costs])
    ax.set_yticks(range(len(rates)), [f"{r:.0%}" for r in rates])
    ax.set(xlabel="cost of one contact", ylabel="success rate (churners kept)", title=title)
    fig.colorbar(image, ax=ax, label="realized net value")
    return fig
