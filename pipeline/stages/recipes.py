"""``recipes``: the briefs' own recipes as named candidates, trained like the baseline.

Each recipe in ``params.yaml`` (``recipes:``) is trained over the baseline's seeds on the train
split, with early stopping on validation (one unit per recipe, on ``parallel.workers`` processes,
saved under ``models/recipes/<name>`` by the process that trained it), and logged in the
recipes' order; the ``resample`` stage compares them with everything else.
"""

from __future__ import annotations

import functools
import shutil

from pipeline import parallel
from pipeline.config import Params
from pipeline.io import write_json
from pipeline.stages.baseline import log_seeds, train_and_save
from pipeline.tracking import store
from pipeline.training.job import load_training_data


def run(params: Params) -> None:
    paths = params.paths
    data = load_training_data(paths)
    root = paths.models / "recipes"
    shutil.rmtree(root, ignore_errors=True)  # a recipe removed from params.yaml leaves no model behind
    units = [
        functools.partial(train_and_save, name, candidate, data, params.baseline, root / name)
        for name, candidate in params.recipes.items()
    ]
    trained = parallel.run_all(units, parallel.workers(params.parallel.workers))
    store.configure(params.tracking.experiment)
    trained_by, headline = {}, {}
    for results in trained:
        trained_by[results.name] = log_seeds(results, params, data, root / results.name, "recipes")
        summary = results.summary()
        headline[results.name] = {k: summary[f"val_{k}_mean"] for k in ("log_loss", "roc_auc")}
    write_json(paths.training_runs("recipes"), trained_by)
    write_json(paths.headline("recipes"), headline)
