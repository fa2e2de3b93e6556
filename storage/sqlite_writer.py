"""The process's write transactions on SQLite: one at a time, on one connection, committed in
groups.

SQLite lets one writer in at a time, and a commit that waits for the disk (synchronous FULL)
holds the write lock until the disk has it: the transactions queued behind it waited for the
disk one after another, and that wait, more than the work, bounded how many answers a process
applied per second. So, as PostgreSQL does with its WAL flushes, a transaction that ends while
others wait for their turn does not commit: its writes stay in the group's open transaction (its
savepoint released) and the turn passes on; the last of the group commits for all of them, in
one wait for the disk, and only then is each told that it committed. Each transaction is still
a session of its own, and its failure undoes only its own writes (its savepoint rolled back).
If the group's COMMIT fails, every transaction in it fails, and none is told it committed.

Within the process, transactions queue here before they reach SQLite, which hands the turn over
at once; between processes, SQLite's lock and busy timeout still decide."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from storage.sqlite_connection import LoopThreadConnection, raised_as_sqlalchemy

log = logging.getLogger(__name__)
# Transactions per COMMIT at most: the group's first one is told it committed only with the last.
GROUP_MAX = 16


async def _committed(driver: LoopThreadConnection) -> None:
    """The group's COMMIT, its failure raised as SQLAlchemy raises a failed commit."""
    with raised_as_sqlalchemy("COMMIT"):
        await driver.commit_group()


def _tell_failed(group: _Group, error: BaseException) -> None:
    """The members waiting for the group's COMMIT raise: its error, or, if the one committing
    was cancelled, an error of their own (a cancellation would end their tasks, not fail them)."""
    if not group.committed.done():
        group.committed.set_exception(
            error if isinstance(error, Exception) else RuntimeError("the group's COMMIT was interrupted"))


@dataclass
class _Group:
    committed: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())
    members: int = 0  # transactions whose writes are in the group's open transaction


class SqliteWriter:
    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.engine = engine
        self.sessions = sessions
        self.turn = asyncio.Lock()
        self.queued = 0  # transactions waiting for the turn
        # The connection every write transaction of this process uses in its turn: taking one
        # from the pool and giving it back cost each transaction a third of its own cost.
        # Replaced after a transaction that failed, whatever state that left it in.
        self.connection: AsyncConnection | None = None
        self.driver: LoopThreadConnection | None = None
        self.group: _Group | None = None  # the open group, with members told to wait for it
        self.closing: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        await self._take_turn()
        group: _Group | None = None
        try:
            connection, driver = await self._connect()
            session = self.sessions(bind=connection)
            try:
                yield session
                await session.commit()  # in a group, the savepoint released
            except BaseException:
                await self._failed(session)
                raise
            # Closed here rather than by `async with session`, which closes in a task of its
            # own so that a cancellation cannot cut the close short: on SQLite the close never
            # waits (storage/sqlite_connection.py runs each call at once), and the task cost
            # every event a turn of the loop.
            await session.close()
            if driver.group_open:
                group = self.group or _Group()
                group.members += 1
                if self.queued and group.members < GROUP_MAX:
                    self.group = group  # the next in turn carries it on
                else:
                    await self._commit_group(group)
                    group = None
        finally:
            self.turn.release()
        if group is not None:
            # Shielded: one member giving up waiting must not cancel the others' commit.
            await asyncio.shield(group.committed)

    async def _take_turn(self) -> None:
        self.queued += 1
        try:
            await self.turn.acquire()
        finally:
            self.queued -= 1
            if self.group is not None and not self.queued and not self.turn.locked():
                # The one the group was left open for gave up waiting: commit it for the others.
                self.closing = asyncio.create_task(self._commit_left_group())

    async def _connect(self) -> tuple[AsyncConnection, LoopThreadConnection]:
        if self.connection is None or self.driver is None:
            connection = await self.engine.connect()
            driver = (await connection.get_raw_connection()).driver_connection
            assert isinstance(driver, LoopThreadConnection)
            driver.groups_writes = True
            self.connection, self.driver = connection, driver
        return self.connection, self.driver

    async def _commit_group(self, group: _Group) -> None:
        """COMMIT, and tell the members waiting whether it took."""
        assert self.driver is not None
        self.group = None
        try:
            await _committed(self.driver)
        except BaseException as error:
            if group.members > 1:  # others wait for it
                _tell_failed(group, error)
            await self._recycle()
            raise
        group.committed.set_result(None)

    async def _failed(self, session: AsyncSession) -> None:
        """A member failed: its own writes are undone, and the group's earlier members still
        commit if SQLite kept their writes (it ends the whole transaction on some errors, a full
        disk, an I/O error). The connection is then replaced, whatever state it is in."""
        group, self.group = self.group, None
        driver = self.driver
        try:
            await session.close()  # rolls its savepoint back
            if group is not None:
                assert driver is not None and driver.sqlite is not None
                if not (driver.group_open and driver.sqlite.in_transaction):
                    raise RuntimeError("SQLite ended the group's transaction")
                await _committed(driver)
                group.committed.set_result(None)
        except BaseException as error:
            if group is not None:
                _tell_failed(group, error)
            if not isinstance(error, Exception):
                raise
        finally:
            await self._recycle()

    async def _recycle(self) -> None:
        connection, self.connection = self.connection, None
        driver, self.driver = self.driver, None
        if driver is not None:
            driver.groups_writes = driver.group_open = driver.in_member = False
        if connection is not None:
            await connection.close()  # back to the pool, which rolls back what is left

    async def _commit_left_group(self) -> None:
        try:
            async with self.turn:
                if self.group is not None:
                    await self._commit_group(self.group)
        except Exception as error:  # told to the members waiting for it
            log.warning("committing a group of transactions failed: %s", type(error).__name__)

    async def close(self) -> None:
        async with self.turn:
            if self.group is not None:
                with contextlib.suppress(Exception):
                    await self._commit_group(self.group)
            await self._recycle()
