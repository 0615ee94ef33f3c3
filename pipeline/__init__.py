"""Otomoto churn ANN: a DVC-reproducible, MLflow-tracked study of optimization algorithms."""

__version__ = "0.1.0"
