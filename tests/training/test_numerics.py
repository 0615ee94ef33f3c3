"""Pinned numerics: the same numbers on every x86-64 machine, whatever the environment asks for.

Each case runs in a fresh process (TensorFlow reads its settings once, at start) through
``tests/training/golden_training.py`` or ``tests/training/fingerprint.py``. Other CPUs are
checked by running the same process under ``qemu-x86_64 -cpu MODEL`` (Debian's qemu-user),
which gives it another processor's CPUID (vendor, model, cache sizes) while the arithmetic
stays IEEE: whatever in TensorFlow, XLA, Eigen or NumPy reads CPUID to choose how to compute
shows up as other bits there.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

from pipeline import numerics
from tests.conftest import REPO
from tests.repo_copy import command_env
from tests.training import fingerprint

pytestmark = pytest.mark.slow

# md5 of the float32 weights of two seeds of the baseline network after 5 epochs on seeded synthetic
# data, computed on x86-64 with the pinned settings. A machine that computes differently fails here.
GOLDEN_MD5 = "ea2e7736b14979209044fe9cf5b3dddc"
# md5 of what NumPy, OpenBLAS and scikit-learn compute on seeded data (golden_training --numpy)
NUMPY_GOLDEN_MD5 = "e8cc39591678eaccee4b153d339f1149"
# processors qemu-user presents (CPUID) for the cross-machine check: Intel AVX2-only, AMD Zen 3
OTHER_CPUS = ("Haswell-v4", "EPYC-Milan-v1")

AVX2 = {"ONEDNN_MAX_CPU_ISA": "AVX2", "XLA_FLAGS": "--xla_cpu_max_isa=AVX2"}
SSE41 = {"ONEDNN_MAX_CPU_ISA": "SSE41", "XLA_FLAGS": "--xla_cpu_max_isa=SSE4_2"}
# what an AVX-512 machine with more cores would use left alone: OpenBLAS's SkylakeX kernels, NumPy's
# AVX-512 loops, two threads
HOST = {"OPENBLAS_CORETYPE": "SkylakeX", "NPY_DISABLE_CPU_FEATURES": "", "OPENBLAS_NUM_THREADS": "2",
        "OMP_NUM_THREADS": "2"}  # fmt: skip
NUMPY_AVX2 = {"NPY_DISABLE_CPU_FEATURES": numerics.NUMPY_AVX512, "OPENBLAS_CORETYPE": "Haswell",
              "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}  # fmt: skip


def _run(module: str, *args: str, cpu: str | None = None, **forced: str) -> str:
    """What a fresh process prints, its environment holding only ``forced`` of the pinned settings
    (this process's own were set by the pin); under ``qemu-x86_64 -cpu CPU`` if given."""
    env = {k: v for k, v in command_env().items() if k not in {*numerics.PINNED, "XLA_FLAGS"}}
    command = [sys.executable, "-m", module, *args]
    if cpu is not None:
        command = [_qemu(), "-cpu", cpu, *command]
    result = subprocess.run(command, cwd=REPO, env={**env, **forced}, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _train(*args: str, cpu: str | None = None, **forced: str) -> str:
    return _run("tests.training.golden_training", *args, cpu=cpu, **forced).strip().splitlines()[-1]


def _qemu() -> str:
    """Debian's qemu-user (7.2 or later: its TCG emulates AVX2 and FMA), which scripts/setup.sh installs
    as root; required in CI, else a skip."""
    found = shutil.which("qemu-x86_64")
    version = subprocess.run([found, "--version"], capture_output=True, text=True).stdout if found else ""
    major_minor = tuple(int(n) for n in re.findall(r"version (\d+)\.(\d+)", version)[0]) if version else (0, 0)
    if major_minor < (7, 2):
        message = f"qemu-x86_64 7.2 or later needed (found: {version.splitlines()[0] if version else 'none'}): "
        message += "`apt-get install qemu-user` (bash scripts/setup.sh does it as root)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


# What one emulated process takes per processor: qemu's TCG makes TensorFlow's start and XLA's compilations
# take minutes, so the tests on a processor share one process (cached per test module, which xdist's
# loadgroup keeps in one worker).
EMULATED_PARTS = ("products", "inference", "golden", "rmsprop")


@functools.cache
def _taken(cpu: str | None, parts: str) -> dict:
    return json.loads(_run("tests.training.fingerprint", f"--only={parts}", cpu=cpu))


def _what_differs(
    cpu: str | None = None, parts: str = ",".join(fingerprint.PARTS), only: tuple[str, ...] | None = None
) -> tuple[list[str], str]:
    """The primitives (of ``only``'s parts, default all taken) whose fingerprint differs from the committed
    reference, on this machine or under ``qemu -cpu CPU``, and a message naming them and the machine (under
    qemu, the host's /proc/cpuinfo and lscpu, but the emulated CPUID's vector features)."""
    taken = _taken(cpu, parts)
    reference = json.loads(fingerprint.REFERENCE.read_text())
    keys = [k for k in taken["results"] if k in reference["results"] and (only is None or _part(k) in only)]
    differing = fingerprint.differences(taken["results"], {k: reference["results"][k] for k in keys})
    where = f"qemu -cpu {cpu} on the host" if cpu else "this machine"
    return differing, (
        f"{where}: {taken['machine']}\nreference taken on: {reference['machine']}\n"
        f"primitives that differ from tests/training/numerics_reference.json: {differing or 'none'}"
    )


def test_the_pin_holds_whatever_the_environment_forces() -> None:
    found = {_train(), _train(**AVX2), _train(**SSE41)}
    assert found == {GOLDEN_MD5}, f"golden training gave {found}, committed {GOLDEN_MD5}\n{_what_differs()[1]}"


def test_every_primitive_computes_as_the_reference() -> None:
    """Each primitive's fingerprint equals the committed one; a failure names those that differ."""
    differing, message = _what_differs()
    assert not differing, message


def _part(key: str) -> str:
    """The part a result key belongs to: ``products``, ``inference`` or ``golden`` (those the emulated
    tests select), else the key's prefix."""
    if key.startswith("xla/dense_"):
        return "products"
    if key in ("xla/inference_ensemble", "xla/calibration"):
        return "inference"
    return {"project/golden_training_weights": "golden"}.get(key, key.split("/")[0])


def _emulated(cpu: str) -> dict[str, str]:
    return _taken(cpu, ",".join(EMULATED_PARTS))["results"]


@pytest.mark.parametrize("cpu", OTHER_CPUS)
def test_another_processor_trains_the_same_weights(cpu: str) -> None:
    """The golden training under another processor's CPUID (emulated) gives the committed weights."""
    found = _emulated(cpu)["project/golden_training_weights"]
    message = _what_differs(cpu, ",".join(EMULATED_PARTS), only=("products", "inference", "golden"))[1]
    assert found == GOLDEN_MD5[:12], f"under qemu -cpu {cpu}: {found}, committed {GOLDEN_MD5[:12]}\n{message}"


@pytest.mark.parametrize("cpu", OTHER_CPUS)
def test_another_processor_computes_the_wide_products_and_the_inference_pass_alike(cpu: str) -> None:
    """The golden network is small (no product side reaches 48, where Eigen's blocking would start to
    follow the cache sizes): the dense product and its gradients at the wide shapes training meets, and
    the served pass, under another processor's CPUID, against the committed reference."""
    differing, message = _what_differs(cpu, ",".join(EMULATED_PARTS), only=("products", "inference"))
    assert not differing, message


def test_the_emulated_processor_exposes_cpu_dependent_arithmetic() -> None:
    """The control: Keras's own RMSprop (XLA's approximate rsqrt, whose last bits are the chip's)
    trains other weights natively than under qemu; the project's RMSprop trains the same."""
    native, emulated = _taken(None, "rmsprop")["results"], _emulated(OTHER_CPUS[0])
    assert native["control/rmsprop_stock"] != emulated["control/rmsprop_stock"]
    assert native["control/rmsprop_project"] == emulated["control/rmsprop_project"]


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
