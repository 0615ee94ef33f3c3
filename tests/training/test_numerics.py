"""Pinned numerics: the same weights whatever instruction set the environment asks for.

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

AVX2 = {"ONEDNN_MAX_CPU_ISA": "AVX2", "XLA_FLAGS": "--xla_cpu_max_isa=AVX2"}
SSE41 = {"ONEDNN_MAX_CPU_ISA": "SSE41", "XLA_FLAGS": "--xla_cpu_max_isa=SSE4_2"}


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


def test_importing_the_package_pins_the_numerics() -> None:
    assert numerics.is_pinned()
