"""Benchmark: packed training against one network at a time and against ``model.fit``.

The baseline network (params.yaml `baseline`: one hidden layer of 16 ReLU units, SGD at
0.01), 5 seeds, 100 epochs at batch 32, on the real training split, validation every
epoch, in one run and one process (so the ratios compare like with like):
1. ``model.fit`` for each seed;
2. the engine before packing (``pipeline/training/engine.py`` at commit 2b5ceb5, read from
   git, so the comparison is with the code this change replaced), once per seed;
3. this engine one network at a time (a pack of one per seed, as Optuna trials train);
4. one packed call training the 5 seeds together.
Wall times include building and compiling. Prints each, the largest difference of a seed's
validation loss between 3 and 4, and ends with the two speed-ups of 4 against 2 and 1.

Run after `dvc repro prepare`:  python benchmarks/training_engine.py
"""

from __future__ import annotations

import pipeline  # noqa: F401  # isort: skip  (first: it pins the numerics before NumPy and TensorFlow load)
import os
import platform
import subprocess
import sys
import time
import types
from pathlib import Path

import keras
import numpy as np

from pipeline import numerics
from pipeline.config import Params
from pipeline.model.architecture import build_model
from pipeline.training.job import load_training_data, train, train_pack

SEEDS = [0, 1, 2, 3, 4]
PREVIOUS_ENGINE = "2b5ceb5"  # the last commit before packed training


def previous_engine() -> types.ModuleType:
    """The one-model engine this change replaced, loaded from git (not kept in the tree)."""
    root = Path(__file__).resolve().parents[1]
    source = subprocess.run(
        ["git", "show", f"{PREVIOUS_ENGINE}:pipeline/training/engine.py"], cwd=root, capture_output=True, text=True,
        check=True,
    ).stdout  # fmt: skip
    module = types.ModuleType("previous_engine")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{PREVIOUS_ENGINE}:pipeline/training/engine.py", "exec"), module.__dict__)
    return module


def main() -> None:
    params = Params.load()
    candidate = params.baseline.candidate.model_copy(
        update={"training": params.baseline.candidate.training.model_copy(update={"epochs": 100, "batch_size": 32})}
    )
    data = load_training_data(params.paths)
    x, y = data.train.x, data.train.y
    validation = (data.validation.x, data.validation.y)
    epochs, batch = candidate.training.epochs, candidate.training.batch_size

    started = time.perf_counter()
    fit_losses = []
    for seed in SEEDS:
        model = build_model(x.shape[1], candidate.model, seed)
        model.compile(optimizer=candidate.optimizer.build(), loss="binary_crossentropy")
        fit = model.fit(x, y, batch_size=batch, epochs=epochs, validation_data=validation, verbose=0)
        fit_losses.append(fit.history["loss"][-1])
    fit_seconds = time.perf_counter() - started

    engine = previous_engine()
    started = time.perf_counter()
    previous_losses = []
    for seed in SEEDS:
        trainer = engine.Trainer(build_model(x.shape[1], candidate.model, seed), candidate.optimizer.build())
        history = trainer.fit(x, y, validation, epochs=epochs, batch_size=batch, seed=seed)
        previous_losses.append(history.train_loss[-1])
    previous_seconds = time.perf_counter() - started

    started = time.perf_counter()
    single = [train(candidate, data, seed) for seed in SEEDS]
    single_seconds = time.perf_counter() - started

    started = time.perf_counter()
    packed = train_pack(candidate, data, SEEDS)
    packed_seconds = time.perf_counter() - started

    gap = max(abs(s.val_metrics["log_loss"] - p.val_metrics["log_loss"]) for s, p in zip(single, packed, strict=True))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"keras {keras.__version__}, pinned: {numerics.is_pinned()} (ISA {numerics.ISA}, {numerics.THREADS} thread)"
    )
    print(
        f"network: {candidate.model.hidden_units} {candidate.model.activation}, {candidate.optimizer.name}, "
        f"{len(SEEDS)} seeds x {epochs} epochs, batch {batch}, {len(x)} rows x {x.shape[1]} inputs, "
        "validation every epoch"
    )
    rows = [
        ("model.fit, one seed at a time", fit_seconds, np.mean(fit_losses)),
        (f"engine before packing ({PREVIOUS_ENGINE}), one seed at a time", previous_seconds, np.mean(previous_losses)),
        ("this engine, packs of one", single_seconds, np.mean([s.history.train_loss[-1] for s in single])),
        ("this engine, 5 seeds packed", packed_seconds, np.mean([p.history.train_loss[-1] for p in packed])),
    ]
    for label, seconds, loss in rows:
        print(f"{label:<52} {seconds:7.2f} s   mean final training loss {loss:.4f}")
    print(f"largest validation log-loss difference, packed vs packs of one: {gap:.2e}")
    print(f"packed speed-up vs this engine with packs of one: {single_seconds / packed_seconds:.1f}x")
    print(f"packed speed-up vs one-at-a-time engine: {previous_seconds / packed_seconds:.1f}x")
    print(f"packed speed-up vs model.fit: {fit_seconds / packed_seconds:.1f}x")


if __name__ == "__main__":
    main()
