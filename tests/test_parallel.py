"""The process pool: results in the units' order whatever order they finish in, the numerics pin in
every worker, failures that surface, and the number of workers from the environment or params."""

from __future__ import annotations

import functools
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline import numerics, parallel

REPO = Path(__file__).resolve().parents[1]


def _finish_after(seconds: float, value: int) -> tuple[int, int]:
    time.sleep(seconds)
    return value, os.getpid()


def _worker_state() -> dict[str, object]:
    """What a unit sees in its process: the pin, NumPy's and OpenBLAS's state, whether TensorFlow came late."""
    import numpy  # noqa: F401  (loaded here, after `pipeline`, as a stage's unit loads it)

    return {
        "pinned": numerics.is_pinned(),
        "threads": os.environ.get("TF_NUM_INTRAOP_THREADS"),
        "pid": os.getpid(),
        "tensorflow_loaded": "tensorflow" in sys.modules,
    }


def _filter_names(logger: str) -> list[str]:
    return [getattr(f, "__name__", type(f).__name__) for f in logging.getLogger(logger).filters]


def _keep_all(record: logging.LogRecord) -> bool:
    return True


def _fail(message: str) -> None:
    raise ValueError(message)


def _note_pid_and_sleep(folder: str) -> None:
    (Path(folder) / str(os.getpid())).touch()
    time.sleep(120)


ORPHANS = """
import functools, sys
from pipeline import parallel
from tests.test_parallel import _note_pid_and_sleep
parallel.run_all([functools.partial(_note_pid_and_sleep, sys.argv[1])] * 2, processes=2)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_results_come_in_the_units_order_not_the_order_they_finish() -> None:
    # the first unit finishes last: gathering by completion would put it at the end
    units = [functools.partial(_finish_after, delay, k) for k, delay in enumerate((1.5, 0.0, 0.3))]
    results = parallel.run_all(units, processes=2)
    assert [value for value, _ in results] == [0, 1, 2]
    assert len({pid for _, pid in results} - {os.getpid()}) == 2  # two worker processes, not this one


def test_the_costliest_units_start_first_and_still_come_back_in_order() -> None:
    units = [functools.partial(_finish_after, 0.0, k) for k in range(4)]
    results = parallel.run_all(units, processes=2, costs=[1, 1, 1, 9])
    assert [value for value, _ in results] == [0, 1, 2, 3]


def test_one_process_runs_the_units_here() -> None:
    results = parallel.run_all([functools.partial(_finish_after, 0.0, 7)], processes=4)  # one unit: no pool
    assert results == [(7, os.getpid())]


def test_every_worker_keeps_the_numerics_pin() -> None:
    states = parallel.run_all([_worker_state, _worker_state], processes=2)
    assert all(state["pinned"] for state in states)
    assert {state["threads"] for state in states} == {str(numerics.THREADS)}
    assert not any(state["tensorflow_loaded"] for state in states)  # a spawned worker starts clean
    assert all(state["pid"] != os.getpid() for state in states)


def test_units_log_with_the_parent_s_levels_and_filters_even_when_loading_them_resets_a_level() -> None:
    """The CLI quiets Optuna, whose import sets its logger to INFO: a unit loaded in a worker imports it,
    and still logs as the parent does (without the parent's settings applied after loading: INFO)."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("tests.parallel").addFilter(_keep_all)
    try:
        levels = parallel.run_all([optuna.logging.get_verbosity] * 2, processes=2)
        filters = parallel.run_all([functools.partial(_filter_names, "tests.parallel")] * 2, processes=2)
    finally:
        optuna.logging.set_verbosity(before)
        logging.getLogger("tests.parallel").removeFilter(_keep_all)
    assert levels == [optuna.logging.WARNING] * 2
    assert filters == [["_keep_all"]] * 2


def test_a_failing_unit_fails_the_run_with_its_error() -> None:
    units = [functools.partial(_finish_after, 0.0, 0), functools.partial(_fail, "unit 1 broke")]
    with pytest.raises(ValueError, match="unit 1 broke"):
        parallel.run_all(units, processes=2)


def test_workers_end_when_their_parent_is_killed(tmp_path: Path) -> None:
    """SIGKILL leaves the parent no chance to stop them: each worker notices and ends within a second
    (without the watch they sleep on, and an orphan would go on running its study)."""
    parent = subprocess.Popen([sys.executable, "-c", ORPHANS, str(tmp_path)], cwd=REPO)
    deadline = time.monotonic() + 60
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = [int(path.name) for path in tmp_path.iterdir()]
    assert len(workers) == 2 and all(_alive(pid) for pid in workers)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    time.sleep(3 * parallel.PARENT_POLL_SECONDS + 1)
    survivors = [pid for pid in workers if _alive(pid)]
    for pid in survivors:  # leave no orphan behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not survivors


def test_the_environment_overrides_params_which_override_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(parallel.ENVIRONMENT, raising=False)
    assert parallel.workers(None) == parallel.cores() >= 1
    assert parallel.workers(3) == 3
    monkeypatch.setenv(parallel.ENVIRONMENT, "2")
    assert parallel.workers(3) == 2
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv(parallel.ENVIRONMENT, bad)
        with pytest.raises(ValueError, match=parallel.ENVIRONMENT):
            parallel.workers(None)
