"""Incoming events of one channel: stored (committed) first, then applied by a bounded set of
workers. Each turn of a worker takes a chat's lock in the database and applies that chat's
oldest pending event, whichever process stored it: with several processes on one database, and
a chat's updates delivered to any of them, every chat's events take effect in their order, once.
Shared by every channel."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import zlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.privacy import safe_reason
from engine.i18n import N_
from storage.database import Database
from storage.inbox import (
    IncomingEvent,
    TakenEvent,
    mark_failed,
    peek_next_event,
    pending_chats,
    store_events,
    take_next_event,
)
from storage.models import utcnow

log = logging.getLogger(__name__)
# Said once the event's transaction has committed (the replies), or nothing to say.
AfterCommit = Callable[[], Awaitable[None]] | None
# Applies one claimed event inside the given transaction; must not commit.
Process = Callable[[AsyncSession, TakenEvent], Awaitable[AfterCommit]]
Apologise = Callable[[str], Awaitable[None]]
# What to do before the event's turn, outside any transaction (download the file it carries),
# if anything; asked with the event as peeked, in a read-only session (is the sender an officer).
Download = Callable[[], Awaitable[None]]
Prefetch = Callable[[AsyncSession, TakenEvent], Awaitable[Download | None]]
# Whether a stored payload may carry a file (a quick look, wrong only at the cost of a peek).
CarriesFile = Callable[[str], bool]
# Events whose download was tried: their turn comes next, whatever the download gave.
TRIED_REMEMBERED = 1024
# Replies being said at once, per worker: a worker goes on to other chats' turns while its
# replies travel, and waits only when this many are still on their way.
REPLIES_PER_WORKER = 8
# What the sender of a set-aside event is told, in the channel's default language (the
# database, where their own language is kept, may be what failed).
NOT_PROCESSED = N_("Xin lỗi, do sự cố kỹ thuật, hệ thống chưa xử lý được tin nhắn vừa rồi của "
                   "anh/chị nên nội dung đó chưa được ghi nhận. Anh/chị vui lòng gửi lại.")
# Seconds before trying a failed event again: long enough for a busy database or a restarting
# PostgreSQL, short enough that the chat's next events (queued behind it) are not held long.
RETRY_DELAYS = (0.5, 2.0)
# How often pending events are looked for that no worker has in hand: stored by a process that
# died before applying them, or whose turn failed while the database was away.
SWEEP_INTERVAL = 5.0
STRAGGLER_AGE = timedelta(seconds=10)
Item = str | None


class InboxWorkers:
    """`process` applies one event in the transaction it is given. If the turn fails, it is tried
    again after each of `retry_delays` (a database busy or restarting); failing still, the event
    is set aside and `apologise` asked to tell the sender to send it again. Either way the chat's
    next event comes only after it, so a chat's events are never applied out of order, not even
    after a restart or in another process.

    With `prefetch`, the turn of a chat that was sent a file (`carries_file`) first peeks at the
    chat's next event, in a read that takes no lock; if that event carries a file, the file is
    downloaded outside any transaction while the worker goes on with other chats, and the
    chat's turns wait for it (a download holds no lock: other chats never wait for one). The
    peek only saves time: the turn still claims the oldest event under the chat's lock."""

    def __init__(self, db: Database, channel: str, workers: int, process: Process,
                 apologise: Apologise | None = None,
                 retry_delays: Sequence[float] = RETRY_DELAYS,
                 sweep_interval: float = SWEEP_INTERVAL, prefetch: Prefetch | None = None,
                 carries_file: CarriesFile = lambda payload: True) -> None:
        self.db = db
        self.channel = channel
        self.process = process
        self.apologise = apologise
        self.retry_delays = tuple(retry_delays)
        self.sweep_interval = sweep_interval
        self.queues: list[asyncio.Queue[Item]] = [asyncio.Queue() for _ in range(workers)]
        self.tasks: list[asyncio.Task[None]] = []
        self.sweeper: asyncio.Task[None] | None = None
        self.prefetch = prefetch
        self.carries_file = carries_file
        # Chat → files received, or swept, that no peek has found at the head yet: only such a
        # chat's turns peek (a text answer's turn costs no extra read).
        self.look_ahead: dict[str, int] = {}
        self.download_slots = asyncio.Semaphore(max(2, workers))
        self.reply_slots = asyncio.Semaphore(workers * REPLIES_PER_WORKER)
        # Chat → its turns waiting for what the chat has under way: its download or its replies.
        self.held: dict[str, int] = {}
        self.downloads: dict[str, asyncio.Task[None]] = {}  # chat → its download
        self.replying: dict[str, asyncio.Task[None]] = {}  # chat → its replies being said
        self.tried: dict[int, None] = {}  # inbox ids, oldest first

    async def receive(self, events: Sequence[IncomingEvent]) -> None:
        """Store events (one already stored, a redelivery, is ignored), then give each one turn of
        its chat. A turn takes the chat's oldest pending event, so a turn whose event another
        process applied meanwhile applies the next one, or nothing."""
        if not events:
            return
        async with self.db.transaction() as session:
            await store_events(session, self.channel, events)
        for event in events:
            if self.prefetch is not None and self.carries_file(event.payload):
                self.look_ahead[event.chat_key] = self.look_ahead.get(event.chat_key, 0) + 1
            self.dispatch(event.chat_key)

    def dispatch(self, chat_key: str) -> None:
        """One turn of the chat, on the worker that takes all of this chat's turns here."""
        self.queue_of(chat_key).put_nowait(chat_key)

    def queue_of(self, chat_key: str) -> asyncio.Queue[Item]:
        return self.queues[zlib.crc32(chat_key.encode()) % len(self.queues)]

    async def start(self) -> None:
        """Start the workers, and give them first what a crash left stored but unprocessed."""
        self.tasks = [asyncio.create_task(self.work(queue)) for queue in self.queues]
        await self.sweep(None)
        self.sweeper = asyncio.create_task(self.sweep_now_and_then())

    async def sweep(self, age: timedelta | None) -> None:
        async with self.db.transaction() as session:
            chats = await pending_chats(session, self.channel,
                                        None if age is None else utcnow() - age)
        for chat_key in chats:
            if self.prefetch is not None:  # what they are is not read here: look when it is their turn
                self.look_ahead[chat_key] = self.look_ahead.get(chat_key, 0) + 1
            self.dispatch(chat_key)

    async def sweep_now_and_then(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            if any(queue.qsize() for queue in self.queues):
                continue  # busy: what is pending is likely in hand already
            try:
                await self.sweep(STRAGGLER_AGE)
            except Exception as error:
                log.warning("%s: looking for pending events failed: %s", self.channel,
                            type(error).__name__)

    async def work(self, queue: asyncio.Queue[Item]) -> None:
        while (chat_key := await queue.get()) is not None:
            if chat_key in self.held:
                self.held[chat_key] += 1  # taken once the file is in or the replies said, in order
            elif not await self.download_first(chat_key):
                await self.turn(chat_key)
        # Told to finish: the turns waiting for a download or for replies are part of what this
        # worker holds, and so are the replies themselves.
        while True:
            if mine := [task for chat, task in (*self.downloads.items(), *self.replying.items())
                        if self.queue_of(chat) is queue and not task.done()]:
                await asyncio.wait(mine)
            elif queue.empty():
                return
            elif (chat_key := queue.get_nowait()) is not None:
                await self.turn(chat_key)

    async def download_first(self, chat_key: str) -> bool:
        """If the chat's next event carries a file not yet tried, start its download and put
        the chat's turn after it: True. A peek that fails costs only the head start."""
        if self.prefetch is None or not self.look_ahead.get(chat_key):
            return False
        try:
            async with self.db.reading() as session:
                event = await peek_next_event(session, self.channel, chat_key)
                if event is None:
                    self.look_ahead.pop(chat_key, None)  # all applied, here or elsewhere
                    return False
                if event.id in self.tried or not self.carries_file(event.payload):
                    return False
                self.tried_one(chat_key, event.id)
                download = await self.prefetch(session, event)
        except Exception as error:
            log.warning("%s: looking ahead at a chat's next event failed: %s", self.channel,
                        type(error).__name__)
            return False
        if download is None:
            return False
        self.held[chat_key] = 1  # this turn, once the file is in
        self.downloads[chat_key] = asyncio.create_task(self.download_then_turn(chat_key, download))
        return True

    def tried_one(self, chat_key: str, inbox_id: int) -> None:
        """The event's turn comes next, whatever its download gives; one file fewer to look for."""
        self.tried[inbox_id] = None
        while len(self.tried) > TRIED_REMEMBERED:
            del self.tried[next(iter(self.tried))]
        if (left := self.look_ahead.get(chat_key, 1) - 1) > 0:
            self.look_ahead[chat_key] = left
        else:
            self.look_ahead.pop(chat_key, None)

    async def download_then_turn(self, chat_key: str, download: Download) -> None:
        try:
            async with self.download_slots:
                await download()
        except Exception as error:  # the turn downloads again, and says what went wrong
            log.warning("%s: a download ahead of its turn failed: %s", self.channel, type(error).__name__)
        finally:
            self.downloads.pop(chat_key, None)
            self.release(chat_key)

    def release(self, chat_key: str) -> None:
        """What the chat had under way is done: its turns held meanwhile come now."""
        for _ in range(self.held.pop(chat_key, 0)):
            self.dispatch(chat_key)

    async def turn(self, chat_key: str) -> None:
        for delay in (*self.retry_delays, None):
            taken: TakenEvent | None = None  # each attempt's own: the oldest may have changed
            try:
                async with self.db.transaction() as session:
                    taken = await take_next_event(session, self.channel, chat_key)
                    if taken is None:
                        return
                    after_commit = await self.process(session, taken)
            except Exception as error:
                log.exception("%s event %s failed", self.channel, taken.id if taken else "(none taken)")
                if delay is None:
                    if taken is not None:
                        await self.set_aside(taken, error)
                    return
                await asyncio.sleep(delay)
                continue
            if after_commit is not None:
                await self.reply_slots.acquire()
                self.held[chat_key] = 0
                self.replying[chat_key] = asyncio.create_task(
                    self.say_then_release(chat_key, taken.id, after_commit))
            return

    async def say_then_release(self, chat_key: str, inbox_id: int,
                               after_commit: Callable[[], Awaitable[None]]) -> None:
        try:
            await after_commit()
        except Exception:
            # Applied and committed: never applied again for a failed reply.
            log.exception("%s event %s: replying failed", self.channel, inbox_id)
        finally:
            self.reply_slots.release()
            self.replying.pop(chat_key, None)
            self.release(chat_key)

    async def set_aside(self, taken: TakenEvent, error: Exception) -> None:
        try:
            async with self.db.transaction() as session:
                if not await mark_failed(session, taken.id, safe_reason(error)):
                    return  # applied meanwhile by another process: nothing to apologise for
        except Exception:
            # Still stored and unprocessed: it is tried again by the next sweep or start.
            log.exception("%s event %s could not be set aside", self.channel, taken.id)
            return
        log.error("%s event %s set aside after %d attempts", self.channel, taken.id,
                  len(self.retry_delays) + 1)
        if self.apologise is not None:
            try:
                await self.apologise(taken.payload)
            except Exception:
                log.exception("%s: could not tell the sender of event %s", self.channel, taken.id)

    def finish(self) -> list[asyncio.Task[None]]:
        """Let each worker finish what it holds; the rest stays in the inbox for next time."""
        if self.sweeper is not None:
            self.sweeper.cancel()
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
        for download in list(self.downloads.values()):
            download.cancel()  # its event stays pending, for the next start
        for replies in list(self.replying.values()):
            replies.cancel()  # applied and committed: only what was still to be said is lost
        if self.sweeper is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.sweeper
