"""Raw data: the declarative contract, its validation, and the train/validation/test split."""
