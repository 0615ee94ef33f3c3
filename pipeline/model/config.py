"""What defines a trainable model, as plain validated data (no TensorFlow import)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from pipeline.model.optimizers import OptimizerConfig

Imbalance = Literal["none", "class_weight", "smote"]


class ModelConfig(BaseModel):
    """Hidden layers and their regularization; the output is always one sigmoid unit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden_units: list[int] = Field(min_length=1)
    activation: Literal["relu", "elu", "selu", "tanh", "gelu", "swish"] = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    batch_norm: bool = False
    l2: float = Field(0.0, ge=0.0)
    initializer: Literal["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal"] = (
        "glorot_uniform"
    )


class TrainingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: int = Field(gt=0)
    batch_size: int = Field(gt=0)
    early_stopping_patience: int | None = Field(None, gt=0)
    imbalance: Imbalance = "none"


class Candidate(BaseModel):
    """Everything needed to train a model again: what a study's trial or a stage's params describe."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: ModelConfig
    optimizer: OptimizerConfig
    training: TrainingConfig

    def flat_params(self) -> dict[str, str | float | int | bool | None]:
        """One level of ``section.key`` names, as MLflow parameters."""
        flat: dict[str, str | float | int | bool | None] = {"optimizer": self.optimizer.name}
        for key, value in self.model.model_dump().items():
            flat[f"model.{key}"] = str(value) if isinstance(value, list) else value
        for key, value in self.optimizer.hyperparameters.items():
            flat[f"optimizer.{key}"] = value
        for key, value in self.training.model_dump().items():
            flat[f"training.{key}"] = value
        return flat
