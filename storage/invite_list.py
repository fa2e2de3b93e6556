"""The VP office's view of the invites it gave out: those still waiting, and revoking one."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Invite, Role, Unit, utcnow


async def waiting_invites(session: AsyncSession) -> list[tuple[Invite, Unit]]:
    """Unit invites neither used nor expired (link codes between channels are not invites)."""
    rows = await session.execute(
        select(Invite, Unit).join(Unit, Unit.id == Invite.unit_id)
        .where(Invite.used_at.is_(None), Invite.expires_at >= utcnow(), Invite.officer_id.is_(None),
               Invite.role == Role.OFFICER)
        .order_by(Invite.created_at.desc(), Invite.id.desc()))
    return [(row[0], row[1]) for row in rows]


async def revoke_invite(session: AsyncSession, invite_id: int) -> bool:
    """The code stops working now (it reads as expired to whoever types it); False if it was
    used or gone already."""
    now = utcnow()
    revoked = await session.execute(
        update(Invite).where(Invite.id == invite_id, Invite.used_at.is_(None), Invite.expires_at >= now)
        .values(expires_at=now).returning(Invite.id))
    return revoked.scalar_one_or_none() is not None
