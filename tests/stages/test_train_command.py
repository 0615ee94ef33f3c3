"""``python -m pipeline train``: one idea from the command line, logged like a trial."""

from __future__ import annotations

import mlflow
import pytest
from mlflow.tracking import MlflowClient

from pipeline.cli import main
from pipeline.config import Params
from pipeline.stages.train import candidate_from_options
from tests.conftest import REPO


def test_options_replace_only_what_they_name() -> None:
    base = Params.load(REPO / "params.yaml").baseline.candidate
    options = {"optimizer": "adamw", "lr": 0.003, "hyperparameters": '{"weight_decay": 0.01}', "hidden_units": "32,8",
               "epochs": 20, "patience": 0, "batch_size": None, "dropout": None, "imbalance": None}  # fmt: skip
    candidate = candidate_from_options(base, options)
    assert candidate.optimizer.name == "adamw"
    assert candidate.optimizer.hyperparameters == {"weight_decay": 0.01, "learning_rate": 0.003}
    assert candidate.model.hidden_units == [32, 8]
    assert candidate.training.epochs == 20 and candidate.training.early_stopping_patience is None
    assert candidate.training.batch_size == base.training.batch_size


@pytest.mark.slow
@pytest.mark.usefixtures("in_pipeline_project")
def test_train_logs_a_run_with_curves() -> None:
    assert main(["train", "--optimizer", "adam", "--lr", "0.003", "--epochs", "4", "--seed", "2"]) == 0
    [run] = mlflow.search_runs(
        experiment_names=["otomoto-churn-ann"], filter_string="tags.stage = 'train'", output_format="list"
    )
    assert run.info.run_name == "train-adam"
    assert run.data.tags["optimizer"] == "adam" and run.data.tags["seed"] == "2"
    assert run.data.params["optimizer.learning_rate"] == "0.003"
    assert len(MlflowClient().get_metric_history(run.info.run_id, "val_loss")) == 4
    assert main(["train", "--optimizer", "sgd", "--hyperparameters", '{"beta_1": 0.9}']) == 2  # sgd has no beta_1
