"""Attachment rows: recorded once per file and place (the unique key decides between two
processes given the same file), listed for a submission, read back with their bytes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Attachment
from storage.upsert import insert_ignoring_duplicates


@dataclass(frozen=True)
class NewAttachment:
    submission_id: int
    question: str | None  # None: the report as a whole
    filename: str
    media_type: str
    size: int
    sha256: str
    officer_id: int
    channel: str

    @property
    def key(self) -> str:
        return f"{self.submission_id}:{self.question or '*'}:{self.sha256}"


async def record_attachment(session: AsyncSession, new: NewAttachment) -> tuple[Attachment, bool]:
    """The row for this file at this place, and whether it is new (False: sent before)."""
    values = {"key": new.key, "submission_id": new.submission_id, "question": new.question,
              "filename": new.filename, "media_type": new.media_type, "size": new.size,
              "sha256": new.sha256, "officer_id": new.officer_id, "channel": new.channel}
    inserted = await insert_ignoring_duplicates(session, Attachment, [values], unique=("key",))
    row = await session.scalar(select(Attachment).where(Attachment.key == new.key))
    assert row is not None
    return row, inserted > 0


async def attachments_of(session: AsyncSession, submission_id: int) -> list[Attachment]:
    """A submission's attachments, in the order they were sent."""
    return list(await session.scalars(select(Attachment).where(Attachment.submission_id == submission_id)
                                      .order_by(Attachment.id)))


async def attachment_count(session: AsyncSession, submission_id: int) -> int:
    return int(await session.scalar(select(func.count()).select_from(Attachment)
                                    .where(Attachment.submission_id == submission_id)) or 0)
