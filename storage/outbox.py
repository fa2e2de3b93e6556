"""The outbox: messages to deliver, claimed by one sender at a time, never sent twice."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, utcnow
from storage.upsert import insert_ignoring_duplicates

CLAIM_TIME = timedelta(minutes=2)
_WRITTEN = "outbox.written"


class OutboxStatus:
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the request may have reached the platform: not blindly repeated
    DROPPED = "dropped"


@dataclass(frozen=True)
class Outgoing:
    """A message ready for a channel: text and, where the channel has them, buttons."""

    text: str
    buttons: list[list[dict[str, str]]] | None = None
    # Files made when sent, e.g. {"kind": "report", "submission": 7}: see handlers.documents.
    attachments: list[dict[str, Any]] | None = None

    def to_json(self) -> str:
        return json.dumps({"text": self.text, "buttons": self.buttons, "attachments": self.attachments},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, payload: str) -> Outgoing:
        data: dict[str, Any] = json.loads(payload)
        return cls(data["text"], data.get("buttons"), data.get("attachments"))


async def enqueue(
    session: AsyncSession, key: str, channel: str, chat_id: str, kind: str, message: Outgoing,
    due_at: datetime | None = None,
) -> bool:
    """Add a message unless one with the same key exists; True if it was added."""
    inserted = await insert_ignoring_duplicates(session, OutboxMessage, [{
        "key": key, "channel": channel, "chat_id": chat_id, "kind": kind,
        "payload": message.to_json(), "status": OutboxStatus.PENDING, "attempts": 0,
        "due_at": due_at or utcnow(), "created_at": utcnow(),
    }], unique=("key",))
    if inserted:
        session.info[_WRITTEN] = True
    return inserted > 0


def wrote_outbox(session: AsyncSession) -> bool:
    """Whether the session's transaction added a message to the outbox."""
    return bool(session.info.get(_WRITTEN))


async def claim_due(
    session: AsyncSession, channel: str, worker: str, limit: int, now: datetime | None = None
) -> list[OutboxMessage]:
    """Due messages for this worker; another worker skips them until the claim runs out."""
    moment = now or utcnow()
    rows = list(await session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.channel == channel, OutboxMessage.status == OutboxStatus.PENDING,
               OutboxMessage.due_at <= moment,
               or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < moment))
        .order_by(OutboxMessage.due_at, OutboxMessage.id).limit(limit)
        .with_for_update(skip_locked=True)
    ))
    for row in rows:
        row.claimed_by, row.claimed_until = worker, moment + CLAIM_TIME
    return rows


REMINDER = "reminder"


async def drop_unit_reminders(session: AsyncSession, campaign_id: int, unit_id: int, reason: str) -> None:
    """A unit that submits, or whose date moves, has its waiting reminders withdrawn."""
    await session.execute(update(OutboxMessage).where(
        OutboxMessage.key.like(f"{REMINDER}:{campaign_id}:{unit_id}:%"),
        OutboxMessage.status == OutboxStatus.PENDING,
    ).values(status=OutboxStatus.DROPPED, last_error=reason))
