"""Trained configurations on disk: ``<dir>/seed-<k>.keras`` plus ``candidate.json``.

``candidate.json`` holds the configuration, the decision threshold, each seed's validation
metrics and the selected seed, so ``evaluate`` can load and compare models without MLflow.
Nothing in it depends on where or when it was trained (the MLflow run ids are kept in
``paths.runs``), so equal models give equal files and DVC hashes on every machine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import keras

from pipeline.io import read_json, write_json
from pipeline.model.config import Candidate
from pipeline.training.seeds import SeedResults

CARD = "candidate.json"


@dataclass(frozen=True)
class StoredCandidate:
    name: str
    directory: Path
    candidate: Candidate
    threshold: float
    selected_seed: int
    summary: dict[str, float]
    seeds: dict[int, dict[str, float]]

    @property
    def model_path(self) -> Path:
        return self.directory / f"seed-{self.selected_seed}.keras"

    def load_model(self) -> keras.Model:
        return keras.saving.load_model(self.model_path, compile=False)

    @property
    def model_paths(self) -> list[Path]:
        """Every seed's model, in the order of ``seeds``: the ensemble that is served."""
        return [self.directory / f"seed-{seed}.keras" for seed in self.seeds]

    def load_models(self) -> list[keras.Model]:
        return [keras.saving.load_model(path, compile=False) for path in self.model_paths]


def save(directory: Path, results: SeedResults, extra: Mapping[str, object] | None = None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for run in results.runs:
        run.save(directory / f"seed-{run.seed}.keras")
    write_json(
        directory / CARD,
        {
            "name": results.name,
            "candidate": results.candidate.model_dump(),
            "threshold": results.threshold,
            "selected_seed": results.selected.seed,
            "summary": results.summary(),
            "seeds": {str(r.seed): r.val_metrics for r in results.runs},
            **(extra or {}),
        },
    )


def load(directory: Path) -> StoredCandidate:
    card = read_json(directory / CARD)
    return StoredCandidate(
        name=card["name"],
        directory=directory,
        candidate=Candidate.model_validate(card["candidate"]),
        threshold=float(card["threshold"]),
        selected_seed=int(card["selected_seed"]),
        summary=card["summary"],
        seeds={int(k): v for k, v in card["seeds"].items()},
    )


def load_all(models: Path, groups: tuple[str, ...]) -> list[StoredCandidate]:
    """The stored candidates under ``models``: a group is one candidate's directory (``baseline``)
    or a directory of them (``recipes``, ``candidates``); missing groups are skipped."""
    found = []
    for group in groups:
        directory = models / group
        if (directory / CARD).exists():
            found.append(load(directory))
        elif directory.is_dir():
            found += [load(d) for d in sorted(directory.iterdir()) if (d / CARD).exists()]
    return found
