"""Pinned numerics: the same numbers on every x86-64 machine with AVX2, Intel or AMD.

TensorFlow's matrix products run on oneDNN kernels picked by the CPU's instruction set,
and XLA compiles for the host CPU: on an AVX-512 machine both sum in another order than
on an AVX2 one, and the last bits of every weight differ. Forty TPE trials amplify such
a difference into another champion. NumPy and the libraries on it do the same: OpenBLAS
picks its kernels by CPU (scikit-learn's logistic regression moved a resampled F1 in the
fourth decimal between two machines), and NumPy's AVX-512 ``exp``, ``log`` and ``power``
round differently from its AVX2 ones. Thread counts change how sums are split, so they are
pinned too, and Eigen's thread pool (whose blocking follows the CPU's cache sizes) is off.
What no setting reaches is written so that it cannot vary: see ``pipeline.model.exact``.

``pin()`` runs when ``pipeline`` is imported, before TensorFlow and NumPy load, so every
process of the project (stages, workers, the notebook, tests, the served model) computes
alike. It overrides what the environment says, in *any* process that imports ``pipeline``,
a user's own notebook or script and ``python -m pipeline score`` included: such a process
runs BLAS and OpenMP on one thread, NumPy without its AVX-512 loops, and TensorFlow with one
intra-op thread, whatever it set before. A program that needs its own settings for other
work should do that work in a process that does not import ``pipeline``.
"""

from __future__ import annotations

import logging
import os
import sys

ISA = "AVX2"  # the lowest instruction set of any x86-64 machine this project supports
THREADS = 1  # per process; a network of a few kFLOP gains nothing from more (measured)
NUMPY_AVX512 = "X86_V4 AVX512_ICL AVX512_SPR"  # NumPy 2's AVX-512 dispatch groups; AVX2 (X86_V3) stays

PINNED = {
    "ONEDNN_MAX_CPU_ISA": ISA,
    "TF_NUM_INTRAOP_THREADS": str(THREADS),
    "TF_NUM_INTEROP_THREADS": str(THREADS),
    "OPENBLAS_CORETYPE": "Haswell",  # OpenBLAS's AVX2 kernels, under NumPy, SciPy and scikit-learn
    "OPENBLAS_NUM_THREADS": str(THREADS),
    "OMP_NUM_THREADS": str(THREADS),  # scikit-learn's OpenMP loops (k-means adds per-thread sums)
    "NPY_DISABLE_CPU_FEATURES": NUMPY_AVX512,
}
# XLA's generated code up to AVX2, and Eigen's matrix products (still used where a product is not
# written as matrix-vector, see pipeline.model.exact) on one thread, without the thread pool's own
# blocking
XLA_FLAGS = (f"--xla_cpu_max_isa={ISA}", "--xla_cpu_multi_thread_eigen=false", "--xla_cpu_enable_fast_math=false")
_LOADED_FIRST = ("numpy", "tensorflow")  # libraries that read the variables once, when they load


def pin() -> None:
    """Set the instruction sets and thread counts TensorFlow, oneDNN, XLA, NumPy and OpenBLAS will use."""
    early = [name for name in _LOADED_FIRST if name in sys.modules]
    if early:
        # e.g. `mlflow models serve`, which loads NumPy before the model's code: say so, do not fail
        logging.getLogger(__name__).warning(
            "%s loaded before `pipeline`: its kernels follow this CPU, not the pin; set %s in the "
            "environment to compute as every other machine does",
            " and ".join(early),
            ", ".join(f"{k}={v!r}" for k, v in PINNED.items()),
        )
    os.environ.update(PINNED)
    pinned = {flag.split("=")[0] for flag in XLA_FLAGS}
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if f.split("=")[0] not in pinned]
    os.environ["XLA_FLAGS"] = " ".join([*flags, *XLA_FLAGS])


def is_pinned() -> bool:
    """The variables are set, and NumPy and OpenBLAS, if loaded, run as they say."""
    xla = os.environ.get("XLA_FLAGS", "").split()
    environment = all(os.environ.get(k) == v for k, v in PINNED.items()) and all(f in xla for f in XLA_FLAGS)
    return environment and ("numpy" not in sys.modules or numpy_follows_pin())


def numpy_follows_pin() -> bool:
    """NumPy dispatches no AVX-512 kernel and its OpenBLAS runs AVX2 kernels on the pinned threads."""
    from numpy._core._multiarray_umath import __cpu_features__  # NumPy's own record of what it dispatches
    from threadpoolctl import threadpool_info

    blas = [lib for lib in threadpool_info() if lib.get("internal_api") == "openblas"]
    return not any(__cpu_features__.get(group) for group in NUMPY_AVX512.split()) and all(
        lib.get("architecture") == PINNED["OPENBLAS_CORETYPE"] and lib.get("num_threads") == THREADS for lib in blas
    )
