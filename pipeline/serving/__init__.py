"""Scoring raw customer records: the same contract, preprocessing and model as training."""
