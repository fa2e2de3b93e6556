"""Delivering the outbox: paced under the platform's limits, each message once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from bot.config import Settings
from storage.database import Database
from storage.models import OutboxMessage, utcnow
from storage.outbox import OutboxStatus, Outgoing, claim_due

log = logging.getLogger(__name__)


class DeliveryRefused(Exception):
    """The platform will never take this message (blocked bot, bad chat): do not retry."""


class DeliveryUnknown(Exception):
    """The request may have reached the platform (timeout after sending): do not repeat it."""


class DeliveryFailed(Exception):
    """A passing failure (5xx, network): try again later."""


Deliver = Callable[[str, Outgoing], Awaitable[None]]


@dataclass
class Pacer:
    """At most `rate` sends a second overall and one per `per_chat` seconds to any chat."""

    rate: float
    per_chat: float
    _next_any: float = 0.0
    _next_chat: dict[str, float] | None = None

    async def wait(self, chat_id: str) -> None:
        chats = self._next_chat if self._next_chat is not None else {}
        self._next_chat = chats
        now = time.monotonic()
        ready = max(self._next_any, chats.get(chat_id, 0.0))
        if ready > now:
            await asyncio.sleep(ready - now)
            now = time.monotonic()
        self._next_any = max(now, self._next_any) + 1.0 / self.rate
        chats[chat_id] = now + self.per_chat


class OutboxSender:
    def __init__(self, db: Database, channel: str, deliver: Deliver, settings: Settings) -> None:
        self.db = db
        self.channel = channel
        self.deliver = deliver
        self.pacer = Pacer(settings.outbox_rate_per_s, settings.outbox_per_chat_interval)
        self.max_attempts = settings.outbox_max_attempts
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                delivered = await self.drain_once()
            except Exception:
                log.exception("outbox round failed")
                delivered = 0
            if delivered:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=1.0)

    async def drain_once(self, batch: int = 50) -> int:
        async with self.db.transaction() as session:
            claimed = [(row.id, row.chat_id, row.payload)
                       for row in await claim_due(session, self.channel, self.worker, batch)]
        for row_id, chat_id, payload in claimed:
            await self.pacer.wait(chat_id)
            status, error = OutboxStatus.SENT, None
            try:
                await self.deliver(chat_id, Outgoing.from_json(payload))
            except DeliveryRefused as refused:
                status, error = OutboxStatus.FAILED, str(refused)
            except DeliveryUnknown as unknown:
                status, error = OutboxStatus.UNKNOWN, str(unknown)
            except DeliveryFailed as failed:
                status, error = OutboxStatus.PENDING, str(failed)
            await self.record(row_id, status, error)
        return len(claimed)

    async def record(self, row_id: int, status: str, error: str | None) -> None:
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
                row.due_at = utcnow() + timedelta(seconds=min(600, 5 * 2 ** row.attempts))
            row.status = status
            if status == OutboxStatus.SENT:
                row.sent_at = utcnow()
