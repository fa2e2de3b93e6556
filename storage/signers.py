"""Who signs the documents and who receives them: a unit's signer, the VP office's signer and a
campaign's "Nơi nhận", as the VP office sets them (`kstthc-bot units signer`,
`kstthc-bot campaign recipients`). Lists are kept one entry a line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Campaign, OfficeSigner, Unit
from storage.upsert import upsert

OFFICE_SIGNER_ID = 1  # the one row of office_signer


@dataclass(frozen=True)
class Signer:
    """Title lines ("KT. CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG") and the name."""

    title: tuple[str, ...]
    name: str


def lines_of(text: str | None) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def stored_lines(lines: Sequence[str]) -> str | None:
    kept = [" ".join(line.split()) for line in lines if line.strip()]
    return "\n".join(kept) or None


def unit_signer(unit: Unit) -> Signer:
    return Signer(lines_of(unit.signer_title), (unit.signer_name or "").strip())


def set_unit_signer(unit: Unit, title: Sequence[str], name: str) -> None:
    """Empty title lines and name: back to the default of the unit's level."""
    unit.signer_title = stored_lines(title)
    unit.signer_name = " ".join(name.split()) or None


async def office_signer(session: AsyncSession) -> Signer:
    row = await session.get(OfficeSigner, OFFICE_SIGNER_ID)
    return Signer((), "") if row is None else Signer(lines_of(row.title), row.name)


async def set_office_signer(session: AsyncSession, title: Sequence[str], name: str) -> None:
    """One statement, so that two commands at once leave one row, the later one's."""
    await upsert(session, OfficeSigner, {"id": OFFICE_SIGNER_ID, "title": stored_lines(title) or "",
                                         "name": " ".join(name.split())}, unique=("id",))


def campaign_recipients(campaign: Campaign, summary: bool = False) -> tuple[str, ...]:
    """The campaign's "Nơi nhận" of the units' reports, or of the city summary; () if unset."""
    return lines_of(campaign.summary_recipients if summary else campaign.report_recipients)


def set_campaign_recipients(campaign: Campaign, recipients: Sequence[str], summary: bool = False) -> None:
    """Nothing given: back to the default."""
    value = stored_lines(recipients)
    if summary:
        campaign.summary_recipients = value
    else:
        campaign.report_recipients = value
