"""``prepare``: validate the raw CSV against the contract, split, fit preprocessing, profile."""

from __future__ import annotations

import logging

import mlflow

from pipeline.config import Params
from pipeline.data.contract import load_dataset
from pipeline.data.params_check import check_params
from pipeline.data.prepared import write_split
from pipeline.data.profile import DataProfile, profile
from pipeline.data.schema import DataSchema
from pipeline.data.split import SPLITS, stratified_split
from pipeline.features.preprocessing import Preprocessor
from pipeline.io import write_atomic, write_json
from pipeline.tracking import store

log = logging.getLogger(__name__)


def run(params: Params) -> None:
    paths, cfg = params.paths, params.prepare
    schema = DataSchema.from_yaml(paths.schema_file)
    check_params(params, schema)  # a column params.yaml names but the schema lacks fails here, not stages later
    checked = load_dataset(paths.raw_data, schema)  # raises before anything is written
    frame, blank_filled = checked.frame(), checked.blank_filled
    md5 = store.file_md5(paths.raw_data)
    splits = stratified_split(frame, schema.target.column, cfg.fractions, cfg.seed)
    preprocessor = Preprocessor.fit(splits["train"], schema)
    data_profile = profile(splits, schema)

    for name in SPLITS:
        write_split(paths, name, splits[name])
    write_atomic(paths.preprocessor, lambda tmp: preprocessor.save(tmp))
    manifest = {
        "source": str(paths.raw_data),
        "source_md5": md5,
        "rows": len(frame),
        "blank_filled": blank_filled,
        "features": preprocessor.feature_names,
        "splits": {name: len(part) for name, part in splits.items()},
    }
    write_json(paths.manifest, manifest)
    write_json(paths.summary("prepare"), data_profile)
    write_json(paths.headline("prepare"), _headline(data_profile))

    store.configure(params.tracking.experiment)
    with mlflow.start_run(run_name="prepare", tags=store.run_tags("prepare", md5)):
        mlflow.log_params(
            {"seed": cfg.seed, **{f"fraction_{k}": v for k, v in cfg.fractions.items()}, "source": paths.raw_data}
        )
        mlflow.log_metrics({"rows": len(frame), "features": preprocessor.n_features})
        for name, stats in data_profile["splits"].items():
            mlflow.log_metrics({f"{name}_rows": stats["rows"], f"{name}_churn_rate": stats["churn_rate"]})
        mlflow.log_metrics({f"blank_filled_{col}": n for col, n in blank_filled.items()})
        store.log_dataset(frame, paths.raw_data, schema.target.column, md5, context="raw")
        for path in (paths.manifest, paths.preprocessor, paths.summary("prepare"), paths.schema_file):
            mlflow.log_artifact(str(path))
    log.info("prepared %d rows: %s", len(frame), {k: len(v) for k, v in splits.items()})


def _headline(data_profile: DataProfile) -> dict[str, dict[str, float]]:
    """Rows and churn rate per split: what a rerun on new data is compared by."""
    splits = data_profile["splits"]
    return {
        "rows": {name: stats["rows"] for name, stats in splits.items()},
        "churn_rate": {name: stats["churn_rate"] for name, stats in splits.items()},
    }
