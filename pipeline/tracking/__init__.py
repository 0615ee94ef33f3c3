"""Everything that talks to MLflow: the tracking store, run tags and the Model Registry."""
