"""How wide the resampled comparison's intervals are under other designs: folds, repeats and seeds per fold.

Trains the stored networks (``models/``, after ``dvc repro optimize recipes``) on ``repeats`` x ``folds``
folds of the development data with ``seeds`` seed models each, in one pack per network as ``resample``
does, then prints for one seed, and for ensembles of 3 and of all the seeds, each network's log-loss
difference from the baseline (corrected resampled t interval, decision layer as ``resample`` fits it)
and the mean 95 % half-width.

    python benchmarks/resample_design.py --repeats 2 --folds 5 --seeds 5 \\
        --networks baseline,brief-rmsprop,adam,nadam,sgd,rmsprop,adamw,brief-adam,search
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from pipeline.config import Params
from pipeline.data.prepared import read_split
from pipeline.data.schema import DataSchema
from pipeline.evaluation import compare, metrics
from pipeline.evaluation.resampled import corrected_t_test
from pipeline.resampling import comparison
from pipeline.resampling.folds import make_folds
from pipeline.training import store as model_store
from pipeline.training.job import predict, train_members

Raw = list[tuple[list[np.ndarray], list[np.ndarray]]]  # per fold: each seed's tune and held probabilities


def _train(name: str, candidate, data: list, seeds: int) -> Raw:
    members = train_members(candidate, [d.training for d in data for _ in range(seeds)],
                            [100 * i + k for i in range(len(data)) for k in range(seeds)])  # fmt: skip
    raw = []
    for i, d in enumerate(data):
        group = members[i * seeds : (i + 1) * seeds]
        raw.append(([m.val_probabilities for m in group], [predict(m.model, d.held.x) for m in group]))
    return raw


def _losses(raw: Raw, data: list, seeds: list[int], params: Params) -> np.ndarray:
    out = []
    for (p_tune, p_held), d in zip(raw, data, strict=True):
        tune, held = np.mean([p_tune[s] for s in seeds], axis=0), np.mean([p_held[s] for s in seeds], axis=0)
        y = d.training.validation.y
        decided = compare.fit_decision("x", "ann", params.evaluate, y, tune, held, np.zeros(len(y)))
        out.append(metrics.log_loss(d.held.y, decided.p_test))
    return np.asarray(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--networks", default="baseline,brief-rmsprop,adam,nadam,sgd")
    args = parser.parse_args()
    params = Params.load()
    paths, schema = params.paths, DataSchema.from_yaml(params.paths.schema_file)
    dev = pd.concat([read_split(paths, "train"), read_split(paths, "validation")], ignore_index=True)
    stored = {c.name: c.candidate for c in model_store.load_all(paths.models, ("baseline", "recipes", "candidates"))}
    folds = make_folds(dev[schema.target.column].to_numpy(), args.repeats, args.folds, 0.25, params.resample.seed)
    data = [comparison.fold_data(dev, schema, f, lambda frame, y: np.zeros(len(y))) for f in folds]
    raws = {}
    for name in args.networks.split(","):
        started = time.perf_counter()
        raws[name] = _train(name, stored[name], data, args.seeds)
        print(f"{name}: {len(folds) * args.seeds} members in {time.perf_counter() - started:.1f} s")
    train, held = int(np.mean([f.training_rows for f in folds])), int(np.mean([len(f.held) for f in folds]))
    for label, seeds in (("one seed", [0]), ("3 seeds", [0, 1, 2]), (f"{args.seeds} seeds", list(range(args.seeds)))):
        base, widths = _losses(raws["baseline"], data, seeds, params), []
        for name in (n for n in raws if n != "baseline"):
            c = corrected_t_test(_losses(raws[name], data, seeds, params) - base, train, held)
            widths.append((c.high - c.low) / 2)
            print(f"  {label:9s} {name:22s} {c.mean:+.4f} [{c.low:+.4f}, {c.high:+.4f}]")
        print(f"{label}: mean half-width {np.mean(widths):.4f} over {len(widths)} networks")


if __name__ == "__main__":
    main()
