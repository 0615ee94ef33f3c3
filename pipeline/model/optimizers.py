"""The optimization algorithms under study: Keras optimizers with their own search spaces.

Each entry names the Keras class, the arguments that define the variant (e.g. Nesterov
momentum) and the hyperparameters a study may tune, with their ranges. The learning rate
is always tuned; momentum, rho, betas and weight decay where the algorithm has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    import keras


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class OptimizerSpec:
    name: str
    keras_class: str  # a class of keras.optimizers, imported only when building
    summary: str
    space: Mapping[str, Range]
    fixed: Mapping[str, bool | float] = field(default_factory=dict)  # constructor arguments, e.g. nesterov=True

    def check(self, hyperparameters: Mapping[str, float]) -> None:
        unknown = set(hyperparameters) - set(self.space)
        if unknown:
            raise ValueError(f"{self.name} has no hyperparameter(s) {sorted(unknown)}; it has {sorted(self.space)}")

    def build(self, hyperparameters: Mapping[str, float]) -> keras.optimizers.Optimizer:
        import keras

        from pipeline.model.exact_optimizers import EXACT

        self.check(hyperparameters)
        cls = EXACT.get(self.keras_class) or getattr(keras.optimizers, self.keras_class)
        return cls(**self.fixed, **hyperparameters)


_BETAS = {"beta_1": Range(0.8, 0.99), "beta_2": Range(0.99, 0.9999)}

REGISTRY: dict[str, OptimizerSpec] = {
    spec.name: spec
    for spec in [
        OptimizerSpec(
            "sgd",
            "SGD",
            "plain stochastic gradient descent",
            {"learning_rate": Range(1e-3, 0.5, log=True)},
        ),
        OptimizerSpec(
            "momentum",
            "SGD",
            "SGD with heavy-ball momentum",
            {"learning_rate": Range(1e-3, 0.3, log=True), "momentum": Range(0.5, 0.99)},
        ),
        OptimizerSpec(
            "nesterov",
            "SGD",
            "SGD with Nesterov momentum",
            {"learning_rate": Range(1e-3, 0.3, log=True), "momentum": Range(0.5, 0.99)},
            fixed={"nesterov": True},
        ),
        OptimizerSpec(
            "adagrad",
            "Adagrad",
            "per-parameter rates from accumulated squared gradients",
            {"learning_rate": Range(1e-3, 0.5, log=True), "initial_accumulator_value": Range(0.01, 1.0, log=True)},
        ),
        OptimizerSpec(
            "rmsprop",
            "RMSprop",
            "rates from a moving average of squared gradients",
            {"learning_rate": Range(1e-4, 3e-2, log=True), "rho": Range(0.8, 0.99)},
        ),
        OptimizerSpec(
            "adam",
            "Adam",
            "momentum plus RMSprop scaling, bias-corrected",
            {"learning_rate": Range(1e-4, 3e-2, log=True), **_BETAS},
        ),
        OptimizerSpec(
            "adamw",
            "AdamW",
            "Adam with decoupled weight decay",
            {"learning_rate": Range(1e-4, 3e-2, log=True), **_BETAS, "weight_decay": Range(1e-5, 1e-1, log=True)},
        ),
        OptimizerSpec(
            "nadam",
            "Nadam",
            "Adam with Nesterov momentum",
            {"learning_rate": Range(1e-4, 3e-2, log=True), **_BETAS},
        ),
    ]
}


class OptimizerConfig(BaseModel):
    """A registered optimizer and the values of its hyperparameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    hyperparameters: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _registered(self) -> OptimizerConfig:
        spec(self.name).check(self.hyperparameters)
        return self

    def build(self) -> keras.optimizers.Optimizer:
        return spec(self.name).build(self.hyperparameters)


def spec(name: str) -> OptimizerSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; registered: {sorted(REGISTRY)}") from None
