"""Group commit on SQLite (storage/sqlite_writer.py): transactions that end while others wait
commit together, and each is told it committed only once its writes are in the database; one
that fails takes only its own writes with it, and a COMMIT that fails fails every transaction
it carried."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage.database import Database

AT_ONCE = 20


class Refused(Exception):
    pass


@pytest.fixture
async def kv(tmp_path: Path) -> AsyncIterator[tuple[Database, Path]]:
    path = tmp_path / "kv.sqlite3"
    db = Database(f"sqlite+aiosqlite:///{path}")
    async with db.transaction() as session:
        await session.execute(text("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)"))
        # Checked at COMMIT, not when written: the way to make a group's COMMIT itself fail.
        await session.execute(text("CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER "
                                   "REFERENCES kv(k) DEFERRABLE INITIALLY DEFERRED)"))
    try:
        yield db, path
    finally:
        await db.close()


def rows_seen_elsewhere(path: Path) -> set[int]:
    """What another connection (another process) reads: only what has been committed."""
    with sqlite3.connect(path) as other:
        return {k for (k,) in other.execute("SELECT k FROM kv")}


def commits_on_writer(db: Database) -> list[str]:
    """Every COMMIT the process's writer connection sends to SQLite from now on."""
    writer = db._writer
    assert writer is not None and writer.driver is not None and writer.driver.sqlite is not None
    sent: list[str] = []
    writer.driver.sqlite.set_trace_callback(lambda sql: sent.append(sql) if sql == "COMMIT" else None)
    return sent


async def write(db: Database, path: Path, key: int, *, refuse: bool = False,
                orphan: bool = False) -> bool:
    """One transaction writing `key`; True if it was told it committed, and then its write must be
    in the database for everyone."""
    try:
        async with db.transaction() as session:
            await session.execute(text("INSERT INTO kv VALUES (:k, 'x')"), {"k": key})
            if orphan:
                await session.execute(text("INSERT INTO child VALUES (:k, -1)"), {"k": key})
            await asyncio.sleep(0)  # the others queue for their turn meanwhile
            if refuse:
                raise Refused()
    except (Refused, IntegrityError):
        return False
    assert key in rows_seen_elsewhere(path), "told it committed before its write was in the database"
    return True


async def test_transactions_ending_together_commit_together_and_a_failed_one_loses_only_its_own(
        kv: tuple[Database, Path]) -> None:
    db, path = kv
    sent = commits_on_writer(db)
    told = await asyncio.gather(*(write(db, path, key, refuse=key == 7) for key in range(AT_ONCE)))
    assert told == [key != 7 for key in range(AT_ONCE)]
    assert rows_seen_elsewhere(path) == set(range(AT_ONCE)) - {7}
    assert 1 <= len(sent) < AT_ONCE // 2, f"{len(sent)} commits for {AT_ONCE} transactions"


async def test_a_commit_that_fails_fails_every_transaction_it_carried(kv: tuple[Database, Path]) -> None:
    db, path = kv
    told = await asyncio.gather(*(write(db, path, key, orphan=key == 3) for key in range(AT_ONCE)))
    failed = {key for key, ok in zip(range(AT_ONCE), told, strict=True) if not ok}
    assert 3 in failed and len(failed) > 1, "the failing COMMIT carried only the faulty write"
    assert rows_seen_elsewhere(path) == set(range(AT_ONCE)) - failed
    # The writer goes on: the transactions that failed succeed when tried again.
    assert all(await asyncio.gather(*(write(db, path, key) for key in sorted(failed - {3}))))
    assert rows_seen_elsewhere(path) == set(range(AT_ONCE)) - {3}


async def test_waiting_for_another_connections_write_lock_leaves_the_event_loop_free(
        kv: tuple[Database, Path]) -> None:
    """Another process holds the write lock for half a second: the write waits for it without
    holding up the process's other work (here, the other connection's COMMIT itself)."""
    db, path = kv
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO kv VALUES (100, 'other')")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    asyncio.get_running_loop().call_later(0.5, other.execute, "COMMIT")
    started = asyncio.get_running_loop().time()
    try:
        assert await write(db, path, 1)
    finally:
        ticker.cancel()
        other.close()
    assert asyncio.get_running_loop().time() - started >= 0.45
    assert ticks >= 20, "the event loop stood still while the write waited"
    assert rows_seen_elsewhere(path) == {1, 100}
