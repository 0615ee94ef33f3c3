"""Independent units of a stage (studies, resampled packs, recipes) on every core, with the same numbers.

Each unit is a picklable call with no argument (a ``functools.partial`` of a module-level function).
``run_all`` runs them in this process when one worker is asked for, else in *spawned* worker
processes: a fresh interpreter that imports ``pipeline`` (and so its numerics pin, one thread per
process) before NumPy or TensorFlow. Forking a process that has loaded TensorFlow is unsafe, and a
forked child would inherit whatever its parent had loaded. Results come back in the units' order,
whatever order they finish in, and a unit computes the same numbers in any process, so nothing
depends on the number of workers.

The number of workers: ``PIPELINE_WORKERS`` if set, else ``parallel.workers`` in ``params.yaml``,
else every core this process may use.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import get_context
from typing import TYPE_CHECKING, TypeVar

from pipeline import numerics

if TYPE_CHECKING:
    from logging import _FilterType  # what a logger's ``filters`` hold (typeshed)

ENVIRONMENT = "PIPELINE_WORKERS"
PARENT_POLL_SECONDS = 0.5
T = TypeVar("T")
log = logging.getLogger(__name__)
LoggerSetting = tuple[str, int, list["_FilterType"]]  # a named logger's level and filters


def cores() -> int:
    """The cores this process may run on (its affinity, as ``taskset`` or a container limit sets it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def workers(configured: int | None) -> int:
    """``PIPELINE_WORKERS``, else ``configured`` (``parallel.workers``), else every core."""
    value = os.environ.get(ENVIRONMENT, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(f"{ENVIRONMENT}={value!r}: expected a whole number of processes, 1 or more")
        return int(value)
    return configured if configured is not None else cores()


def run_all(units: Sequence[Callable[[], T]], processes: int, costs: Sequence[float] | None = None) -> list[T]:
    """Each unit's result, in the units' order. With more than one process, the costliest units start
    first (``costs``, relative; the order they were given if none), so that no long unit starts last."""
    processes = min(processes, len(units))
    if processes <= 1:
        return [unit() for unit in units]
    order = sorted(range(len(units)), key=lambda k: -costs[k]) if costs else range(len(units))
    context = get_context("spawn")
    start = (logging.getLogger().getEffectiveLevel(), os.getpid())
    loggers = _logger_settings()
    log.info("%d units on %d worker processes", len(units), processes)
    with ProcessPoolExecutor(processes, mp_context=context, initializer=_start_worker, initargs=start) as pool:
        futures: dict[int, Future[T]] = {k: pool.submit(_run_unit, units[k], loggers) for k in order}
        try:
            return [futures[k].result() for k in range(len(units))]
        except BaseException:
            _stop(pool)
            raise


def _start_worker(level: int, parent: int) -> None:
    """In each worker, before any unit: the parent's log level and format, a check of the pin, and a
    watch on the parent."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    if not numerics.is_pinned():
        raise RuntimeError("a worker process lost the numerics pin: NumPy or TensorFlow loaded before `pipeline`")
    threading.Thread(target=_exit_with, args=(parent,), daemon=True, name="exit-with-parent").start()


def _logger_settings() -> list[LoggerSetting]:
    """The levels and filters set on this process's named loggers (the CLI sets Optuna's), with the
    filters that can be sent to another process."""
    settings = []
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger) and (logger.level != logging.NOTSET or logger.filters):
            settings.append((name, logger.level, [f for f in logger.filters if _can_send(f)]))
    return settings


def _can_send(item: object) -> bool:
    try:
        pickle.dumps(item)
    except Exception:
        return False
    return True


def _run_unit(unit: Callable[[], T], loggers: list[LoggerSetting]) -> T:
    """A unit in a worker, under the parent's logger levels and filters. They are set once the unit is
    loaded, as loading it imports the libraries whose loggers they are, which set their own on import."""
    for name, level, filters in loggers:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        for log_filter in filters:
            logger.addFilter(log_filter)
    return unit()


def _exit_with(parent: int) -> None:
    """End this worker once its parent is gone (SIGKILL, the OOM killer): an orphan would go on running
    its study's trials beside the run that resumes it, and could write a study's outputs twice. Its
    trial is then left running, like any dead worker's, and replaced when the study resumes."""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)


def _stop(pool: ProcessPoolExecutor) -> None:
    """On a failed unit or an interruption: drop the queued units and end the running ones now, rather
    than wait minutes for them (Python 3.14's ``terminate_workers``; 3.11 has no public call for it)."""
    processes = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
