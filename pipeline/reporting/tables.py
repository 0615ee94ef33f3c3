"""The report's tables, built from the gathered evidence. Pure: no MLflow calls, no files.

Every table carries an id (``<!-- table: id -->`` above it in the Markdown), so a test can
re-read the registry and check each number of each table. The one computation: differences
between two challengers over the resampling folds (``resampled_difference``), by the same
corrected resampled t-test the resample stage uses against the baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import pandas as pd
from mlflow.entities import Run
from mlflow.entities.model_registry import ModelVersion

from pipeline.evaluation.resampled import Comparison, corrected_t_test
from pipeline.evaluation.summary import BASELINE, GateSummary, Versus
from pipeline.metric_registry import PAIRED, RESAMPLED, VALIDATION, label, read_interval
from pipeline.reporting.evidence import DataProfile, Evidence, LevelProfile, SeedEnsemble, Study
from pipeline.reporting.formats import count, interval, num, p_value, pct, signed, signed_count, signed_interval

NOT_RECORDED = "(not recorded)"  # a tag a version registered by an older pipeline lacks


@dataclass(frozen=True)
class Table:
    id: str
    header: Sequence[str]
    rows: Sequence[Sequence[str]]

    def markdown(self) -> str:
        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

        numeric = [all(_looks_numeric(r[i]) for r in self.rows) for i in range(len(self.header))]
        rule = "|" + "|".join("---:" if n and i else "---" for i, n in enumerate(numeric)) + "|"
        return "\n".join([f"<!-- table: {self.id} -->", line(self.header), rule, *map(line, self.rows)])


R = TypeVar("R")


@dataclass(frozen=True)
class Column(Generic[R]):
    """A table column: its title and how a row of the source becomes its cell."""

    title: str
    cell: Callable[[R], str]


def table(table_id: str, columns: Sequence[Column[R]], rows: Iterable[R]) -> Table:
    """The one renderer of column-defined tables: titles and cells from the same ``Column``."""
    source = list(rows)
    return Table(table_id, [c.title for c in columns], [[c.cell(r) for c in columns] for r in source])


def on_test(run: Run, metric: str, digits: int = 3) -> str:
    m = run.data.metrics
    return interval(*read_interval(m, "test", metric), digits)


def paired_difference(run: Run, metric: str) -> str:
    m = run.data.metrics
    if f"diff_{metric}" not in m:
        return "reference"
    return signed_interval(*read_interval(m, "diff", metric))


def model_label(evidence: Evidence, name: str) -> str:
    """A model's name as readers see it: the optimizer label, with the champion marked."""
    return f"{name} (champion)" if name == evidence.champion else name


def splits(evidence: Evidence) -> Table:
    m = evidence.prepare_run.data.metrics
    columns: list[Column[str]] = [
        Column("Split", str),
        Column("Customers", lambda s: f"{m[f'{s}_rows']:.0f}"),
        Column("Churn rate (%)", lambda s: pct(m[f"{s}_churn_rate"])),
    ]
    return table("splits", columns, ("train", "validation", "test"))


def widest_churn_spread(profile: DataProfile, columns: int) -> list[str]:
    """The categorical columns whose values differ most in churn rate, widest first."""
    spread = {
        col: max(v["churn_rate"] for v in levels.values()) - min(v["churn_rate"] for v in levels.values())
        for col, levels in profile["categorical"].items()
    }
    return sorted(spread, key=spread.__getitem__, reverse=True)[:columns]


Level = tuple[str, str, LevelProfile]  # column, value, its share and churn rate


def customer_base(evidence: Evidence, columns: int) -> Table:
    """Share and churn rate of each value of the columns that separate churners most (training split)."""
    levels = evidence.profile["categorical"]
    rows: list[Level] = [
        (c, level, v) for c in widest_churn_spread(evidence.profile, columns) for level, v in levels[c].items()
    ]
    columns_: list[Column[Level]] = [
        Column("Column", lambda r: r[0]),
        Column("Value", lambda r: r[1]),
        Column("Share of train (%)", lambda r: pct(r[2]["share"])),
        Column("Churn rate (%)", lambda r: pct(r[2]["churn_rate"])),
    ]
    return table("customer_base", columns_, rows)


def baseline_validation(evidence: Evidence) -> Table:
    m = evidence.baseline_run.data.metrics

    def stat(which: str) -> Callable[[str], str]:
        return lambda k: num(m[f"val_{k}_{which}"], 1 if k == "best_epoch" else 4)

    columns: list[Column[str]] = [
        Column("Validation metric", label),
        Column("Mean over seeds", stat("mean")),
        Column("Standard deviation", stat("std")),
    ]
    return table("baseline_validation", columns, VALIDATION)


def curve_summary(history: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """Epochs run, the best epoch (1-based), validation loss there and at the end, last training loss."""
    val, train = history["val_loss"], history["train_loss"]
    best = min(range(len(val)), key=val.__getitem__)
    return {
        "epochs": len(val),
        "best_epoch": best + 1,
        "best": val[best],
        "last": val[-1],
        "train_last": train[-1],
        "last_minus_best": val[-1] - val[best],
    }


def convergence(evidence: Evidence) -> Table:
    """Per model (its representative seed): epochs run, best epoch, the loss there and at the end."""
    trained = {**evidence.studies, **evidence.recipes}
    runs = {BASELINE: selected_baseline_run(evidence), **{k: s.selected_run() for k, s in trained.items()}}
    curves = {name: curve_summary(evidence.histories[run.info.run_id]) for name, run in runs.items()}

    def loss(key: str, title: str) -> Column[str]:
        return Column(title, lambda n: num(curves[n][key], 4))

    columns: list[Column[str]] = [
        Column("Model (representative seed)", lambda n: model_label(evidence, n)),
        Column("Epochs run", lambda n: str(curves[n]["epochs"])),
        Column("Best epoch", lambda n: str(curves[n]["best_epoch"])),
        loss("best", "Val. loss at best"),
        loss("last", "Val. loss at last"),
        loss("train_last", "Train loss at last"),
        Column("Last minus best", lambda n: signed(curves[n]["last_minus_best"])),
    ]
    return table("convergence", columns, curves)


@dataclass(frozen=True)
class Tuning:
    """A row of the optimizers table: a study (or the untuned baseline) and what it found."""

    name: str
    params: Mapping[str, str]
    prefix: str  # of the tuned parameters: "best." for a study
    metrics: Mapping[str, float]
    trials: str
    best: str


def optimizers(evidence: Evidence) -> Table:
    """The fair comparison and the search, on validation: what each study found, over the seeds."""
    base = evidence.baseline_run.data
    rows = [Tuning("baseline (untuned sgd)", base.params, "", base.metrics, "none", "n/a")]
    for name, study in evidence.studies.items():
        m = study.run.data.metrics
        trials, best = f"{m['trials']:.0f} ({m['pruned']:.0f} pruned)", num(m["best_val_loss"], 4)
        rows.append(Tuning(model_label(evidence, name), study.run.data.params, "best.", m, trials, best))
    columns: list[Column[Tuning]] = [
        Column("Optimizer / study", lambda r: r.name),
        Column("Tuned hyperparameters", lambda r: _hyperparameters(r.params, r.prefix)),
        Column("Trials", lambda r: r.trials),
        Column("Best trial val. log loss", lambda r: r.best),
        Column("Val. log loss, mean ± sd over seeds", lambda r: _mean_sd(r.metrics, "log_loss")),
        Column("Val. ROC-AUC, mean ± sd", lambda r: _mean_sd(r.metrics, "roc_auc")),
        Column("Best epoch (mean)", lambda r: num(r.metrics["val_best_epoch_mean"], 1)),
    ]
    return table("optimizers", columns, rows)


def search_configuration(evidence: Evidence) -> Table:
    params = evidence.studies["search"].run.data.params
    columns: list[Column[str]] = [
        Column("Setting", lambda k: k.removeprefix("best.")),
        Column("Value found by the search", lambda k: _value(params[k])),
    ]
    return table("search_configuration", columns, sorted(k for k in params if k.startswith("best.")))


def paired(evidence: Evidence) -> Table:
    champ = evidence.model_runs[evidence.champion]
    columns: list[Column[str]] = [
        Column("Test metric", label),
        Column("Champion minus baseline, paired bootstrap [95 % CI]", lambda k: paired_difference(champ, k)),
    ]
    return table("paired", columns, PAIRED)


def models_on_test(evidence: Evidence) -> Table:
    runs = evidence.model_runs

    def test(metric: str, title: str) -> Column[str]:
        return Column(title, lambda n: on_test(runs[n], metric))

    columns: list[Column[str]] = [
        Column("Model", lambda n: model_label(evidence, n)),
        Column("Kind", lambda n: runs[n].data.tags["kind"]),
        Column("Calibration", lambda n: runs[n].data.params["calibration"]),
        Column("Threshold", lambda n: num(float(runs[n].data.params["threshold"]), 3)),
        test("roc_auc", "ROC-AUC"),
        test("pr_auc", "PR-AUC"),
        test("f1", "F1"),
        test("log_loss", "Log loss"),
        Column("ROC-AUC minus baseline", lambda n: paired_difference(runs[n], "roc_auc") if n != BASELINE else "n/a"),
    ]
    return table("models_on_test", columns, runs)


def calibration(evidence: Evidence) -> Table:
    runs = evidence.model_runs

    def raw(kind: str, title: str) -> Column[str]:
        return Column(title, lambda n: num(runs[n].data.metrics[f"val_log_loss_{kind}"], 4))

    columns: list[Column[str]] = [
        Column("Model", lambda n: model_label(evidence, n)),
        raw("none", "Val. log loss, raw"),
        raw("platt", "Platt"),
        raw("isotonic", "Isotonic"),
        Column("Kept", lambda n: runs[n].data.params["calibration"]),
        Column("Test Brier score [95 % CI]", lambda n: on_test(runs[n], "brier", 4)),
        Column("Test ECE [95 % CI]", lambda n: on_test(runs[n], "ece", 4)),
    ]
    return table("calibration", columns, dict.fromkeys([BASELINE, evidence.champion]))


def rows_of(frame: pd.DataFrame) -> list[pd.Series]:
    """A table's rows, as the row source of its columns."""
    return [r for _, r in frame.iterrows()]


def segments(evidence: Evidence, actions: Mapping[str, str]) -> Table:
    columns: list[Column[pd.Series]] = [
        Column("Segment", lambda r: r["segment"]),
        Column("Test customers", lambda r: f"{r['customers']:.0f}"),
        Column("Share (%)", lambda r: pct(r["share"])),
        Column("Predicted churn (%)", lambda r: pct(r["predicted_churn_rate"])),
        Column("Actual churn (%)", lambda r: pct(r["actual_churn_rate"])),
        Column("Lift", lambda r: num(r["lift"], 2)),
        Column("Revenue at risk", lambda r: count(r["revenue_at_risk"])),
        Column("Action", lambda r: actions.get(r["segment"], "")),
    ]
    return table("segments", columns, rows_of(evidence.segment_tables["segments_test"]))


def churners_reached(evidence: Evidence) -> Table:
    """Churners a campaign of each size reaches, by the champion's ranking and the baseline's (one column when
    the champion is the baseline)."""
    reached = evidence.segment_summary.churners_reached_test
    one = evidence.champion == BASELINE
    columns: list[Column[str]] = [
        Column("Campaign reaches the", lambda k: f"riskiest {k.removeprefix('top_').removesuffix('pct')} %"),
        Column(
            "Churners reached: champion" + (" (the baseline)" if one else ""), lambda k: str(reached[k]["champion"])
        ),
        *([] if one else [Column("Baseline", lambda k: str(reached[k]["baseline"]))]),
    ]
    return table("churners_reached", columns, reached)


def importance(evidence: Evidence, top: int = 10) -> Table:
    columns: list[Column[pd.Series]] = [
        Column("Column", lambda r: r["column"]),
        Column("Mean abs. SHAP value", lambda r: num(r["shap_mean_abs"], 4)),
        Column("SHAP rank", lambda r: str(int(r["shap_rank"]))),
        Column("Permutation ROC-AUC drop", lambda r: num(r["permutation_auc_drop"], 4)),
        Column("Permutation rank", lambda r: str(int(r["permutation_rank"]))),
    ]
    return table("importance", columns, rows_of(evidence.segment_tables["importance"].head(top)))


def drivers(evidence: Evidence) -> Table:
    columns: list[Column[pd.Series]] = [
        Column("Segment", lambda r: r["segment"]),
        Column("First driver (mean SHAP)", lambda r: r["driver_1"]),
        Column("Second", lambda r: r["driver_2"]),
        Column("Third", lambda r: r["driver_3"]),
    ]
    return table("drivers", columns, rows_of(evidence.segment_tables["drivers_by_segment"]))


def personas(evidence: Evidence) -> Table:
    crossed = evidence.segment_tables["persona_by_segment"].set_index("persona")

    def in_segment(name: str) -> Column[pd.Series]:
        return Column(name, lambda r: f"{crossed.loc[r['persona'], name]:.0f}")

    columns: list[Column[pd.Series]] = [
        Column("Persona", lambda r: r["name"]),
        Column("Train customers", lambda r: f"{r['customers']:.0f}"),
        Column("Defining traits", lambda r: r["defining"]),
        *(in_segment(n) for n in crossed.columns),
    ]
    return table("personas", columns, rows_of(evidence.segment_tables["personas"]))


def errors(evidence: Evidence) -> Table:
    """Test customers, churners and each model's errors per attribute value (one model when the champion
    is the baseline: the same columns twice would compare it with itself)."""
    models = list(dict.fromkeys([BASELINE, evidence.champion]))
    title = {BASELINE: "Baseline" if len(models) == 2 else "Baseline (champion)", evidence.champion: "Champion"}
    counts = [("customers", "Test customers"), ("churners", "Churners")] + [
        (f"{m}_false_{kind}", f"{title[m]} {short}")
        for m in models
        for kind, short in (("negatives", "FN"), ("positives", "FP"))
    ]

    def counted(key: str, heading: str) -> Column[pd.Series]:
        return Column(heading, lambda r: f"{r[key]:.0f}")

    columns: list[Column[pd.Series]] = [
        Column("Attribute", lambda r: r["attribute"]),
        Column("Value", lambda r: r["value"]),
        *(counted(key, heading) for key, heading in counts),
    ]
    return table("errors", columns, rows_of(evidence.error_analysis))


def provenance(evidence: Evidence) -> Table:
    def tag(key: str, title: str) -> Column[tuple[str, ModelVersion]]:
        return Column(title, lambda r: r[1].tags[key])

    columns: list[Column[tuple[str, ModelVersion]]] = [
        Column("Alias", lambda r: r[0]),
        Column("Version", lambda r: str(r[1].version)),
        tag("candidate", "Model"),
        Column("Evaluate run", lambda r: str(r[1].run_id)),
        # versions registered before the tag existed
        Column("Reproduction", lambda r: r[1].tags.get("reproduction", NOT_RECORDED)),
        tag("git_commit", "Git commit"),
        tag("data_md5", "Data md5"),
    ]
    return table("provenance", columns, evidence.versions.items())


def selected_baseline_run(evidence: Evidence) -> Run:
    """The baseline seed that represents it (lowest validation loss, as for every candidate)."""
    seed = int(evidence.baseline_run.data.metrics["selected_seed"])
    return next(r for r in evidence.baseline_seed_runs if r.data.tags.get("seed") == str(seed))


def _mean_sd(metrics: Mapping[str, float], key: str) -> str:
    return f"{metrics[f'val_{key}_mean']:.4f} ± {metrics[f'val_{key}_std']:.4f}"


def _hyperparameters(params: Mapping[str, str], prefix: str) -> str:
    """``adam: beta_1=0.9, learning_rate=0.001``: the optimizer and its tuned values."""
    keys = sorted(k for k in params if k.startswith(f"{prefix}optimizer."))
    values = ", ".join(f"{k.removeprefix(prefix + 'optimizer.')}={_value(params[k])}" for k in keys)
    return f"{params[f'{prefix}optimizer']}: {values}"


def _value(text: str) -> str:
    """A parameter as stored by MLflow (a string), numbers to three significant digits."""
    try:
        value = float(text)
    except ValueError:
        return text
    return text if value.is_integer() and "." not in text and "e" not in text else f"{value:.3g}"


def _looks_numeric(cell: str) -> bool:
    head = str(cell).split(" ")[0].replace(",", "")
    try:
        float(head)
    except ValueError:
        return False
    return True


def campaign_rules(evidence: Evidence) -> Table:
    """Each targeting rule on test at the plan's size, with its interval, and its best size in hindsight."""
    rules = evidence.campaign_tables["rules_test"]
    scale = evidence.campaign_summary.base_scale
    if evidence.champion == BASELINE:  # the champion is the existing model: its ranking is the row above
        rules = rules[rules["rule"] != EXISTING_RULE]
    plan = rules["rule"].iloc[0]  # the first row is the plan itself: no lead over itself

    def lead(r: pd.Series) -> str:
        if r["rule"] == plan:
            return ""
        return f"{signed_count(r['plan_minus_rule'])} [{signed_count(r['plan_minus_rule_low'])}, " \
               f"{signed_count(r['plan_minus_rule_high'])}]"  # fmt: skip

    columns: list[Column[pd.Series]] = [
        Column("Targeting rule", lambda r: r["rule"]),
        Column("Test customers contacted", lambda r: f"{r['contacts']:.0f}"),
        Column("Realized net value on test [95 % CI]",
               lambda r: f"{count(r['net_value'])} [{count(r['low'])}, {count(r['high'])}]"),
        Column("The plan's lead over it [paired 95 % CI]", lead),
        Column(f"Scaled to the whole base (x {scale:.2f}, an assumption)", lambda r: count(r["net_value"] * scale)),
        Column("Best size in hindsight", lambda r: "" if pd.isna(r["best_contacts"]) else f"{r['best_contacts']:.0f}"),
        Column("Its net value", lambda r: "" if pd.isna(r["best_net_value"]) else count(r["best_net_value"])),
    ]  # fmt: skip
    return table("campaign_rules", columns, rows_of(rules))


def campaign_plan(evidence: Evidence) -> Table:
    columns: list[Column[pd.Series]] = [
        Column("Segment", lambda r: r["segment"]),
        Column("Test customers", lambda r: f"{r['customers']:.0f}"),
        Column("To contact", lambda r: f"{r['contacts']:.0f}"),
        Column("Contact share (%)", lambda r: pct(r["contact_share"])),
        Column("Expected net value of contacting them", lambda r: count(r["expected_net_value"])),
        Column("Mean expected value per customer", lambda r: f"{r['mean_expected_value']:,.1f}"),
    ]
    return table("campaign_plan", columns, rows_of(evidence.campaign_tables["plan_by_segment"]))


def campaign_sensitivity(evidence: Evidence) -> Table:
    """Rows: success rate; columns: contact cost; cells: the plan's realized value on test (share contacted)."""
    sensitivity = evidence.campaign_tables["sensitivity_test"]
    costs = sorted(sensitivity["contact_cost"].unique())
    rates = sorted(sensitivity["success_rate"].unique())
    by_rate = [(float(r), sensitivity[sensitivity["success_rate"] == r].set_index("contact_cost")) for r in rates]

    def at(cost: float) -> Column[tuple[float, pd.DataFrame]]:
        return Column(f"Contact cost {cost:g}", lambda r: f"{count(r[1].loc[cost, 'net_value'])} "
                      f"({pct(r[1].loc[cost, 'contact_share'])} %)")  # fmt: skip

    columns: list[Column[tuple[float, pd.DataFrame]]] = [
        Column("Success rate", lambda r: f"{pct(r[0], 0)} %"),
        *(at(c) for c in costs),
    ]
    return table("campaign_sensitivity", columns, by_rate)


# ---- the resampled comparison (the resample run's comparison.json and folds.csv) ---------------
EXISTING_RULE = "existing model's probability"  # the campaign stage's rule that ranks by the baseline


def updates(cost: float | None) -> str:
    return "n/a" if cost is None else f"{cost:,.0f}"


def resampled_order(summary: GateSummary) -> list[str]:
    """The baseline, then the networks best first in the gate's criterion, then the references."""
    sign = 1.0 if summary.gate.lower_is_better else -1.0

    def ranked(kind: str) -> list[str]:
        names = [n for n, m in summary.models.items() if m.kind == kind and n != BASELINE]
        return sorted(names, key=lambda n: (sign * summary.mean(n), n))

    return [BASELINE, *ranked("ann"), *ranked("reference")]


def verdict(summary: GateSummary, name: str) -> str:
    """What the comparison with the baseline says of a model, by the gate's rules: significantly
    better (the gate's p below alpha, improving), else practically equivalent, worse or undecided by
    the posterior probabilities (at the gate's equivalence probability)."""
    g, model, versus = summary.gate, summary.models[name], summary.versus(name)
    posterior = model.posterior
    assert posterior is not None, f"{name} has no posterior: it is the baseline"
    sign = 1.0 if g.lower_is_better else -1.0
    if sign * versus.mean < 0 and versus.gate_p < g.alpha:
        found = "significantly better"
    elif posterior.equivalent >= g.equivalence_probability:
        found = "practically equivalent"
        if model.kind == "ann":
            cheap = name in summary.equivalent_and_cheaper
            found += ", materially cheaper" if cheap else ", not materially cheaper"
    elif posterior.worse >= g.equivalence_probability:
        found = "worse"
    else:
        found = "undecided"
    return found + (" (champion)" if name == summary.champion else "")


def difference(c: Versus | Comparison) -> str:
    """A resampled difference with its interval: ``+0.0012 [-0.0003, +0.0027]``."""
    return signed_interval(c.mean, c.low, c.high)


def resampled(evidence: Evidence) -> Table:
    """Every model on the resampling folds: its mean metrics, the campaign value it realized on the
    held-out customers, and its training cost."""
    models = evidence.resampled.models

    def mean(metric: str) -> Column[str]:
        return Column(label(metric), lambda n: num(models[n].mean[metric], 4))

    columns: list[Column[str]] = [
        Column("Model", lambda n: model_label(evidence, n)),
        Column("Kind", lambda n: "network" if models[n].kind == "ann" else "reference"),
        *(mean(m) for m in RESAMPLED),
        Column("Campaign value per 1,000 customers", lambda n: f"{1000 * models[n].value:,.0f}"),
        Column("Cost (parameter updates)", lambda n: updates(models[n].cost)),
    ]
    return table("resampled", columns, resampled_order(evidence.resampled))


def resampled_verdicts(evidence: Evidence) -> Table:
    """Each model against the baseline in the gate's criterion: the corrected t interval, the p it is
    judged by, the design's detectable difference, the posterior probabilities, its cost and verdict."""
    r = evidence.resampled
    models, detectable, base_cost = r.models, r.detectable.per_model, r.models[BASELINE].cost

    def share(n: str) -> str:
        cost = models[n].cost
        return "n/a" if cost is None or base_cost is None else f"{cost / base_cost:.0%}"

    def posterior(which: str) -> Column[str]:
        return Column(f"P({which})", lambda n: f"{getattr(models[n].posterior, which):.3f}")

    columns = [
        Column("Model", lambda n: model_label(evidence, n)),
        Column(f"{label(r.criterion)} minus baseline [95 % CI]", lambda n: difference(r.versus(n))),
        Column("p (networks: one-sided, Holm; references: two-sided)", lambda n: p_value(r.versus(n).gate_p)),
        Column("Minimal detectable difference", lambda n: num(detectable[n], 4) if n in detectable else "n/a"),
        posterior("better"),
        posterior("equivalent"),
        posterior("worse"),
        Column("Cost, share of baseline's", share),
        Column("Verdict", lambda n: verdict(r, n)),
    ]  # fmt: skip
    return table("resampled_verdicts", columns, resampled_order(r)[1:])


ROUTES = {"better": "significantly better", "equivalent_and_cheaper": "practically equivalent and cheaper",
          "none": "the baseline stays"}  # fmt: skip


def gate(evidence: Evidence) -> Table:
    """The gate's rule and its outcome, as the resample run recorded it."""
    r = evidence.resampled
    design, rule, mdd, money = r.design, r.gate, r.detectable, r.rope_in_money
    rows = [
        ("Criterion", f"{label(rule.criterion)}, mean over the held-out folds"
         f" ({'lower' if rule.lower_is_better else 'higher'} is better)"),
        ("Resampling", f"{design.repeats} repeats x {design.folds} folds, {design.seeds_per_fold} seeds per "
         "fold and network (the served ensemble)"),
        ("Rows per fold: training, held out", f"{design.training_rows:,.0f}, {design.held_rows:,.0f}"),
        ("Route 1: significantly better", f"one-sided corrected t-test, Holm over the {mdd.tests} challengers "
         f"that can be champion, alpha = {rule.alpha:g}"),
        ("Route 2: practically equivalent and cheaper", f"P(|difference| < {rule.rope:g}) >= "
         f"{rule.equivalence_probability:g} and cost <= {rule.cheaper:.0%} of the baseline's"),
        (f"Minimal detectable difference ({rule.power:.0%} power), median over challengers", num(mdd.median, 4)),
        ("The ROPE in campaign value, per 1,000 customers", f"{money.per_1000:,.0f} (the baseline's campaign: "
         f"{money.baseline_per_1000:,.0f})"),
        ("Networks significantly better than the baseline", ", ".join(r.qualified) or "none"),
        ("Of those, not significantly worse than the best", ", ".join(r.tied_with_best) or "none"),
        ("Practically equivalent and materially cheaper", ", ".join(r.equivalent_and_cheaper) or "none"),
        ("Champion", f"{r.champion} ({ROUTES[r.route]})"),
    ]  # fmt: skip
    columns: list[Column[tuple[str, str]]] = [Column("Gate", lambda r: r[0]), Column("Value", lambda r: r[1])]
    return table("gate", columns, rows)


def resampled_difference(evidence: Evidence, model: str, other: str, metric: str) -> Comparison:
    """``model`` minus ``other`` over the resampling folds, by the corrected resampled t-test
    (unadjusted: a comparison outside the gate's Holm family)."""
    folds = evidence.folds.pivot(index="index", columns="model", values=metric)
    design = evidence.resampled.design
    return corrected_t_test(
        (folds[model] - folds[other]).to_numpy(),
        int(design.training_rows),
        int(design.held_rows),
        design.confidence,
    )


def counterpart(evidence: Evidence, recipe: str) -> str | None:
    """The tuned study a recipe is measured against: the full search if the recipe changes the
    baseline's architecture, else the comparison study of its own optimizer (None if there is none)."""
    params, base = evidence.recipes[recipe].run.data.params, evidence.baseline_run.data.params
    if any(params.get(k) != v for k, v in base.items() if k.startswith("model.")):
        return "search" if "search" in evidence.studies else None
    name = params["optimizer"]
    return name if name in evidence.studies else None


def recipes(evidence: Evidence) -> Table:
    """What each of the briefs' recipes is, and how it did on validation over the seeds."""

    def param(key: str, title: str, shown: Callable[[str], str] = str) -> Column[Study]:
        return Column(title, lambda s: shown(s.run.data.params[key]))

    columns: list[Column[Study]] = [
        Column("Recipe", lambda s: s.label),
        param("model.hidden_units", "Hidden units"),
        param("model.dropout", "Dropout"),
        param("model.batch_norm", "Batch normalization"),
        Column("Optimizer", lambda s: _hyperparameters(s.run.data.params, "")),
        param("training.batch_size", "Batch size"),
        param("training.early_stopping_patience", "Early stopping patience", _value),
        Column("Val. log loss, mean ± sd over seeds", lambda s: _mean_sd(s.run.data.metrics, "log_loss")),
        Column("Best epoch (mean)", lambda s: num(s.run.data.metrics["val_best_epoch_mean"], 1)),
    ]
    return table("recipes", columns, evidence.recipes.values())


def recipes_vs_tuned(evidence: Evidence) -> Table:
    """Each recipe on the resampling folds, against the baseline and against its tuned counterpart."""
    r, shown = evidence.resampled, label(evidence.resampled.criterion).lower()
    other = {name: counterpart(evidence, name) for name in evidence.recipes}

    def added(name: str) -> str:
        tuned = other[name]
        return "n/a" if tuned is None else difference(resampled_difference(evidence, tuned, name, r.criterion))

    columns: list[Column[str]] = [
        Column("Recipe", str),
        Column(f"Resampled {shown}", lambda n: num(r.mean(n), 4)),
        Column("Minus baseline [95 % CI]", lambda n: difference(r.versus(n))),
        Column("p (one-sided, Holm)", lambda n: p_value(r.versus(n).p_holm)),
        Column("Tuned counterpart", lambda n: other[n] or "none"),
        Column(f"Its resampled {shown}", lambda n: "n/a" if (o := other[n]) is None else num(r.mean(o), 4)),
        Column("Tuned minus recipe [95 % CI, unadjusted]", added),
    ]
    return table("recipes_vs_tuned", columns, evidence.recipes)


def confirmation(evidence: Evidence) -> Table:
    """Each model's difference from the baseline in the gate's criterion: resampled development
    data (which decided) against the test split (which confirms)."""
    r, shown = evidence.resampled, label(evidence.resampled.criterion).lower()

    def on_test(name: str) -> str:
        run = evidence.model_runs.get(name)
        return "not scored on test" if run is None else paired_difference(run, r.criterion)

    columns: list[Column[str]] = [
        Column("Model", lambda n: model_label(evidence, n)),
        Column(f"Resampled: {shown} minus baseline [95 % CI]", lambda n: difference(r.versus(n))),
        Column("p (networks: one-sided, Holm; references: two-sided)", lambda n: p_value(r.versus(n).gate_p)),
        Column(f"Test: {shown} minus baseline [paired bootstrap 95 % CI]", on_test),
    ]
    return table("confirmation", columns, resampled_order(r)[1:])


EnsembleRow = tuple[str, str, SeedEnsemble]  # model, metric, its ensemble_vs_single.json values


def ensemble(evidence: Evidence) -> Table:
    """Single seed models against their average, on test, raw probabilities (the evaluate run's
    ensemble_vs_single.json)."""
    columns: list[Column[EnsembleRow]] = [
        Column("Model", lambda r: model_label(evidence, r[0])),
        Column("Test metric (raw probabilities)", lambda r: label(r[1])),
        Column("Single model, mean ± sd over seeds", lambda r: f"{r[2]['single_mean']:.4f} ± {r[2]['single_std']:.4f}"),
        Column("Seed ensemble", lambda r: num(r[2]["ensemble"], 4)),
        Column("Ensemble minus single [paired bootstrap 95 % CI]",
               lambda r: signed_interval(r[2]["diff"], r[2]["low"], r[2]["high"])),
    ]  # fmt: skip
    rows: list[EnsembleRow] = [
        (name, m, v) for name, by_metric in evidence.ensemble_vs_single.items() for m, v in by_metric.items()
    ]
    return table("ensemble", columns, rows)
