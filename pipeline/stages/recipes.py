"""``recipes``: the briefs' own recipes as named candidates, trained like the baseline.

Each recipe in ``params.yaml`` (``recipes:``) is trained over the baseline's seeds on the train
split, with early stopping on validation, and saved under ``models/recipes/<name>``; the
``resample`` stage compares them with everything else.
"""

from __future__ import annotations

import shutil

from pipeline.config import Params
from pipeline.io import write_json
from pipeline.stages.baseline import train_and_log
from pipeline.tracking import store
from pipeline.training.job import load_training_data


def run(params: Params) -> None:
    paths = params.paths
    data = load_training_data(paths)
    store.configure(params.tracking.experiment)
    root = paths.models / "recipes"
    shutil.rmtree(root, ignore_errors=True)  # a recipe removed from params.yaml leaves no model behind
    trained_by, headline = {}, {}
    for name, candidate in params.recipes.items():
        results, trained_by[name] = train_and_log(name, candidate, params, data, root / name, "recipes")
        summary = results.summary()
        headline[name] = {k: summary[f"val_{k}_mean"] for k in ("log_loss", "roc_auc")}
    write_json(paths.training_runs("recipes"), trained_by)
    write_json(paths.headline("recipes"), headline)
