"""Connecting to the database: SQLite (WAL, busy timeout, immediate write transactions) or
PostgreSQL; one session per incoming event and the one place that commits."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import MissingGreenlet, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only

from storage.schema_version import is_current
from storage.sqlite_connection import LoopThreadConnection, loop_thread_connector, raised_as_sqlalchemy
from storage.sqlite_writer import SqliteWriter

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Seconds between tries for another connection's write lock: SQLite's own busy handler's steps.
BUSY_DELAYS = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05, 0.1)
BEGIN_IMMEDIATE = "BEGIN IMMEDIATE"


# Set for a transaction whose loss in a power cut costs nothing that matters (see
# Database.transaction(durable=False)).
_not_durable: ContextVar[bool] = ContextVar("not_durable", default=False)
_read_only: ContextVar[bool] = ContextVar("read_only", default=False)
_SYNCHRONOUS = "kstthc_synchronous"
# The levels at which a commit in WAL mode waits for the disk (NORMAL syncs only at checkpoints).
SYNCING_COMMITS = frozenset({"FULL", "EXTRA"})
NOT_DURABLE_POSTGRES = text("SET LOCAL synchronous_commit TO OFF")


# Schema upgrades and first-run seeding, one process at a time (any constant key will do).
SETUP_LOCK = text("SELECT pg_advisory_xact_lock(2021012001)")


async def take_setup_lock(session: AsyncSession) -> None:
    """For the rest of the transaction, the only process setting the database up (on SQLite,
    the immediate transaction is that already)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(SETUP_LOCK)


def _prepare_sqlite(engine: AsyncEngine, synchronous: str) -> None:
    """WAL lets readers and a writer work at once; BEGIN IMMEDIATE takes the write lock at the
    start of every transaction, so two sessions never deadlock upgrading a read lock and the
    busy timeout (not "database is locked") decides who waits."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        driver = connection.connection.driver_connection
        grouped = isinstance(driver, LoopThreadConnection) and driver.groups_writes
        if grouped and driver.group_open:
            with raised_as_sqlalchemy("SAVEPOINT"):
                driver.begin_member()  # a later member of the group
            return
        # The safety level cannot change inside a transaction: set before it begins, per
        # connection, and only when it differs from the last one set there.
        wanted = "OFF" if _not_durable.get() else synchronous
        if connection.info.get(_SYNCHRONOUS) != wanted:
            connection.exec_driver_sql(f"PRAGMA synchronous={wanted}")
            connection.info[_SYNCHRONOUS] = wanted
            if isinstance(driver, LoopThreadConnection):
                driver.commit_waits_for_disk = wanted in SYNCING_COMMITS
        # A read-only peek (Database.reading) neither waits for the write lock nor holds it.
        begin = "BEGIN" if _read_only.get() else BEGIN_IMMEDIATE
        sqlite = driver.sqlite if isinstance(driver, LoopThreadConnection) else None
        if sqlite is None:
            connection.exec_driver_sql(begin)
            return
        # Straight to sqlite3, whose calls run on this thread anyway: through the connection,
        # SQLAlchemy's statement machinery cost every transaction more than the BEGIN itself.
        if _read_only.get():
            with raised_as_sqlalchemy(begin):
                sqlite.execute(begin)
        else:
            _begin_immediate(sqlite)
        if grouped and not _not_durable.get():  # the first member of a group
            driver.group_open = True
            with raised_as_sqlalchemy("SAVEPOINT"):
                driver.begin_member()


def _begin_immediate(sqlite: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, waiting for another connection's write lock the way SQLite's busy
    timeout would, but asleep on the event loop rather than in sqlite3: a group of this
    process's transactions (storage/sqlite_writer.py) holds the lock across turns of the loop,
    and a wait that blocked the loop would hold up whatever holds the lock in this process."""
    waited = 0.0
    sqlite.execute("PRAGMA busy_timeout=0")
    try:
        for attempt in itertools.count():
            try:
                with raised_as_sqlalchemy(BEGIN_IMMEDIATE):
                    sqlite.execute(BEGIN_IMMEDIATE)
                return
            except OperationalError as error:
                code = getattr(error.orig, "sqlite_errorcode", 0)
                if code & 0xFF != sqlite3.SQLITE_BUSY or waited >= SQLITE_BUSY_TIMEOUT_MS / 1000:
                    raise  # SQLITE_BUSY's extended codes (SQLITE_BUSY_RECOVERY) wait too
            delay = BUSY_DELAYS[min(attempt, len(BUSY_DELAYS) - 1)]
            try:
                await_only(asyncio.sleep(delay))
            except MissingGreenlet:  # not called from the event loop's side: sleep here
                time.sleep(delay)
            waited += delay
    finally:
        sqlite.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


def _create_private(path: Path) -> None:
    """The database file owner-only (0600; SQLite gives its -wal and -shm files the same mode),
    in a folder made owner-only (0700) if we create it, whatever the umask."""
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    for folder in missing:
        os.chmod(folder, 0o700)
    # Never open an existing database here: closing any descriptor of a file drops every POSIX
    # lock this process holds on it, SQLite's included (another engine may have it open).
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    with contextlib.suppress(PermissionError):  # not ours: leave it to its owner
        os.chmod(path, 0o600)


def create_engine(
    url: str, *, sqlite_synchronous: str = "FULL", schema: str | None = None, echo: bool = False
) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            _create_private(Path(database).expanduser())
        engine = create_async_engine(url, echo=echo, hide_parameters=True,
                                     async_creator=loop_thread_connector(
            str(Path(database).expanduser()) if database and database != ":memory:" else ":memory:",
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        ))
        _prepare_sqlite(engine, sqlite_synchronous)
        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["server_settings"] = {"search_path": schema}
    return create_async_engine(url, echo=echo, pool_pre_ping=True, connect_args=connect_args,
                               hide_parameters=True)


class Database:
    """An engine and its sessions; `transaction()` is the one place that commits."""

    def __init__(
        self, url: str, *, sqlite_synchronous: str = "FULL", schema: str | None = None
    ) -> None:
        self.url = url
        self.engine = create_engine(url, sqlite_synchronous=sqlite_synchronous, schema=schema)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite lets one writer in at a time: this process's write transactions take turns on one
        # connection, and commit in groups (storage/sqlite_writer.py).
        self._writer = (SqliteWriter(self.engine, self._sessions)
                        if self.engine.dialect.name == "sqlite" else None)
        self._after_commit: list[Callable[[AsyncSession], None]] = []

    def after_commit(self, listener: Callable[[AsyncSession], None]) -> None:
        """Call `listener` with the session of every transaction once it has committed (to act
        on what the session's `info` says the transaction wrote)."""
        self._after_commit.append(listener)

    @asynccontextmanager
    async def transaction(self, durable: bool = True) -> AsyncIterator[AsyncSession]:
        """A session for one incoming event: committed if the block succeeds, else rolled back.

        `durable=False` for a write that may be lost in a power cut without harm (which message
        to edit later): its commit does not wait for the disk, which costs a hundred times
        more than the write itself. A later durable commit makes it durable too."""
        token = _not_durable.set(not durable)
        try:
            if self._writer is None:
                async with self._sessions() as session:
                    if not durable:
                        await session.execute(NOT_DURABLE_POSTGRES)
                    yield session
                    await session.commit()
            else:
                async with self._writer.transaction() as session:
                    yield session
        finally:
            _not_durable.reset(token)
        for listener in self._after_commit:
            listener(session)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session that only reads, and is rolled back: on SQLite a deferred transaction,
        which reads the last commit (WAL) without waiting for the write lock or holding it, so
        that a short look never queues behind another chat's turn."""
        token = _read_only.set(True)
        try:
            async with self._sessions() as session:
                yield session
                await session.rollback()
        finally:
            _read_only.reset(token)

    async def upgrade(self) -> None:
        """Bring the schema to the newest migration (creates it on an empty database). Processes
        starting at once on one PostgreSQL database take turns; the later ones find it done."""
        async with self.engine.connect() as connection:
            if await is_current(connection):
                return  # the usual restart: alembic not even loaded
        from storage.migrate import upgrade

        async with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(SETUP_LOCK)
            await connection.run_sync(upgrade)

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.close()
        await self.engine.dispose()
