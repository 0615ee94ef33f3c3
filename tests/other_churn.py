"""A churn dataset shaped unlike teleconnect.csv, for following docs/ADAPT.md in tests.

Other column names; a yes/no target with about 15 % churners; numeric usage columns; a state-like
categorical with 50 levels; no identifier column; a yearly value column; blanks in one categorical;
a 0/1-like flag written true/false; a sign-up date. Cells are text, as a CSV holds them.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from pipeline.data.schema import DataSchema

STATES = [f"S{i:02d}" for i in range(50)]
TIERS = ["basic", "plus", "premium"]

# What docs/ADAPT.md tells its reader to set for such a file (beside paths.raw_data), by dotted path;
# segment.value_cut stays the default, the training split's median.
PARAMS = {
    "segment.value_column": "annual_fee",
    "segment.value_unit": "year",
    "segment.persona_columns": ["plan_tier", "intl_plan", "state"],
    "evaluate.error_analysis.columns": ["plan_tier", "intl_plan"],
    "evaluate.error_analysis.bands": {"account_weeks": [0, 52, 104, 260]},
    "report.company": "Northwind Mobile",
    "report.persona_columns_text": None,
    "report.unseen_data": None,
    "tracking.experiment": "northwind-churn-ann",
    "tracking.registered_model": "northwind-churn-ann",
}


def project_words(schema: DataSchema) -> list[str]:
    """What gives the project's own data away in a text about another dataset: ``schema``'s column names
    (the target's, "Churn", is also the study's subject, so it is left out), its value column in words,
    its file and its company (also as in the MLflow names)."""
    columns = [c for c in (schema.id_column, *schema.feature_columns) if c is not None]
    return [*columns, "monthly charges", "teleconnect", "Otomoto", "otomoto"]


def words_in(text: str, words: list[str]) -> list[str]:
    """The ``words`` that ``text`` holds as whole words (case as given)."""
    return [w for w in words if re.search(rf"\b{re.escape(w)}\b", text)]


def set_dotted(params_file: Path, changes: dict[str, object]) -> None:
    """Replace each value at its dotted path (what ``dvc exp run -S path=value`` does)."""
    params = yaml.safe_load(params_file.read_text())
    for path, value in changes.items():
        *parents, key = path.split(".")
        section = params
        for name in parents:
            section = section[name]
        section[key] = value
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))


def make_other_customers(n: int = 800, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    weeks = rng.integers(1, 240, n)
    day = rng.gamma(6.0, 30.0, n)
    evening = rng.gamma(5.0, 35.0, n)
    calls = rng.poisson(1.5, n).clip(0, 9)
    intl = rng.random(n) < 0.1
    app = rng.random(n) < 0.6
    tier = rng.choice(TIERS, n, p=[0.5, 0.3, 0.2]).astype(object)
    fee = 120.0 * (1 + np.array([TIERS.index(t) for t in tier])) + rng.normal(0, 40, n).round(2)
    state = rng.choice(STATES, n, p=np.linspace(2, 1, len(STATES)) / np.linspace(2, 1, len(STATES)).sum())
    signup = pd.Timestamp("2024-06-30") - pd.to_timedelta(weeks * 7, unit="D")
    score = 0.012 * (day - day.mean()) + 0.7 * calls + 1.4 * intl - 0.006 * weeks - 0.5 * app
    churned = rng.random(n) < 1 / (1 + np.exp(-(score - np.quantile(score, 0.9)) * 1.5))
    tier[rng.random(n) < 0.06] = ""  # blanks in one categorical
    return pd.DataFrame(
        {
            "state": state,
            "account_weeks": weeks.astype(str),
            "signup_date": signup.strftime("%Y-%m-%d"),
            "day_minutes": [f"{v:.1f}" for v in day],
            "evening_minutes": [f"{v:.1f}" for v in evening],
            "support_calls": calls.astype(str),
            "intl_plan": np.where(intl, "yes", "no"),
            "has_app": np.where(app, "true", "false"),
            "plan_tier": tier,
            "annual_fee": [f"{v:.2f}" for v in fee.clip(1)],
            "churned": np.where(churned, "yes", "no"),
        }
    )
