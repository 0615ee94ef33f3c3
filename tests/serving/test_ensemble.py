"""A candidate is served as a seed ensemble: the mean of its seed models' probabilities, then the
calibration (applied to the mean, not to each seed) and the threshold."""

from __future__ import annotations

from pathlib import Path

import keras
import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from pipeline.config import Params
from pipeline.data.contract import Purpose, check_records
from pipeline.data.schema import DataSchema
from pipeline.evaluation.calibration import Calibrator
from pipeline.features.preprocessing import Preprocessor
from pipeline.serving.package import log_pyfunc
from pipeline.serving.scorer import Decision, Scorer
from tests.conftest import REPO, use_project
from tests.synthetic import make_customers

BIASES = (-1.0, 2.0)  # p = sigmoid(b) for every record: 0.269 and 0.881, mean 0.575


def _sigmoid(z: float | np.ndarray) -> float | np.ndarray:
    return 1 / (1 + np.exp(-np.asarray(z, "float64")))


def _constant_model(n_features: int, bias: float) -> keras.Model:
    inputs = keras.Input((n_features,))
    dense = keras.layers.Dense(
        1, "sigmoid", kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(bias)
    )
    return keras.Model(inputs, dense(inputs))


def _random_model(n_features: int, seed: int) -> keras.Model:
    inputs = keras.Input((n_features,))
    hidden = keras.layers.Dense(4, "relu", kernel_initializer=keras.initializers.GlorotNormal(seed))(inputs)
    return keras.Model(inputs, keras.layers.Dense(1, "sigmoid")(hidden))


@pytest.fixture
def records(schema: DataSchema) -> pd.DataFrame:
    return make_customers(schema, n=60, seed=3).drop(columns=schema.target.column)


@pytest.fixture
def preprocessor(schema: DataSchema, records: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "preprocessor.json"
    Preprocessor.fit(check_records(records, schema, Purpose.SCORING).frame(), schema).save(path)
    return path


def _save(models: list[keras.Model], directory: Path) -> list[Path]:
    directory.mkdir(parents=True)
    paths = [directory / f"seed-{k}.keras" for k in range(len(models))]
    for model, path in zip(models, paths, strict=True):
        model.save(path)
    return paths


def _served(
    paths: list[Path], decision: Decision, schema: DataSchema, preprocessor: Path, records: pd.DataFrame
) -> mlflow.pyfunc.PyFuncModel:
    """Logged with ``log_pyfunc`` into the current (test) store and loaded back as MLflow serves it."""
    mlflow.set_experiment("ensemble")  # in this store: an experiment id an earlier test set may not exist here
    segment = Params.load(REPO / "params.yaml").segment
    served = segment.resolved(records[segment.value_column].astype("float64"))  # the cut as evaluate serves it
    with mlflow.start_run():
        info = log_pyfunc(
            "model",
            schema,
            preprocessor,
            paths,
            decision,
            records.head(3),
            served,
            records[schema.feature_columns].head(20),
        )
    return mlflow.pyfunc.load_model(info.model_uri)


@pytest.mark.slow
def test_the_served_probability_is_the_mean_of_the_seeds_then_calibrated(
    schema: DataSchema, preprocessor: Path, records: pd.DataFrame, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_project(tmp_path, monkeypatch)  # a sqlite store of its own in tmp_path
    n_features = Preprocessor.load(preprocessor).n_features
    paths = _save([_constant_model(n_features, b) for b in BIASES], tmp_path / "candidate")
    p1, p2 = _sigmoid(BIASES[0]), _sigmoid(BIASES[1])
    mean = (p1 + p2) / 2

    served = _served(paths, Decision(threshold=0.5), schema, preprocessor, records)
    plain = served.predict(records)
    assert len(plain) == len(records)
    # no input schema for MLflow to enforce: the columns are documented, and the contract refuses bad cells
    assert served.metadata.get_input_schema() is None
    assert [c["name"] for c in served.metadata.metadata["input_columns"]] == [schema.id_column, *schema.feature_columns]
    bad = records.head(3).assign(Contract=["Weekly", "One year", 7])
    with pytest.raises(MlflowException, match=r"record 1: column 'Contract': value 'Weekly': unknown category") as info:
        served.predict(bad)
    assert "record 3: column 'Contract': value 7: unknown category" in str(info.value)
    np.testing.assert_allclose(plain["churn_probability"], mean, atol=1e-6)
    assert abs(mean - _sigmoid(np.mean(BIASES))) > 0.01  # not the mean logit
    assert (plain["churn"] == 1).all()  # 0.575 >= 0.5, where the first seed alone says 0.269

    platt = Calibrator("platt", (2.0, -1.5))
    calibrated = _served(paths, Decision(threshold=0.5, calibrator=platt), schema, preprocessor, records)
    scored = calibrated.predict(records)
    expected = platt.apply(np.array([mean]))[0]
    calibrated_first = platt.apply(np.array([p1, p2])).mean()
    assert abs(expected - calibrated_first) > 0.01  # the order matters, so the check below tells them apart
    np.testing.assert_allclose(scored["churn_probability"], expected, atol=1e-6)
    assert (scored["churn"] == int(expected >= 0.5)).all()


def test_in_process_the_scorer_averages_any_batch_and_explains(
    schema: DataSchema, preprocessor: Path, records: pd.DataFrame
) -> None:
    pre = Preprocessor.load(preprocessor)
    models = [_random_model(pre.n_features, seed) for seed in range(3)]
    scorer = Scorer(schema, pre, models, Decision(threshold=0.5), background=records[schema.feature_columns].head(15))
    x = pre.transform(check_records(records, schema, Purpose.SCORING).columns)
    each = np.stack([m.predict(x, verbose=0)[:, 0] for m in models])
    assert np.ptp(each, axis=0).max() > 1e-3  # the seeds disagree, so the mean is not any one of them
    np.testing.assert_allclose(scorer.probabilities(x), each.mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(scorer.probabilities(x[:1]), each.mean(axis=0)[:1], atol=1e-6)
    explained = scorer.score(records.head(2), reasons=True)
    assert all(len(r.split("; ")) == 3 for r in explained["reasons"])


def test_from_files_refuses_a_directory_without_models(schema: DataSchema, preprocessor: Path, tmp_path: Path) -> None:
    (tmp_path / "schema.json").write_text(schema.to_json())
    (tmp_path / "decision.json").write_text(Decision(threshold=0.5).to_json())
    empty = tmp_path / "keras_models"
    empty.mkdir()
    (empty / "README.txt").write_text("not a model")
    with pytest.raises(FileNotFoundError, match=r"no \.keras model files in .*keras_models"):
        Scorer.from_files(tmp_path / "schema.json", preprocessor, empty, tmp_path / "decision.json")


def test_a_scorer_needs_a_model(schema: DataSchema, preprocessor: Path) -> None:
    with pytest.raises(ValueError, match="at least one model"):
        Scorer(schema, Preprocessor.load(preprocessor), [], Decision(threshold=0.5))
