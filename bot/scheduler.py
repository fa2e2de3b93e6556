"""The planner loop: turns the database's deadlines into outbox rows, once a minute; and, once an
hour, purges raw incoming events past their retention (storage/retention.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from bot.outbox import Clock
from deadlines.workdays import WorkingCalendar
from handlers.reminders import plan
from storage.database import Database
from storage.retention import DEFAULT_RETENTION_DAYS, purge_inbox

log = logging.getLogger(__name__)
PURGE_EVERY = 3600.0  # seconds


async def run_planner(db: Database, calendar: WorkingCalendar, clock: Clock, interval: float,
                      stopping: asyncio.Event, retention_days: int = DEFAULT_RETENTION_DAYS) -> None:
    """Several processes may plan at once: outbox keys are unique, so nothing is queued twice."""
    purged_at: float | None = None
    while not stopping.is_set():
        try:
            async with db.transaction() as session:
                result = await plan(session, clock(), calendar)
            if result.queued or result.dropped:
                log.info("planned %d reminders (%d missed ones recorded as dropped)",
                         result.queued, result.dropped)
        except Exception:
            log.exception("planning reminders failed")
        if purged_at is None or time.monotonic() - purged_at >= PURGE_EVERY:
            try:
                purged = await purge_inbox(db, clock(), retention_days)
                purged_at = time.monotonic()
                if purged.deleted or purged.emptied:
                    log.info("inbox: %d events older than %d days deleted, %d applied ones emptied",
                             purged.deleted, retention_days, purged.emptied)
            except Exception:
                log.exception("purging the inbox failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=interval)
