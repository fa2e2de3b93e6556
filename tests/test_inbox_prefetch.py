"""The inbox's workers with a download ahead of a turn (bot/prefetched_files.py): other chats go
on while it runs, the chat's own events wait for it and keep their order, a download that fails
still gives its event a turn, and workers told to finish finish the turns waiting for one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.inbox_workers import InboxWorkers
from storage.database import Database
from storage.inbox import IncomingEvent, TakenEvent
from storage.models import InboxUpdate

CHANNEL = "test"


class Chats:
    """Events named "file…" carry a file: downloaded ahead (until `release`), or failing to."""

    def __init__(self, db: Database, failing: bool = False) -> None:
        self.db = db
        self.failing = failing
        self.release = asyncio.Event()
        self.downloaded: list[str] = []
        self.applied: list[str] = []

    async def process(self, session: AsyncSession, event: TakenEvent) -> None:
        self.applied.append(event.payload)

    async def prefetch(self, session: AsyncSession,
                       event: TakenEvent) -> Callable[[], Awaitable[None]] | None:
        if not event.payload.startswith("file"):
            return None

        async def download() -> None:
            await self.release.wait()
            if self.failing:
                raise ConnectionResetError("the network went away")
            self.downloaded.append(event.payload)
        return download

    def workers(self) -> InboxWorkers:
        return InboxWorkers(self.db, CHANNEL, 2, self.process, retry_delays=(0.01,), prefetch=self.prefetch,
                            carries_file=lambda payload: payload.startswith("file"))


def events(*payloads: str, chat: str) -> list[IncomingEvent]:
    return [IncomingEvent(payload, chat, payload) for payload in payloads]


async def until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(10):
        while not condition():
            await asyncio.sleep(0.01)


async def pending(db: Database) -> int:
    async with db.transaction() as session:
        found = await session.scalars(select(InboxUpdate.id).where(InboxUpdate.processed_at.is_(None)))
        return len(list(found))


async def test_a_download_holds_up_only_its_own_chat_whose_events_keep_their_order(db: Database) -> None:
    chats = Chats(db)
    workers = chats.workers()
    await workers.start()
    await workers.receive([*events("file-a", "a2", chat="a"), *events("b1", "b2", chat="b")])
    await until(lambda: chats.applied == ["b1", "b2"])
    await asyncio.sleep(0.1)
    assert chats.applied == ["b1", "b2"], "the chat's events went ahead of its file"
    # Told to finish with the download still running: the turns waiting for it are taken.
    finishing = asyncio.gather(*workers.finish())
    chats.release.set()
    await asyncio.wait_for(finishing, 10)
    assert chats.downloaded == ["file-a"]
    assert chats.applied == ["b1", "b2", "file-a", "a2"]
    assert await pending(db) == 0


async def test_a_download_that_fails_still_gives_its_event_a_turn_once(db: Database) -> None:
    chats = Chats(db, failing=True)
    chats.release.set()
    workers = chats.workers()
    await workers.start()
    await workers.receive(events("file-1", "after", chat="a"))
    await until(lambda: len(chats.applied) == 2)
    await asyncio.wait_for(asyncio.gather(*workers.finish()), 10)
    assert chats.downloaded == [] and chats.applied == ["file-1", "after"]
    assert await pending(db) == 0
