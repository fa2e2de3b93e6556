"""The inbox's workers when processing an event fails: tried again, in the chat's order; failing
for good, set aside (never replayed after the chat's later events, not even after a restart)
and its sender asked to send it again."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.inbox_workers import InboxWorkers
from storage.database import Database
from storage.inbox import IncomingEvent, TakenEvent, as_payload
from storage.models import InboxUpdate

CHANNEL = "test"



class Chat:
    """Applies events as the channels do (in the transaction the worker claimed them in),
    failing the events named in `failures` as many times as given there."""

    def __init__(self, db: Database, failures: dict[str, int]) -> None:
        self.db = db
        self.failures = failures
        self.attempts: list[str] = []
        self.applied: list[str] = []
        self.apologised: list[str] = []

    async def process(self, session: AsyncSession, event: TakenEvent) -> None:
        payload = event.payload
        self.attempts.append(payload)
        if self.failures.get(payload, 0) > 0:
            self.failures[payload] -= 1
            raise RuntimeError(f"database unavailable while handling {payload}")
        self.applied.append(payload)

    async def apologise(self, payload: str) -> None:
        self.apologised.append(payload)

    def workers(self) -> InboxWorkers:
        return InboxWorkers(self.db, CHANNEL, 2, self.process, self.apologise, retry_delays=(0.01, 0.01))


async def run(workers: InboxWorkers, events: list[IncomingEvent]) -> None:
    await workers.start()
    await workers.receive(events)
    await asyncio.wait_for(asyncio.gather(*workers.finish()), 10)


def events(*payloads: str, chat: str = "42") -> list[IncomingEvent]:
    return [IncomingEvent(payload, chat, payload) for payload in payloads]


async def rows(db: Database) -> dict[str, InboxUpdate]:
    """By update id (here the same as the payload: applied events are emptied)."""
    async with db.transaction() as session:
        return {row.update_id: row for row in await session.scalars(select(InboxUpdate))}


async def test_a_passing_failure_is_tried_again_before_the_chats_next_event(db: Database) -> None:
    chat = Chat(db, {"answer 1": 2})
    await run(chat.workers(), events("answer 1", "answer 2"))
    assert chat.attempts == ["answer 1", "answer 1", "answer 1", "answer 2"]
    assert chat.applied == ["answer 1", "answer 2"]
    assert chat.apologised == []
    stored = await rows(db)
    assert all(row.processed_at is not None and row.failed_at is None for row in stored.values())


async def test_a_lasting_failure_is_set_aside_apologised_for_and_not_replayed(db: Database) -> None:
    chat = Chat(db, {"answer 1": 99})
    await run(chat.workers(), events("answer 1", "answer 2"))
    assert chat.attempts == ["answer 1"] * 3 + ["answer 2"]
    assert chat.applied == ["answer 2"]
    assert chat.apologised == ["answer 1"]
    stored = await rows(db)
    assert stored["answer 1"].failed_at is not None
    # Why, for the IT person, but not what the officer wrote (this error's text may quote it).
    assert stored["answer 1"].failure == "RuntimeError"
    assert all(row.payload == "" for row in stored.values())
    assert stored["answer 2"].failed_at is None

    # After a restart the set-aside event is not given to the workers again, and the same
    # update delivered again (the platform retrying) changes nothing either.
    restarted = Chat(db, {})
    await run(restarted.workers(), events("answer 1"))
    assert restarted.attempts == []
    assert restarted.applied == []


async def test_an_update_whose_text_holds_a_lone_surrogate_is_stored_and_applied(db: Database) -> None:
    """A client may send text no database stores as is: the update is kept (escaped), not
    refused again and again while the chat's later messages wait behind it."""
    chat = Chat(db, {})
    odd = as_payload({"text": "42 h\ud800ồ sơ"})
    await run(chat.workers(), [IncomingEvent("1", "42", odd), *events("answer 2")])
    assert chat.applied == [odd, "answer 2"]
    assert json.loads(chat.applied[0]) == {"text": "42 h\ud800ồ sơ"}
