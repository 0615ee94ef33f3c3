"""Pure metric code: no files, no MLflow."""
