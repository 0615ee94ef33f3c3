"""Pinned numerics: the same numbers whatever instruction set the environment asks for.

Each case trains in a fresh process (TensorFlow reads its settings once, at start) through
``tests/training/golden_training.py``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline import numerics
from tests.conftest import REPO
from tests.repo_copy import command_env

pytestmark = pytest.mark.slow

# md5 of the float32 weights of two seeds of the baseline network after 5 epochs on seeded synthetic
# data, computed on x86-64 with the pinned settings. A machine that computes differently fails here.
GOLDEN_MD5 = "e22187c3011c896e0ba5b0b73f703c59"
# md5 of what NumPy, OpenBLAS and scikit-learn compute on seeded data (golden_training --numpy)
NUMPY_GOLDEN_MD5 = "e8cc39591678eaccee4b153d339f1149"

AVX2 = {"ONEDNN_MAX_CPU_ISA": "AVX2", "XLA_FLAGS": "--xla_cpu_max_isa=AVX2"}
SSE41 = {"ONEDNN_MAX_CPU_ISA": "SSE41", "XLA_FLAGS": "--xla_cpu_max_isa=SSE4_2"}
# what an AVX-512 machine with more cores would use left alone: OpenBLAS's SkylakeX kernels, NumPy's
# AVX-512 loops, two threads
HOST = {"OPENBLAS_CORETYPE": "SkylakeX", "NPY_DISABLE_CPU_FEATURES": "", "OPENBLAS_NUM_THREADS": "2",
        "OMP_NUM_THREADS": "2"}  # fmt: skip
NUMPY_AVX2 = {"NPY_DISABLE_CPU_FEATURES": numerics.NUMPY_AVX512, "OPENBLAS_CORETYPE": "Haswell",
              "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}  # fmt: skip


def _train(*args: str, **forced: str) -> str:
    """The md5 from a fresh process whose environment holds only ``forced`` of the pinned settings
    (this process's own were set by the pin)."""
    env = {k: v for k, v in command_env().items() if k not in {*numerics.PINNED, "XLA_FLAGS"}}
    result = subprocess.run(
        [sys.executable, "-m", "tests.training.golden_training", *args],
        cwd=REPO,
        env={**env, **forced},
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return result.stdout.strip().splitlines()[-1]


def test_the_pin_holds_whatever_the_environment_forces() -> None:
    assert {_train(), _train(**AVX2), _train(**SSE41)} == {GOLDEN_MD5}


def test_without_the_pin_the_instruction_set_changes_the_weights() -> None:
    """The control: what the pin overrides does change the numbers, so the test above can fail."""
    forced = [f"{k}={v}" for k, v in SSE41.items()]
    assert _train("--unpinned", *forced) != _train("--unpinned", *[f"{k}={v}" for k, v in AVX2.items()])


def test_numpy_openblas_and_scikit_learn_hold_the_pin_whatever_the_environment_forces() -> None:
    assert {_train("--numpy"), _train("--numpy", **HOST)} == {NUMPY_GOLDEN_MD5}


def _has_avx512() -> bool:
    from numpy._core._multiarray_umath import __cpu_features__

    return bool(__cpu_features__.get("AVX512F"))


@pytest.mark.skipif(not _has_avx512(), reason="the control needs a CPU with AVX-512")
def test_without_the_pin_numpy_s_kernels_and_threads_change_the_numbers() -> None:
    """The control: left to the host, NumPy and OpenBLAS compute differently (kernels, then threads)."""
    host = _train("--numpy", "--unpinned", *[f"{k}={v}" for k, v in HOST.items()])
    avx2_two_threads = _train("--numpy", "--unpinned", *[f"{k}={v}" for k, v in NUMPY_AVX2.items()])
    assert len({host, avx2_two_threads, NUMPY_GOLDEN_MD5}) == 3


def test_importing_the_package_pins_the_numerics() -> None:
    assert numerics.is_pinned()  # pytest loads `pipeline` first (`-p pipeline`): NumPy included
    assert numerics.numpy_follows_pin()
