"""The md5 of every numeric primitive the training and scoring use, computed on this machine.

Run ``python -m tests.training.fingerprint`` (JSON on stdout; ``--only=products,inference``
for some parts), or with ``--write`` to replace the committed reference
``tests/training/numerics_reference.json``. The numerics tests compare a
fresh process's fingerprint with that reference and name the primitives that differ, so a
machine that computes differently says where: XLA's products, its elementwise functions, an
optimizer's update, the inference pass, NumPy, or only the whole training.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
import sys
from pathlib import Path

import pipeline  # noqa: F401  # isort: skip  (first: the pin, before NumPy and TensorFlow load)
import numpy as np

REFERENCE = Path(__file__).with_name("numerics_reference.json")
ACTIVATIONS = ("relu", "elu", "selu", "tanh", "gelu", "swish", "sigmoid")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw", "nadam")
# [K, rows, inputs, units]: the first layer's batch product, a wide layer at batch 256, a validation pass
PRODUCT_SHAPES = ((2, 32, 45, 16), (2, 256, 45, 128), (2, 1409, 45, 64), (5, 64, 128, 100))
PARTS = ("products", "elementwise", "optimizers", "inference", "numpy", "golden")
# taken on request only, not in the reference: the RMSprop control (the project's update and Keras's own)
EXTRA_PARTS = ("rmsprop",)
RMSPROP_KINDS = ("stock", "project")


def md5(*arrays: object) -> str:
    """Of each array's bytes in its own precision (float32 or float64), little-endian."""
    digest = hashlib.md5()
    for array in arrays:
        values = np.asarray(array)
        digest.update(np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")).tobytes())
    return digest.hexdigest()[:12]


def machine() -> dict[str, object]:
    """CPU model, vendor, family/model, the vector instruction sets and the caches (from the kernel's
    /proc/cpuinfo and lscpu), and the vector features NumPy detected through CPUID."""
    fields: dict[str, str] = {}
    try:
        first = Path("/proc/cpuinfo").read_text().split("\n\n")[0]
        fields = {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in first.splitlines() if ":" in line)}
    except OSError:
        pass
    flags = fields.get("flags", "").split()
    caches = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout.splitlines()
    from numpy._core._multiarray_umath import __cpu_features__  # from CPUID: qemu -cpu shows its model's

    return {
        "cpuid_vector_features": sorted(k for k, on in __cpu_features__.items() if on and k.startswith(("AVX", "FMA"))),
        "model": fields.get("model name", platform.processor()),
        "vendor": fields.get("vendor_id"),
        "family/model": f"{fields.get('cpu family')}/{fields.get('model')}",
        "isa": sorted(f for f in flags if f.startswith(("avx", "fma", "sse4"))),
        "caches": [line.split(":", 1)[1].strip() for line in caches if "cache" in line.lower()],
    }


def products(rng: np.random.Generator) -> dict[str, str]:
    """The dense layers' product and both its gradients, XLA-compiled, at the shapes training meets."""
    import tensorflow as tf

    from pipeline.model import exact

    @tf.function(jit_compile=True)
    def forward_and_gradients(x, w, d):
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = exact.matmul(x, w)
        return (y, *tape.gradient(y, [x, w], output_gradients=d))

    out = {}
    for k, rows, inputs, units in PRODUCT_SHAPES:
        shapes = ((k, rows, inputs), (k, inputs, units), (k, rows, units))
        x, w, d = (rng.normal(size=shape).astype("float32") for shape in shapes)
        y, dx, dw = forward_and_gradients(x, w, d)
        out[f"xla/dense_{k}x{rows}x{inputs}x{units}"] = md5(y)
        out[f"xla/dense_{k}x{rows}x{inputs}x{units}_gradients"] = md5(dx, dw)
    return out


def elementwise(rng: np.random.Generator) -> dict[str, str]:
    """Activations, the exact square root and its gradient, the losses; XLA-compiled."""
    import keras
    import tensorflow as tf

    from pipeline.model import exact

    x = tf.constant(rng.normal(size=20_000).astype("float32"))
    y = tf.constant((rng.random(20_000) < 0.3).astype("float32"))
    out = {}
    for name in ACTIVATIONS:
        out[f"xla/{name}"] = md5(tf.function(keras.activations.get(name), jit_compile=True)(x))

    @tf.function(jit_compile=True)
    def root(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            r = exact.sqrt(v)
        return r, tape.gradient(r, v)

    out["xla/exact_sqrt_and_gradient"] = md5(*root(tf.abs(x) + 1e-3))
    p = tf.sigmoid(x)
    out["xla/binary_crossentropy"] = md5(tf.function(keras.losses.binary_crossentropy, jit_compile=True)(y, p))
    focal = tf.function(lambda a, b: keras.losses.binary_focal_crossentropy(a, b, gamma=2.0), jit_compile=True)
    out["xla/focal_crossentropy"] = md5(focal(y, p))
    return out


def optimizers() -> dict[str, str]:
    """Two epochs of the packed engine per optimizer, on a two-layer network with batch norm."""
    from pipeline.model.config import ModelConfig
    from pipeline.model.optimizers import REGISTRY
    from pipeline.model.packed import PackedNetwork
    from pipeline.training.engine import PackedTrainer
    from tests.training.golden_training import toy_member

    member = toy_member()
    config = ModelConfig(hidden_units=[24, 8], batch_norm=[True, False], dropout=[0.0, 0.2])
    out = {}
    for name in OPTIMIZERS:
        spec = REGISTRY[name]
        middle = {key: (r.low * r.high) ** 0.5 if r.log else (r.low + r.high) / 2 for key, r in spec.space.items()}
        network = PackedNetwork(20, config, [0, 1])
        PackedTrainer(network, spec.build(middle)).fit([member, member], epochs=2, batch_size=32)
        out[f"xla/engine_2_epochs_{name}"] = md5(*[v.numpy() for v in network.variables])
    return out


def inference(rng: np.random.Generator) -> dict[str, str]:
    """The served pass: a 3-seed ensemble with batch norm, then Platt and isotonic calibration."""
    from pipeline.evaluation.calibration import Calibrator
    from pipeline.model.architecture import build_model
    from pipeline.model.config import ModelConfig
    from pipeline.model.inference import Ensemble

    config = ModelConfig(hidden_units=[32, 16], batch_norm=[True, False])
    ensemble = Ensemble.from_models([build_model(20, config, seed) for seed in range(3)])
    prediction = ensemble.predict(rng.normal(size=(500, 20)).astype("float32"))
    platt = Calibrator("platt", (1.3, -0.2)).apply(prediction.mean)
    isotonic = Calibrator("isotonic", (0.0, 0.3, 0.6, 1.0, 0.05, 0.2, 0.7, 0.9)).apply(prediction.mean)
    return {"xla/inference_ensemble": md5(prediction.seeds, prediction.mean), "xla/calibration": md5(platt, isotonic)}


def fingerprint(parts: tuple[str, ...] = PARTS) -> dict[str, object]:
    """``parts``: which of ``PARTS`` (and ``EXTRA_PARTS``) to take (the cross-processor tests take the
    products, the inference pass, the golden training and the RMSprop control in one process under
    qemu, where the whole fingerprint would take many minutes)."""
    import tensorflow as tf

    from tests.training.golden_training import numpy_md5, rmsprop_md5, weights_md5

    takers = {
        "products": lambda: products(np.random.default_rng(0)),
        "elementwise": lambda: elementwise(np.random.default_rng(1)),
        "optimizers": optimizers,
        "inference": lambda: inference(np.random.default_rng(2)),
        "numpy": lambda: {"numpy/openblas_scikit_learn": numpy_md5()[:12]},
        "golden": lambda: {"project/golden_training_weights": weights_md5()[:12]},
        "rmsprop": lambda: {f"control/rmsprop_{kind}": rmsprop_md5(kind == "stock")[:12] for kind in RMSPROP_KINDS},
    }
    results = {key: value for part in parts for key, value in takers[part]().items()}
    return {"machine": machine(), "tensorflow": tf.__version__, "numpy": np.__version__, "results": results}


def differences(found: dict[str, str], reference: dict[str, str]) -> list[str]:
    return sorted(key for key in reference if found.get(key) != reference[key])


if __name__ == "__main__":
    only = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--only=")]
    taken = fingerprint(tuple(only[0].split(",")) if only else PARTS)
    if "--write" in sys.argv:
        REFERENCE.write_text(json.dumps(taken, indent=1) + "\n")
    print(json.dumps(taken, indent=1))
