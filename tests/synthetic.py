"""Synthetic customers that satisfy a data contract, with a churn signal we control.

Generated from the schema alone, so the tests exercise the contract-driven code
rather than anything specific to the Telco columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.data.schema import DataSchema


def make_customers(schema: DataSchema, n: int = 600, seed: int = 0, signal: float = 3.0) -> pd.DataFrame:
    """Raw-looking records (text cells as in the CSV) whose churn odds rise with a hidden score."""
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {schema.id_column: np.array([f"C{i:06d}" for i in range(n)])}
    score = np.zeros(n)
    for name, spec in schema.numeric.items():
        low = spec.min if spec.min is not None else 0.0
        high = spec.max if spec.max is not None else low + 100.0
        values = rng.uniform(low, min(high, low + 100.0), n)
        if spec.integer:
            values = np.round(values)
        columns[name] = values
        score += rng.normal() * (values - values.mean()) / (values.std() + 1e-9)
    for name, levels in schema.categorical.items():
        picks = rng.integers(0, len(levels), n)
        columns[name] = np.asarray(levels, dtype=object)[picks]
        score += rng.normal(size=len(levels))[picks]
    score = signal * (score - score.mean()) / score.std()
    churn = rng.random(n) < 1 / (1 + np.exp(-(score - 2.0)))  # about 30 % churners, like the real data
    frame = pd.DataFrame(columns)
    for name, spec in schema.numeric.items():  # cells as a CSV would hold them
        frame[name] = [f"{v:g}" for v in frame[name]]
        cond = spec.blank_allowed_when
        if cond is not None:
            zero = frame[cond.column].astype(float) == cond.equals
            frame.loc[zero, name] = " "
    frame[schema.target.column] = np.where(churn, schema.target.positive, schema.target.negative)
    return frame[schema.columns]


def write_csv(frame: pd.DataFrame, path, line_terminator: str = "\n") -> None:
    frame.to_csv(path, index=False, lineterminator=line_terminator)
