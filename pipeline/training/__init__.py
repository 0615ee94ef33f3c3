"""Training: a fast Keras engine, class-imbalance handling, and training jobs."""
