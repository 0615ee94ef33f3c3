"""Per-epoch curves as rows, the shape DVC plots and CSV readers expect."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline.io import write_atomic
from pipeline.training.engine import History


def curves_frame(history: History) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "epoch": range(1, history.epochs_run + 1),
            "train_loss": history.train_loss,
            "val_loss": history.val_loss,
            "val_roc_auc": history.val_roc_auc,
        }
    )


def write_curves(path: Path, history: History) -> None:
    frame = curves_frame(history)
    write_atomic(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.6f"))
