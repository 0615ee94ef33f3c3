"""The MLflow pyfunc model: raw customer records (DataFrame or JSON) in, scores out.

Logged as *models from code* (``serving/model_code.py``), so the saved model holds
source code, JSON and ``.keras`` files (one per seed), and no pickle.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE
from mlflow.pyfunc import PythonModel, PythonModelContext  # not mlflow.pyfunc.X: a lazy loader to type checkers

from pipeline.data.contract import DataContractError


class ChurnModel(PythonModel):
    def load_context(self, context: PythonModelContext) -> None:
        from pipeline.serving.scorer import Scorer

        files = context.artifacts
        self.scorer = Scorer.from_files(
            files["schema"],
            files["preprocessor"],
            files["keras_models"],  # a directory: the seed models, averaged
            files["decision"],
            files.get("segmentation"),
            files.get("background"),
        )

    def predict(
        self, context: PythonModelContext, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        if not isinstance(model_input, pd.DataFrame):
            model_input = pd.DataFrame(model_input)
        reasons = bool((params or {}).get("reasons", False))
        try:
            return self.scorer.score(model_input, source="request", reasons=reasons)
        except DataContractError as err:
            # INVALID_PARAMETER_VALUE: the scoring server answers 400 with this message
            raise MlflowException(str(err), error_code=INVALID_PARAMETER_VALUE) from None
