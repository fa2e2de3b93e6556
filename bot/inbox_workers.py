"""Incoming events of one channel: stored (committed) first, then processed by a bounded set of
workers, each chat's events by one worker in the order they came. Shared by every channel."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Awaitable, Callable, Sequence

from storage.database import Database
from storage.inbox import IncomingEvent, pending_events, pending_ids, store_events

log = logging.getLogger(__name__)
Process = Callable[[int, str], Awaitable[None]]
Item = tuple[int, str] | None


class InboxWorkers:
    def __init__(self, db: Database, channel: str, workers: int, process: Process) -> None:
        self.db = db
        self.channel = channel
        self.process = process
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
            inbox_id, payload = item
            try:
                await self.process(inbox_id, payload)
            except Exception:
                log.exception("%s event %s failed", self.channel, inbox_id)

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
