"""Optuna studies: the search spaces, the shared storage, exact trial budgets across workers."""
