"""Raw incoming events: emptied once processed, deleted after the retention period (SQLite, and
PostgreSQL when configured); the planner loop does it. About 1 s per database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.scheduler import run_planner
from deadlines.workdays import WorkingCalendar
from storage.database import Database
from storage.models import InboxUpdate
from storage.retention import purge_inbox

NOW = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)


async def fill(db: Database) -> None:
    """Events of every kind: pending, applied (recent, old), set aside (recent, old)."""
    def event(n: int, processed_days_ago: float | None, failed: bool = False) -> InboxUpdate:
        processed = None if processed_days_ago is None else NOW - timedelta(days=processed_days_ago)
        return InboxUpdate(channel="telegram", update_id=str(n), chat_key="42", seq=n,
                           payload=f'{{"text": "Bí mật số {n}"}}', received_at=NOW - timedelta(days=40),
                           processed_at=processed, failed_at=processed if failed else None,
                           failure="OperationalError" if failed else None)

    async with db.transaction() as session:
        session.add_all([event(1, 31), event(2, 29), event(3, 0.1), event(4, None), event(5, 45, True),
                         event(6, 2, True), *(event(100 + n, 1) for n in range(25))])


async def rows(db: Database) -> dict[str, str]:
    async with db.transaction() as session:
        found = await session.execute(select(InboxUpdate.update_id, InboxUpdate.payload))
        return {update_id: payload for update_id, payload in found.all()}


async def test_purge_empties_applied_and_deletes_old(database_url: tuple[str, str | None]) -> None:
    url, schema = database_url
    db = Database(url, schema=schema)
    await db.upgrade()
    try:
        await fill(db)
        purged = await purge_inbox(db, NOW, days=30, batch=4)  # small batches: the loop is exercised
        kept = await rows(db)
        assert purged.deleted == 2 and purged.emptied == 28
        assert "1" not in kept and "5" not in kept  # processed more than 30 days ago: gone
        assert kept["2"] == kept["3"] == kept["6"] == "" and all(kept[str(100 + n)] == "" for n in range(25))
        assert "Bí mật" in kept["4"]  # not yet applied: needed
        assert await purge_inbox(db, NOW, days=30) == type(purged)()  # nothing more to do
        await purge_inbox(db, NOW + timedelta(days=30), days=30)
        assert set(await rows(db)) == {"4"}
    finally:
        await db.close()


async def test_the_planner_loop_purges(database_url: tuple[str, str | None]) -> None:
    url, schema = database_url
    db = Database(url, schema=schema)
    await db.upgrade()
    try:
        await fill(db)
        stopping = asyncio.Event()
        loop = asyncio.create_task(run_planner(db, WorkingCalendar(), lambda: NOW, 0.05, stopping,
                                               retention_days=7))
        for _ in range(100):
            kept = await rows(db)
            if set(kept) == {"3", "4", "6", *(str(100 + n) for n in range(25))} and kept["3"] == "":
                break
            await asyncio.sleep(0.05)
        stopping.set()
        await asyncio.wait_for(loop, 5)
        assert kept["3"] == kept["6"] == "" and "Bí mật" in kept["4"] and "2" not in kept
    finally:
        await db.close()
