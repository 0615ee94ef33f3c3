"""Behavioural personas: who the customers are, from the services and contract they chose.

K-means on the one-hot encoded attributes, with k chosen by silhouette. The centres are
plain numbers (shares of each attribute value), saved as JSON; a customer's persona is
the nearest centre, so scoring needs no fitted scikit-learn object. Each persona is named
after its most over-represented attribute values, in words generated from the contract's
column and value names (so a new column or value needs no wording).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score


@dataclass(frozen=True)
class Personas:
    columns: dict[str, list[str]]  # attribute -> its values, in encoding order
    centres: np.ndarray  # [k, encoded attributes]: share of each value per persona
    silhouettes: dict[int, float]  # k tried -> silhouette

    @property
    def k(self) -> int:
        return len(self.centres)

    @property
    def silhouette(self) -> float:
        """The silhouette of the chosen k: how distinct the personas are (1 = perfectly separated)."""
        return self.silhouettes[self.k]

    @property
    def feature_names(self) -> list[str]:
        return [f"{col}={value}" for col, values in self.columns.items() for value in values]

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        blocks = [
            np.asarray(frame[c], dtype=object)[:, None] == np.asarray(v, dtype=object) for c, v in self.columns.items()
        ]
        return np.hstack(blocks).astype("float64")

    def assign(self, frame: pd.DataFrame) -> np.ndarray:
        x = self.encode(frame)
        distances = ((x[:, None, :] - self.centres[None, :, :]) ** 2).sum(axis=2)
        return distances.argmin(axis=1) + 1  # personas are numbered from 1

    def describe(self, frame: pd.DataFrame, top: int = 3) -> pd.DataFrame:
        """Each persona's name, size and the attribute values most over-represented in it."""
        x, labels = self.encode(frame), self.assign(frame)
        overall = x.mean(axis=0)
        shares = np.array([x[labels == persona].mean(axis=0) for persona in range(1, self.k + 1)])
        order = np.argsort(overall - shares, axis=1, kind="stable")  # most over-represented first; ties by column
        features = self.feature_names
        phrases = [phrase(column, value) for column, values in self.columns.items() for value in values]
        names = unique_names([[phrases[j] for j in row if shares[i, j] > overall[j]] for i, row in enumerate(order)])
        return pd.DataFrame(
            {
                "persona": range(1, self.k + 1),
                "name": names,
                "customers": [int((labels == persona).sum()) for persona in range(1, self.k + 1)],
                "defining": [
                    "; ".join(f"{features[j]} ({share[j]:.0%} vs {overall[j]:.0%})" for j in row[:top])
                    for share, row in zip(shares, order, strict=True)
                ],
            }
        )

    def to_json(self) -> str:
        payload = {"columns": self.columns, "centres": self.centres.tolist(),
                   "silhouettes": {str(k): v for k, v in self.silhouettes.items()}}  # fmt: skip
        return json.dumps(payload, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Personas:
        payload = json.loads(text)
        silhouettes = {int(k): float(v) for k, v in payload["silhouettes"].items()}
        return cls(payload["columns"], np.asarray(payload["centres"], dtype="float64"), silhouettes)


def fit(frame: pd.DataFrame, columns: dict[str, list[str]], k_range: tuple[int, int], seed: int) -> Personas:
    """Fit k-means for each k in the range; keep the k with the highest silhouette."""
    probe = Personas(columns, np.zeros((1, sum(len(v) for v in columns.values()))), {})
    x = probe.encode(frame)
    best_k, best_centres, silhouettes = 0, np.empty(0), {}
    for k in range(k_range[0], k_range[1] + 1):
        model = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(x)
        sample = min(len(x), 3000)
        silhouettes[k] = float(silhouette_score(x, model.labels_, sample_size=sample, random_state=seed))
        if silhouettes[k] == max(silhouettes.values()):
            best_k, best_centres = k, model.cluster_centers_
    assert best_k, "empty k range"
    return Personas(columns, best_centres, silhouettes)


def by_segment(persona: pd.Series, segment: pd.Series) -> pd.DataFrame:
    """Customers per persona (rows) and segment (columns): how the behavioural and the risk x value
    views of the base overlap, so a campaign can speak to a segment in its personas' terms."""
    return pd.crosstab(persona, segment).reset_index()


def phrase(column: str, value: str) -> str:
    """An attribute value in plain words: TechSupport=Yes "tech support", TechSupport=No "no tech support",
    OnlineBackup=No internet service "no internet service", Contract=Two year "two year contract"."""
    words = column_words(column)
    if value == "Yes":
        return " ".join(words)
    if value == "No":
        return " ".join(["no", *words])
    if value.startswith("No "):  # "No phone service": already a phrase
        return _plain(value)
    value = re.sub(r"\s*\(.*?\)", "", value)  # asides such as "(automatic)" dropped
    return f"{_plain(value)} {words[0]}"


def column_words(column: str) -> list[str]:
    """A column's name as lower-case words (acronyms kept): MonthlyCharges ["monthly", "charges"],
    annual_fee ["annual", "fee"], StreamingTV ["streaming", "TV"]."""
    return [_plain(w) for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", column)]


def _plain(text: str) -> str:
    """Lower case, except for acronyms (DSL, TV)."""
    return " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in text.split())


def unique_names(phrases: Sequence[Sequence[str]], length: int = 2) -> list[str]:
    """Each persona's first ``length`` distinct phrases; personas that would share a name take more phrases
    until they differ, and, if they run out, their number."""
    distinct = [list(dict.fromkeys(p)) for p in phrases]
    counts = [length] * len(distinct)
    while True:
        names = [", ".join(p[:n]) for p, n in zip(distinct, counts, strict=True)]
        clashing = [i for i, name in enumerate(names) if names.count(name) > 1]
        growing = [i for i in clashing if counts[i] < len(distinct[i])]
        if not growing:
            return [f"{name} ({i + 1})" if i in clashing else name for i, name in enumerate(names)]
        for i in growing:
            counts[i] += 1
