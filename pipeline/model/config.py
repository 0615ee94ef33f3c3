"""What defines a trainable model, as plain validated data (no TensorFlow import)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipeline.model.optimizers import OptimizerConfig

Imbalance = Literal["none", "class_weight", "smote", "focal"]
DropoutRate = Annotated[float, Field(ge=0.0, lt=1.0)]


class ModelConfig(BaseModel):
    """Hidden layers and their regularization; the output is always one sigmoid unit.

    ``dropout`` and ``batch_norm`` take one value for every hidden layer, or a list with one
    value per hidden layer (as many as ``hidden_units``); read them with ``dropout_at`` and
    ``batch_norm_at``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    hidden_units: list[int] = Field(min_length=1)
    activation: Literal["relu", "elu", "selu", "tanh", "gelu", "swish"] = "relu"
    dropout: DropoutRate | list[DropoutRate] = 0.0
    batch_norm: bool | list[bool] = False
    l2: float = Field(0.0, ge=0.0)
    initializer: Literal["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal"] = (
        "glorot_uniform"
    )

    @model_validator(mode="after")
    def _one_value_per_layer(self) -> ModelConfig:
        layers = len(self.hidden_units)
        for name in ("dropout", "batch_norm"):
            value = getattr(self, name)
            if isinstance(value, list) and len(value) != layers:
                raise ValueError(
                    f"{name} has {len(value)} values but hidden_units has {layers} layers: "
                    f"give one value for every layer, or a list of {layers}"
                )
        return self

    def dropout_at(self, i: int) -> float:
        """The dropout rate after hidden layer ``i`` (0-based); 0 means no dropout layer."""
        self._check_layer(i)
        return self.dropout[i] if isinstance(self.dropout, list) else self.dropout

    def batch_norm_at(self, i: int) -> bool:
        """Whether hidden layer ``i`` (0-based) is batch-normalized (and so has no bias)."""
        self._check_layer(i)
        return self.batch_norm[i] if isinstance(self.batch_norm, list) else self.batch_norm

    def _check_layer(self, i: int) -> None:
        if not 0 <= i < len(self.hidden_units):
            raise IndexError(f"hidden layer {i} of {len(self.hidden_units)} (0-based)")


class TrainingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    epochs: int = Field(gt=0)
    batch_size: int = Field(gt=0)
    early_stopping_patience: int | None = Field(None, gt=0)
    imbalance: Imbalance = "none"
    focal_gamma: float = Field(2.0, gt=0)
    """With imbalance "focal": the focusing exponent of the focal loss (Lin et al., 2017), which
    down-weights rows the model already gets right; 2 was the best value there. No alpha
    weighting: rebalancing the classes is what "class_weight" is for."""


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
