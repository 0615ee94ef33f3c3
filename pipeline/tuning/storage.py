"""The Optuna storage every study lives in: a shared database in team mode, else SQLite, with
heartbeats that fail a dead worker's trial and queue a ticket in its place."""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import optuna
import sqlalchemy
from optuna.storages import RDBStorage

from pipeline.config import OptimizeConfig
from pipeline.tuning.tickets import replace_with_ticket

SQLITE_TIMEOUT_SECONDS = 120


def storage_url(opt: OptimizeConfig, studies_dir: Path) -> str:
    """``optimize.storage`` (a shared database in team mode), else SQLite in ``studies_dir``."""
    if opt.storage:
        return opt.storage
    folder = studies_dir.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'optuna.db'}"


def open_storage(opt: OptimizeConfig, studies_dir: Path) -> RDBStorage:
    beat = opt.heartbeat_seconds
    url = storage_url(opt, studies_dir)
    sqlite = url.startswith("sqlite")
    engine_kwargs = {"connect_args": {"timeout": SQLITE_TIMEOUT_SECONDS}} if sqlite else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            heartbeat_interval=beat,
            grace_period=3 * beat,
            heartbeat_stale_trial_callback=replace_with_ticket,
        )
    if sqlite:
        _serialize_sqlite_transactions(storage.engine)
    return storage


def _serialize_sqlite_transactions(engine: sqlalchemy.engine.Engine) -> None:
    """Make every SQLite transaction take the write lock when it begins.

    Optuna hands a queued trial to one worker by reading it ``FOR UPDATE`` and then
    marking it running. SQLite ignores ``FOR UPDATE``, so two processes could both read
    the trial as waiting and both run it. ``BEGIN IMMEDIATE`` closes that window (the
    recipe SQLAlchemy documents for pysqlite); PostgreSQL and MySQL need nothing.
    """

    @sqlalchemy.event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.isolation_level = None

    @sqlalchemy.event.listens_for(engine, "begin")
    def _begin_immediate(connection: sqlalchemy.engine.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections opened before the listeners would not have them
