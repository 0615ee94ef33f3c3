"""Benchmark: the fast training engine against ``model.fit`` on the baseline network.

The baseline network (params.yaml `baseline`), 100 epochs at batch 32, on the real
training split, same initial weights (same seed) for both. Prints wall time including
compilation, the speed-up, and the final training loss of each (the last epoch's
running loss, and the loss of the trained model on the whole training split).

Run after `dvc repro prepare`:  python benchmarks/training_engine.py
"""

from __future__ import annotations

import os
import platform
import time

import keras

from pipeline.config import Params
from pipeline.evaluation.metrics import log_loss
from pipeline.model.architecture import build_model
from pipeline.training.engine import Trainer
from pipeline.training.job import load_training_data


def main() -> None:
    params = Params.load()
    candidate = params.baseline.candidate
    data = load_training_data(params.paths)
    x, y = data.train.x, data.train.y
    validation = (data.validation.x, data.validation.y)
    epochs, batch = candidate.training.epochs, candidate.training.batch_size
    seed = params.baseline.seeds[0]

    model = build_model(x.shape[1], candidate.model, seed)
    model.compile(optimizer=candidate.optimizer.build(), loss="binary_crossentropy")
    started = time.perf_counter()
    fit = model.fit(x, y, batch_size=batch, epochs=epochs, validation_data=validation, verbose=0)
    fit_seconds = time.perf_counter() - started
    fit_last = fit.history["loss"][-1]
    fit_full = log_loss(y, model.predict(x, verbose=0)[:, 0])

    model = build_model(x.shape[1], candidate.model, seed)
    trainer = Trainer(model, candidate.optimizer.build())
    started = time.perf_counter()
    history = trainer.fit(x, y, validation, epochs=epochs, batch_size=batch, seed=seed)
    engine_seconds = time.perf_counter() - started
    engine_last = history.train_loss[-1]
    engine_full = log_loss(y, trainer.predict(x))

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, keras {keras.__version__}"
    )
    print(
        f"network: {candidate.model.hidden_units} {candidate.model.activation}, {candidate.optimizer.name}, "
        f"{epochs} epochs, batch {batch}, {len(x)} rows x {x.shape[1]} inputs, validation every epoch"
    )
    print(f"model.fit      {fit_seconds:7.2f} s   last-epoch loss {fit_last:.4f}   trained-model loss {fit_full:.4f}")
    print(
        f"engine (XLA={trainer.jit_compile}) {engine_seconds:5.2f} s   last-epoch loss {engine_last:.4f}   "
        f"trained-model loss {engine_full:.4f}"
    )
    print(f"speed-up       {fit_seconds / engine_seconds:7.1f}x")
    print(
        f"loss difference: last epoch {abs(engine_last - fit_last) / fit_last:.2%}, "
        f"trained model {abs(engine_full - fit_full) / fit_full:.2%}"
    )


if __name__ == "__main__":
    main()
