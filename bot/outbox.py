"""Delivering the outbox: paced under the platform's limits, each message at most once.

A row is claimed, marked "sending" (committed) just before the request, and recorded after
it. A process killed mid-request leaves the row "sending"; when its claim runs out it becomes
"unknown" and is not sent again: the message may have reached the officer."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from deadlines.workdays import WorkingCalendar
from handlers.notifications import notify_failed_delivery
from handlers.reminders import word
from storage.database import Database
from storage.models import OutboxMessage
from storage.outbox import OutboxStatus, Outgoing, claim_due, wrote_outbox

log = logging.getLogger(__name__)


class DeliveryRefused(Exception):
    """The platform will never take this message (blocked bot, bad chat): do not retry."""


class DeliveryUnknown(Exception):
    """The request may have reached the platform (timeout after sending): do not repeat it."""


class DeliveryFailed(Exception):
    """A passing failure (5xx, network, rate limit exhausted): try again later."""


Deliver = Callable[[str, Outgoing], Awaitable[None]]
Clock = Callable[[], datetime]


@dataclass
class Pacer:
    """At most `rate` sends a second overall and one per `per_chat` seconds to any chat."""

    rate: float
    per_chat: float
    _next_any: float = 0.0
    _next_chat: dict[str, float] = field(default_factory=dict)

    async def wait(self, chat_id: str) -> None:
        now = time.monotonic()
        ready = max(self._next_any, self._next_chat.get(chat_id, 0.0))
        if ready > now:
            await asyncio.sleep(ready - now)
            now = time.monotonic()
        interval = 1.0 / self.rate
        # The next slot counts from this one's, not from when the sleep happened to end: the event
        # loop wakes a little late, and adding that to every interval cost 2–3% of the rate at
        # 25/s. Only a send late by a whole interval (a slow round) starts the count afresh.
        start = self._next_any if now - self._next_any < interval else now
        self._next_any = start + interval
        self._next_chat[chat_id] = now + self.per_chat


class OutboxSender:
    def __init__(self, db: Database, channel: str, deliver: Deliver, settings: Settings,
                 calendar: WorkingCalendar, clock: Clock) -> None:
        self.db = db
        self.channel = channel
        self.deliver = deliver
        self.calendar = calendar
        # Stored times are UTC: SQLite keeps a datetime's wall clock and drops its zone, so a
        # clock in Vietnam time (KSTTHC_NOW=…+07:00) compared with UTC rows would be 7 h off.
        self.clock: Clock = lambda: clock().astimezone(UTC)
        self.pacer = Pacer(settings.outbox_rate_per_s, settings.outbox_per_chat_interval)
        self.max_attempts = settings.outbox_max_attempts
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()
        # A message added by this process goes out at once, not at the next round.
        db.after_commit(self._on_commit)

    def _on_commit(self, session: AsyncSession) -> None:
        if wrote_outbox(session):
            self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        stopped = asyncio.ensure_future(stopping.wait())  # ends the wait at once, not a second later
        try:
            while not stopping.is_set():
                try:
                    delivered = await self.drain_once()
                except Exception:
                    log.exception("outbox round failed")
                    delivered = 0
                if delivered:
                    continue
                self._wake.clear()
                woken = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait([woken, stopped], timeout=1.0, return_when=asyncio.FIRST_COMPLETED)
                woken.cancel()
        finally:
            stopped.cancel()

    async def drain_once(self, batch: int = 50) -> int:
        """Deliver what is due now; returns how many rows were handled."""
        now = self.clock()
        async with self.db.transaction() as session:
            await self._give_up_on_interrupted(session, now)
            claimed = [row.id for row in await claim_due(session, self.channel, self.worker, batch, now)]
        for row_id in claimed:
            await self._deliver_one(row_id)
        return len(claimed)

    async def _give_up_on_interrupted(self, session: AsyncSession, now: datetime) -> None:
        await session.execute(update(OutboxMessage).where(
            OutboxMessage.channel == self.channel, OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_until < now,
        ).values(status=OutboxStatus.UNKNOWN, last_error="interrupted while sending"))

    async def _deliver_one(self, row_id: int) -> None:
        now = self.clock()
        async with self.db.transaction() as session:
            row = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == row_id))
            if row is None or row.status != OutboxStatus.PENDING or row.claimed_by != self.worker:
                return
            message = await word(session, row.kind, row.payload, now, self.calendar)
            if message is None:
                row.status, row.last_error = OutboxStatus.DROPPED, "no longer wanted"
                return
            if isinstance(message, datetime):
                row.due_at, row.claimed_by, row.claimed_until = message.astimezone(UTC), None, None
                return
            row.status = OutboxStatus.SENDING
            chat_id = row.chat_id
        await self.pacer.wait(chat_id)
        status, error = OutboxStatus.SENT, None
        try:
            await self.deliver(chat_id, message)
        except DeliveryRefused as refused:
            status, error = OutboxStatus.FAILED, str(refused)
        except DeliveryUnknown as unknown:
            status, error = OutboxStatus.UNKNOWN, str(unknown)
        except DeliveryFailed as failed:
            status, error = OutboxStatus.PENDING, str(failed)
        await self.record(row_id, status, error)

    async def record(self, row_id: int, status: str, error: str | None) -> None:
        now = self.clock()
        async with self.db.transaction() as session:
            row = await session.scalar(select(OutboxMessage).where(OutboxMessage.id == row_id))
            if row is None:
                return
            row.attempts += 1
            row.claimed_by = row.claimed_until = None
            row.last_error = error
            if status == OutboxStatus.PENDING and row.attempts >= self.max_attempts:
                status = OutboxStatus.FAILED
            if status == OutboxStatus.PENDING:
                row.due_at = now + timedelta(seconds=min(600, 5 * 2 ** row.attempts))
            row.status = status
            if status == OutboxStatus.SENT:
                row.sent_at = now
            if status == OutboxStatus.FAILED:
                await notify_failed_delivery(session, row)
