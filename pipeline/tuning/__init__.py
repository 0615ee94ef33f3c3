"""Optuna studies, one concern per module: ``plan`` (which studies, their names), ``storage`` (the shared
database), ``tickets`` (exact budgets across workers, and the one ``Tally`` of a study's trials),
``sampler`` (suggestions that survive a resume), ``records`` (what a trial keeps), ``spaces`` (the search
spaces), ``objective``, ``worker`` and ``progress`` (running the trials), ``references`` (the reference
models' studies)."""
