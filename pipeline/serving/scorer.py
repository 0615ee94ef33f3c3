"""Raw customer records in, churn probability and decision out.

Used in-process (``python -m pipeline score``, the notebook) and inside the MLflow pyfunc,
so a record is scored the same way everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from pipeline.data.contract import Purpose, check_records
from pipeline.data.schema import DataSchema
from pipeline.evaluation.calibration import Calibrator
from pipeline.features.preprocessing import Preprocessor

DECISION_FILE = "decision.json"


@dataclass(frozen=True)
class Decision:
    """How a probability becomes an answer: optional calibration, then a threshold."""

    threshold: float
    calibrator: Calibrator | None = None

    def to_json(self) -> str:
        calibration = self.calibrator.to_dict() if self.calibrator else None
        return json.dumps({"threshold": self.threshold, "calibration": calibration}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Decision:
        data = json.loads(text)
        calibration = data.get("calibration")
        return cls(float(data["threshold"]), Calibrator.from_dict(calibration) if calibration else None)


class Scorer:
    def __init__(self, schema: DataSchema, preprocessor: Preprocessor, model: keras.Model, decision: Decision) -> None:
        self.schema = schema
        self.preprocessor = preprocessor
        self.model = model
        self.decision = decision
        # one traced graph for any batch size: a single record costs a graph call, not model.predict's setup
        signature = [tf.TensorSpec([None, preprocessor.n_features], tf.float32)]
        self._forward = tf.function(lambda x: model(x, training=False)[:, 0], input_signature=signature)

    @classmethod
    def from_files(cls, schema: Path, preprocessor: Path, model: Path, decision: Path) -> Scorer:
        return cls(
            DataSchema.from_json(Path(schema).read_text()),
            Preprocessor.load(preprocessor),
            keras.saving.load_model(model, compile=False),
            Decision.from_json(Path(decision).read_text()),
        )

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        p = self._forward(tf.constant(x, tf.float32)).numpy().astype("float64")
        return self.decision.calibrator.apply(p) if self.decision.calibrator else p

    def score(self, records: pd.DataFrame, source: str = "input") -> pd.DataFrame:
        """Validate (raising DataContractError with every violation), encode, predict."""
        columns, _ = check_records(records, self.schema, Purpose.SCORING, source=source)
        p = self.probabilities(self.preprocessor.transform(columns))
        result = {"churn_probability": p, "churn": (p >= self.decision.threshold).astype("int64")}
        if self.schema.id_column in columns:
            result = {self.schema.id_column: columns[self.schema.id_column], **result}
        return pd.DataFrame(result)
