"""A feed-forward churn classifier described by a small config, built as a Keras 3 model."""

from __future__ import annotations

import keras

from pipeline.model.config import ModelConfig


def build_model(n_features: int, config: ModelConfig, seed: int) -> keras.Model:
    """Dense -> [BatchNorm] -> activation -> [Dropout] per hidden layer, then a sigmoid unit.

    Each layer has batch normalization and dropout as the config gives them for that layer.

    The seed fixes the initial weights and the dropout masks, so a run is reproducible.
    """
    keras.utils.set_random_seed(seed)
    regularizer = keras.regularizers.L2(config.l2) if config.l2 > 0 else None
    layers: list[keras.layers.Layer] = [keras.Input(shape=(n_features,), name="features")]
    for i, units in enumerate(config.hidden_units, start=1):
        batch_norm, dropout = config.batch_norm_at(i - 1), config.dropout_at(i - 1)
        layers.append(
            keras.layers.Dense(
                units,
                kernel_initializer=config.initializer,
                kernel_regularizer=regularizer,
                use_bias=not batch_norm,  # batch norm's shift replaces the bias
                name=f"dense_{i}",
            )
        )
        if batch_norm:
            layers.append(keras.layers.BatchNormalization(name=f"batch_norm_{i}"))
        layers.append(keras.layers.Activation(config.activation, name=f"{config.activation}_{i}"))
        if dropout > 0:
            layers.append(keras.layers.Dropout(dropout, name=f"dropout_{i}"))
    layers.append(keras.layers.Dense(1, activation="sigmoid", name="churn_probability"))
    return keras.Sequential(layers, name="churn_ann")
