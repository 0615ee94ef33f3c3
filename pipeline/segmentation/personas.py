"""Behavioural personas: who the customers are, from the services and contract they chose.

K-means on the one-hot encoded attributes, with k chosen by silhouette. The centres are
plain numbers (shares of each attribute value), saved as JSON; a customer's persona is
the nearest centre, so scoring needs no fitted scikit-learn object.
"""

from __future__ import annotations

import json
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
        """Each persona's size and the attribute values most over-represented in it."""
        x, labels = self.encode(frame), self.assign(frame)
        overall = x.mean(axis=0)
        names = self.feature_names
        rows = []
        for persona in range(1, self.k + 1):
            share = x[labels == persona].mean(axis=0)
            over = share - overall
            defining = [f"{names[j]} ({share[j]:.0%} vs {overall[j]:.0%})" for j in np.argsort(-over)[:top]]
            rows.append(
                {"persona": persona, "customers": int((labels == persona).sum()), "defining": "; ".join(defining)}
            )
        return pd.DataFrame(rows)

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
