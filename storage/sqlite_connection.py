"""SQLite connections whose calls run on the event loop's own thread.

aiosqlite hands every call (cursor, execute, fetch, close: several per statement) to a worker
thread and wakes the loop with the result. On a local file a call takes microseconds and the
hand-over costs many times more: measured here, an ORM select inside a transaction took 0.82 ms
through the thread and 0.22 ms on the loop's thread. The bot's hot path ran about fifteen
statements per answer (about ten now), so the hand-over, not SQLite, limited answers per second.

A commit that waits for the disk (synchronous FULL or EXTRA) is the exception: it goes to the
worker thread, as the fsync is long beside everything else an answer costs (measured with the
answers benchmark, a quarter of the loop's time), and the loop has other chats' replies to send
meanwhile. The writers queued behind it commit with the next fsync, together
(storage/sqlite_writer.py).

A statement that had to wait for another connection's lock would wait on the loop's thread, and
so hold up the whole process: the one that does, BEGIN IMMEDIATE, waits for it asleep on the
loop instead (storage/database.py). Nothing else waits for a lock: readers never do in WAL mode,
and a writer holds the write lock from its BEGIN IMMEDIATE on."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import aiosqlite
from sqlalchemy.exc import DBAPIError

# aiosqlite's own way: the call queued to the connection's thread, its result awaited.
_ON_WORKER_THREAD: Callable[..., Awaitable[Any]] = aiosqlite.Connection._execute
MEMBER = "kstthc_member"  # the savepoint of one transaction in a group


@contextmanager
def raised_as_sqlalchemy(statement: str) -> Iterator[None]:
    """A statement run on sqlite3 directly: its error raised as SQLAlchemy raises one."""
    try:
        yield
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement, (), error, sqlite3.Error) from error


class LoopThreadConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs each call at once instead of queueing it.

    The worker thread still opens and closes the connection (aiosqlite and SQLAlchemy's adapter
    use its queue for those), which is why the sqlite3 connection is shared across threads;
    the calls never overlap, as every one finishes before the next is made."""

    # Set before each transaction begins (storage/database.py): False when its commit does not
    # wait for the disk (synchronous OFF, or NORMAL in WAL mode), and so is as short as any other.
    commit_waits_for_disk = True
    # The process's writer connection, whose durable transactions commit in groups
    # (storage/sqlite_writer.py): each one a savepoint in the group's open transaction, so that
    # SQLAlchemy's commit of it releases the savepoint and its rollback undoes only its writes.
    groups_writes = False
    group_open = False  # a group's transaction is open (BEGIN IMMEDIATE done, COMMIT not yet)
    in_member = False  # one transaction of the group is under way (its savepoint is open)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    def begin_member(self) -> None:
        self._conn.execute(f"SAVEPOINT {MEMBER}")
        self.in_member = True

    async def commit(self) -> None:
        if self.in_member:
            self.in_member = False
            self._conn.execute(f"RELEASE {MEMBER}")  # its writes stay in the group, for its COMMIT
        else:
            await self._commit()

    async def rollback(self) -> None:
        if self.in_member:
            self.in_member = False
            # Raises if SQLite itself ended the group's transaction (a full disk, an I/O error).
            self._conn.execute(f"ROLLBACK TO {MEMBER}")
            self._conn.execute(f"RELEASE {MEMBER}")
            return
        self.group_open = False
        await super().rollback()

    async def commit_group(self) -> None:
        """COMMIT the group's transaction: every member's writes at once, in one wait for the disk."""
        self.group_open = False
        await self._commit()

    async def _commit(self) -> None:
        if self.commit_waits_for_disk:
            await _ON_WORKER_THREAD(self, self._conn.commit)
        else:
            await self._execute(self._conn.commit)

    @property
    def sqlite(self) -> sqlite3.Connection | None:
        """The sqlite3 connection itself, for statements run directly (storage/direct_sql.py)."""
        return self._connection


def loop_thread_connector(database: str, timeout: float) -> Callable[[], aiosqlite.Connection]:
    """An `async_creator` for SQLAlchemy's aiosqlite dialect."""

    def connect() -> aiosqlite.Connection:
        connection = LoopThreadConnection(
            partial(sqlite3.connect, database, timeout=timeout, check_same_thread=False),
            iter_chunk_size=64,
        )
        connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
        return connection

    return connect
