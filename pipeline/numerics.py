"""Pinned numerics: the same trained weights on every x86-64 machine with AVX2.

TensorFlow's matrix products run on oneDNN kernels picked by the CPU's instruction set,
and XLA compiles for the host CPU: on an AVX-512 machine both sum in another order than
on an AVX2 one, and the last bits of every weight differ. Forty TPE trials amplify such
a difference into another champion. Thread counts change how reductions are split, so
they are pinned too. ``pin()`` runs when ``pipeline`` is imported, before TensorFlow
starts, so every process of the project (stages, workers, the served model, the
notebook, tests) computes alike. It overrides what the environment says: a process
that sets ``ONEDNN_MAX_CPU_ISA=AVX512_CORE`` still trains like every other machine.
"""

from __future__ import annotations

import os

ISA = "AVX2"  # the lowest instruction set of any x86-64 machine this project supports
THREADS = 1  # per process; a network of a few kFLOP gains nothing from more (measured)

PINNED = {
    "ONEDNN_MAX_CPU_ISA": ISA,
    "TF_NUM_INTRAOP_THREADS": str(THREADS),
    "TF_NUM_INTEROP_THREADS": str(THREADS),
}
XLA_FLAG = f"--xla_cpu_max_isa={ISA}"


def pin() -> None:
    """Set the instruction set and thread counts TensorFlow, oneDNN and XLA will use."""
    os.environ.update(PINNED)
    flags = [f for f in os.environ.get("XLA_FLAGS", "").split() if not f.startswith("--xla_cpu_max_isa")]
    os.environ["XLA_FLAGS"] = " ".join([*flags, XLA_FLAG])


def is_pinned() -> bool:
    return all(os.environ.get(k) == v for k, v in PINNED.items()) and XLA_FLAG in os.environ.get("XLA_FLAGS", "")
