"""Incoming events of one channel: stored (committed) first, then processed by a bounded set of
workers, each chat's events by one worker in the order they came. Shared by every channel."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable, Sequence

from engine.i18n import N_
from storage.database import Database
from storage.inbox import IncomingEvent, mark_failed, pending_events, pending_ids, store_events

log = logging.getLogger(__name__)
Process = Callable[[int, str], Awaitable[None]]
Apologise = Callable[[str], Awaitable[None]]
# What the sender of a set-aside event is told, in the channel's default language (the
# database, where their own language is kept, may be what failed).
NOT_PROCESSED = N_("Xin lỗi, do sự cố kỹ thuật, hệ thống chưa xử lý được tin nhắn vừa rồi của "
                   "anh/chị nên nội dung đó chưa được ghi nhận. Anh/chị vui lòng gửi lại.")
# Seconds before trying a failed event again: long enough for a busy database or a restarting
# PostgreSQL, short enough that the chat's next events (queued behind it) are not held long.
RETRY_DELAYS = (0.5, 2.0)
Item = tuple[int, str] | None


class InboxWorkers:
    """`process` handles one stored event in its own transaction (claiming it there). If it
    fails, it is tried again after each of `retry_delays` (a database busy or restarting);
    failing still, it is set aside and `apologise` asked to tell the sender to send it again.
    Either way the worker goes on to the chat's next event only after it, so a chat's events
    are never applied out of order, not even after a restart."""

    def __init__(self, db: Database, channel: str, workers: int, process: Process,
                 apologise: Apologise | None = None,
                 retry_delays: Sequence[float] = RETRY_DELAYS) -> None:
        self.db = db
        self.channel = channel
        self.process = process
        self.apologise = apologise
        self.retry_delays = tuple(retry_delays)
        self.queues: list[asyncio.Queue[Item]] = [asyncio.Queue() for _ in range(workers)]
        self.tasks: list[asyncio.Task[None]] = []

    async def receive(self, events: Sequence[IncomingEvent]) -> None:
        """Store events (one already stored, a redelivery, is ignored) and hand them out."""
        if not events:
            return
        async with self.db.transaction() as session:
            await store_events(session, self.channel, events)
            rows = await pending_ids(session, self.channel, [e.update_id for e in events])
        for row in rows:
            self.dispatch(row.id, row.chat_key, row.payload)

    def dispatch(self, inbox_id: int, key: str, payload: str) -> None:
        self.queues[zlib.crc32(key.encode()) % len(self.queues)].put_nowait((inbox_id, payload))

    async def start(self) -> None:
        """Start the workers, and give them first what a crash left stored but unprocessed."""
        self.tasks = [asyncio.create_task(self.work(queue)) for queue in self.queues]
        async with self.db.transaction() as session:
            rows = await pending_events(session, self.channel)
        for row in rows:
            self.dispatch(row.id, row.chat_key, row.payload)

    async def work(self, queue: asyncio.Queue[Item]) -> None:
        while (item := await queue.get()) is not None:
            await self.handle(*item)

    async def handle(self, inbox_id: int, payload: str) -> None:
        for delay in (*self.retry_delays, None):
            try:
                await self.process(inbox_id, payload)
                return
            except Exception as error:
                log.exception("%s event %s failed", self.channel, inbox_id)
                if delay is None:
                    await self.set_aside(inbox_id, payload, error)
                    return
                await asyncio.sleep(delay)

    async def set_aside(self, inbox_id: int, payload: str, error: Exception) -> None:
        try:
            async with self.db.transaction() as session:
                # The first line: SQLAlchemy goes on with the statement and its parameters.
                reason = (str(error).splitlines() or [""])[0]
                await mark_failed(session, inbox_id, f"{type(error).__name__}: {reason}")
        except Exception:
            # Still stored and unprocessed: it is tried again at the next start.
            log.exception("%s event %s could not be set aside", self.channel, inbox_id)
            return
        log.error("%s event %s set aside after %d attempts", self.channel, inbox_id,
                  len(self.retry_delays) + 1)
        if self.apologise is not None:
            try:
                await self.apologise(payload)
            except Exception:
                log.exception("%s: could not tell the sender of event %s", self.channel, inbox_id)

    def finish(self) -> list[asyncio.Task[None]]:
        """Let each worker finish what it holds; the rest stays in the inbox for next time."""
        for queue in self.queues:
            queue.put_nowait(None)
        return self.tasks

    async def stop(self, grace: float, *others: asyncio.Task[None]) -> None:
        """Finish the workers (and `others`, e.g. the outbox sender) within `grace` seconds;
        whatever is still busy then is cancelled."""
        _done, late = await asyncio.wait([*self.finish(), *others], timeout=grace)
        for task in late:
            log.warning("still busy after %ss, cancelled: %r", grace, task)
            task.cancel()
