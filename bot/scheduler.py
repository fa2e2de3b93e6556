"""The planner loop: turns the database's deadlines into outbox rows, once a minute."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.outbox import Clock
from deadlines.workdays import WorkingCalendar
from handlers.reminders import plan
from storage.database import Database

log = logging.getLogger(__name__)


async def run_planner(db: Database, calendar: WorkingCalendar, clock: Clock, interval: float,
                      stopping: asyncio.Event) -> None:
    """Several processes may plan at once: outbox keys are unique, so nothing is queued twice."""
    while not stopping.is_set():
        try:
            async with db.transaction() as session:
                result = await plan(session, clock(), calendar)
            if result.queued or result.dropped:
                log.info("planned %d reminders (%d missed ones recorded as dropped)",
                         result.queued, result.dropped)
        except Exception:
            log.exception("planning reminders failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=interval)
