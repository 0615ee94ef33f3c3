"""Benchmark: packed training against one network at a time and against ``model.fit``.

The baseline network (params.yaml `baseline`: one hidden layer of 16 ReLU units, SGD at
0.01), 5 seeds, 100 epochs at batch 32, on the real training split, validation every
epoch, in one run and one process (so the ratios compare like with like):
1. ``model.fit`` for each seed;
2. the engine one network at a time (a pack of one per seed, as Optuna trials train);
3. one packed call training the 5 seeds together.
Prints wall time including compilation, the final training loss of each, the largest
difference of a seed's validation loss between 2 and 3, and the two speed-ups.

Run after `dvc repro prepare`:  python benchmarks/training_engine.py
"""

from __future__ import annotations

import os
import platform
import time

import keras
import numpy as np

from pipeline import numerics
from pipeline.config import Params
from pipeline.model.architecture import build_model
from pipeline.training.job import load_training_data, train, train_pack

SEEDS = [0, 1, 2, 3, 4]


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
    print(f"model.fit, one seed at a time   {fit_seconds:7.2f} s   mean final loss {np.mean(fit_losses):.4f}")
    print(
        f"engine, one seed at a time      {single_seconds:7.2f} s   mean final loss "
        f"{np.mean([s.history.train_loss[-1] for s in single]):.4f}"
    )
    print(
        f"engine, 5 seeds packed          {packed_seconds:7.2f} s   mean final loss "
        f"{np.mean([p.history.train_loss[-1] for p in packed]):.4f}"
    )
    print(f"largest validation log-loss difference, packed vs one at a time: {gap:.2e}")
    print(f"packed speed-up vs one-at-a-time engine: {single_seconds / packed_seconds:.1f}x")
    print(f"packed speed-up vs model.fit: {fit_seconds / packed_seconds:.1f}x")


if __name__ == "__main__":
    main()
