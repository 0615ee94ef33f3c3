"""A synthetic project with tiny budgets, for running the stages as DVC would."""

from __future__ import annotations

from pathlib import Path

import yaml

SMALL_BUDGETS = {
    "baseline": {"seeds": [0, 1], "candidate": {"training": {"epochs": 8}}},
    "optimize": {
        "epochs": 6,
        "early_stopping_patience": 3,
        "sampler_startup_trials": 2,
        "pruner": {"startup_trials": 1, "warmup_epochs": 1},
        "workers": 1,
        "heartbeat_seconds": 1,
        "comparison": {"optimizers": ["sgd", "adam"], "trials_per_optimizer": 3},
        "search": {"trials": 3, "units": [4, 16], "batch_sizes": [32, 64]},
    },
}


def deep_update(base: dict, changes: dict) -> dict:
    merged = dict(base)
    for key, value in changes.items():
        merged[key] = deep_update(base.get(key, {}), value) if isinstance(value, dict) else value
    return merged


def set_params(root: Path, changes: dict) -> None:
    path = root / "params.yaml"
    path.write_text(yaml.safe_dump(deep_update(yaml.safe_load(path.read_text()), changes), sort_keys=False))
