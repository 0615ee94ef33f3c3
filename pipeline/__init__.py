"""Otomoto churn ANN: a DVC-reproducible, MLflow-tracked study of optimization algorithms."""

import os

from pipeline import numerics

# Keras 3 picks its backend at import time; this project is built on TensorFlow.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
numerics.pin()  # before TensorFlow starts: the same numbers on every x86-64 machine

__version__ = "0.1.0"
