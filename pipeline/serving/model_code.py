"""Entry point MLflow loads for the churn pyfunc (models from code: nothing is pickled)."""

import mlflow.models

from pipeline.serving.pyfunc import ChurnModel

mlflow.models.set_model(ChurnModel())
