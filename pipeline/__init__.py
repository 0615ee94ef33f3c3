"""Otomoto churn ANN: a DVC-reproducible, MLflow-tracked study of optimization algorithms."""

import os

# Keras 3 picks its backend at import time; this project is built on TensorFlow.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
