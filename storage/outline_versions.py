"""Outline versions: the text of every outline a campaign was opened with, one row per text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.outline import Outline
from storage.models import Campaign, OutlineVersion, as_utc, utcnow
from storage.upsert import insert_ignoring_duplicates


async def keep_version(session: AsyncSession, outline: Outline, source_file: str) -> str:
    """Store the outline's text as a version unless that text is stored already; its checksum.
    Two processes opening campaigns at once store it once (the checksum is a unique key)."""
    if not outline.text:
        raise ValueError("only an outline read from its text can be kept as a version")
    await insert_ignoring_duplicates(session, OutlineVersion, [{
        "checksum": outline.checksum, "outline_id": outline.meta.id,
        "label": outline.meta.version[:32], "source_file": source_file[:255],
        "content": outline.text, "created_at": utcnow(),
    }], unique=["checksum"])
    return outline.checksum


async def version_by_checksum(session: AsyncSession, checksum: str) -> OutlineVersion | None:
    return await session.scalar(select(OutlineVersion).where(OutlineVersion.checksum == checksum))


@dataclass(frozen=True)
class VersionUse:
    """A stored version and the campaigns opened with it (codes, oldest first)."""

    label: str
    outline_id: str
    checksum: str
    created_at: datetime
    campaigns: list[str]


async def version_uses(session: AsyncSession) -> list[VersionUse]:
    """Every stored version, oldest first, with the campaigns that use it."""
    codes: dict[str, list[str]] = {}
    for checksum, code in await session.execute(
            select(Campaign.outline_checksum, Campaign.code).order_by(Campaign.id)):
        codes.setdefault(checksum, []).append(code)
    rows = await session.execute(
        select(OutlineVersion.label, OutlineVersion.outline_id, OutlineVersion.checksum,
               OutlineVersion.created_at).order_by(OutlineVersion.id))
    return [VersionUse(label, outline_id, checksum, as_utc(created), codes.get(checksum, []))
            for label, outline_id, checksum, created in rows]
