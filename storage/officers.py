"""Officers, their channel identities, and the one-time invites that bind them to a unit."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.direct_sql import DirectStatement
from storage.models import Identity, Invite, Officer, Role, Unit, utcnow

# No 0/O, 1/I/L: the code is read aloud on the phone and typed on small keyboards.
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_LENGTH = 8
DEFAULT_INVITE_TTL = timedelta(days=14)


class RedeemResult(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    # A VP office account given a unit's code: it would lose the office's rights; asked first.
    WOULD_LEAVE_OFFICE = "would_leave_office"
    # A code to link a second channel to an officer ("liên kết"), used already or too old.
    LINK_USED = "link_used"
    LINK_EXPIRED = "link_expired"


@dataclass(frozen=True)
class Redeemed:
    result: RedeemResult
    officer: Officer | None = None
    unit: Unit | None = None  # the unit a code would move a VP office account to


CODE_SHAPE = re.compile(r"^[A-Za-z0-9]{4}[-\s]?[A-Za-z0-9]{4}$")


def looks_like_code(text: str) -> bool:
    """An invite or link code as people type it: "ABCD-EFGH", "abcd efgh", "ABCDEFGH"."""
    return CODE_SHAPE.match(text.strip()) is not None


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("ascii", "ignore")).hexdigest()


def format_code(raw: str) -> str:
    return f"{raw[:4]}-{raw[4:]}"


async def create_invite(
    session: AsyncSession,
    unit: Unit | None,
    role: Role = Role.OFFICER,
    ttl: timedelta = DEFAULT_INVITE_TTL,
) -> tuple[str, Invite]:
    """A new one-time code (shown once, stored only as a hash) and its row."""
    raw = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
    invite = Invite(code_hash=hash_code(raw), unit_id=unit.id if unit else None, role=role,
                    expires_at=utcnow() + ttl)
    session.add(invite)
    await session.flush()
    return format_code(raw), invite


async def redeem_invite(
    session: AsyncSession, code: str, channel: str, external_id: str, name: str = "",
    chat_id: str | None = None, leave_office: bool = False,
) -> Redeemed:
    """Bind the channel identity to the invite's unit and role, once: the code is taken by one
    conditional UPDATE, so of any number of redemptions at once, in any processes, one wins.
    A VP office account redeeming a unit's code is not moved unless `leave_office` says so."""
    now = utcnow()
    if not leave_office:
        moving = await _office_account_moving_to(session, code, channel, external_id)
        if moving is not None:
            return Redeemed(RedeemResult.WOULD_LEAVE_OFFICE, unit=moving)
    taken = await session.execute(
        update(Invite).where(Invite.code_hash == hash_code(code), Invite.used_at.is_(None),
                             Invite.expires_at >= now)
        .values(used_at=now).returning(Invite.id))
    invite_id = taken.scalar_one_or_none()
    if invite_id is None:
        return Redeemed(await _why_not_redeemable(session, code))
    invite = await session.get(Invite, invite_id)
    assert invite is not None
    officer = await officer_by_identity(session, channel, external_id)
    if invite.officer_id is not None:
        # A link code: this identity becomes another way to reach the same officer.
        linked = await session.get(Officer, invite.officer_id)
        if linked is None:
            return Redeemed(RedeemResult.UNKNOWN)
        await _bind(session, linked, channel, external_id, chat_id)
        officer = linked
    elif officer is None:
        officer = Officer(unit_id=invite.unit_id, role=invite.role, name=name)
        session.add(officer)
        await session.flush()
        session.add(Identity(officer_id=officer.id, channel=channel, external_id=external_id,
                             chat_id=chat_id))
    else:
        officer.unit_id, officer.role = invite.unit_id, invite.role
    invite.used_by = officer.id
    await session.flush()
    return Redeemed(RedeemResult.OK, officer)


async def _office_account_moving_to(session: AsyncSession, code: str, channel: str,
                                   external_id: str) -> Unit | None:
    """The unit a valid unit invite would move this VP office account to (None otherwise)."""
    officer = await officer_by_identity(session, channel, external_id)
    if officer is None or officer.role != Role.ADMIN:
        return None
    invite = await session.scalar(select(Invite).where(
        Invite.code_hash == hash_code(code), Invite.used_at.is_(None), Invite.expires_at >= utcnow(),
        Invite.officer_id.is_(None), Invite.role == Role.OFFICER))
    return None if invite is None or invite.unit_id is None else await session.get(Unit, invite.unit_id)


async def _why_not_redeemable(session: AsyncSession, code: str) -> RedeemResult:
    invite = await session.scalar(select(Invite).where(Invite.code_hash == hash_code(code)))
    if invite is None:
        return RedeemResult.UNKNOWN
    link = invite.officer_id is not None
    if invite.used_at is not None:
        return RedeemResult.LINK_USED if link else RedeemResult.USED
    return RedeemResult.LINK_EXPIRED if link else RedeemResult.EXPIRED


async def _bind(session: AsyncSession, officer: Officer, channel: str, external_id: str,
                chat_id: str | None) -> None:
    identity = await session.scalar(select(Identity).where(
        Identity.channel == channel, Identity.external_id == external_id))
    if identity is None:
        session.add(Identity(officer_id=officer.id, channel=channel, external_id=external_id,
                             chat_id=chat_id))
    else:
        identity.officer_id, identity.chat_id = officer.id, chat_id or identity.chat_id
    await session.flush()


async def create_link_code(session: AsyncSession, officer: Officer,
                           ttl: timedelta = timedelta(minutes=30)) -> str:
    """A one-time code that, typed on another channel, binds it to this officer."""
    raw = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
    session.add(Invite(code_hash=hash_code(raw), unit_id=officer.unit_id, role=officer.role,
                       officer_id=officer.id, expires_at=utcnow() + ttl))
    await session.flush()
    return format_code(raw)


async def officer_by_identity(
    session: AsyncSession, channel: str, external_id: str
) -> Officer | None:
    return await session.scalar(
        select(Officer).join(Identity, Identity.officer_id == Officer.id)
        .where(Identity.channel == channel, Identity.external_id == external_id)
    )


async def bind_identity(
    session: AsyncSession, unit: Unit, channel: str, external_id: str, name: str = ""
) -> Officer:
    """The console's local officer for a unit: the person at the server's keyboard is trusted."""
    officer = await officer_by_identity(session, channel, external_id)
    if officer is None:
        officer = Officer(unit_id=unit.id, role=Role.OFFICER, name=name)
        session.add(officer)
        await session.flush()
        session.add(Identity(officer_id=officer.id, channel=channel, external_id=external_id))
        await session.flush()
    return officer


async def remember_prompt(session: AsyncSession, identity_id: int, question: str, message_id: int) -> None:
    """The message that showed `question` in the identity's chat, to edit once it is answered;
    a message older than the one remembered (said late by a slower process) changes nothing."""
    await REMEMBER_PROMPT.execute(session, {"identity_id": identity_id, "question": question,
                                            "message_id": message_id})


_identity = cast(Table, Identity.__table__).c
# After every question sent: compiled once (storage/direct_sql.py).
REMEMBER_PROMPT = DirectStatement(
    update(cast(Table, Identity.__table__))
    .where(_identity.id == bindparam("identity_id"),
           or_(_identity.prompt_message_id.is_(None), _identity.prompt_message_id < bindparam("message_id")))
    .values(prompt_message_id=bindparam("message_id"), prompt_question=bindparam("question"))
)
