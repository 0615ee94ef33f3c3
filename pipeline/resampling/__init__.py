"""The final comparison of candidates on repeated resampling folds of the development data."""
