"""The web desk's sign-in: one-time links and the sessions they open. Only hashes are stored;
a link is spent and a session refreshed by one conditional UPDATE … RETURNING, so the database,
not a process, decides which of two requests at once gets in."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Officer, Role, WebToken, utcnow

LINK_TTL = timedelta(minutes=15)
# However active, a session ends after this; the idle limit (a setting) usually ends it first.
SESSION_MAX_AGE = timedelta(days=7)


class TokenKind(StrEnum):
    LINK = "link"
    SESSION = "session"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "ignore")).hexdigest()


async def _issue(session: AsyncSession, officer: Officer, kind: TokenKind, ttl: timedelta) -> str:
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(WebToken(token_hash=hash_token(raw), kind=kind, officer_id=officer.id, created_at=now,
                         expires_at=now + ttl, last_seen_at=now))
    await session.flush()
    return raw


async def create_login_link(session: AsyncSession, officer: Officer) -> str | None:
    """A one-time sign-in token for a VP office admin (None for anyone else): valid 15 minutes."""
    if officer.role != Role.ADMIN:
        return None
    return await _issue(session, officer, TokenKind.LINK, LINK_TTL)


async def redeem_login_link(session: AsyncSession, raw: str) -> Officer | None:
    """The admin a sign-in token is for, spending it; None if unknown, used, expired or the
    person is no longer an admin."""
    now = utcnow()
    taken = await session.execute(
        update(WebToken).where(WebToken.token_hash == hash_token(raw), WebToken.kind == TokenKind.LINK,
                               WebToken.used_at.is_(None), WebToken.expires_at >= now)
        .values(used_at=now).returning(WebToken.officer_id))
    officer_id = taken.scalar_one_or_none()
    officer = None if officer_id is None else await session.get(Officer, officer_id)
    return officer if officer is not None and officer.role == Role.ADMIN else None


async def open_session(session: AsyncSession, officer: Officer) -> str:
    return await _issue(session, officer, TokenKind.SESSION, SESSION_MAX_AGE)


async def session_officer(session: AsyncSession, raw: str, idle: timedelta) -> Officer | None:
    """The admin of a live session, its idle clock restarted; None if it is unknown, signed
    out, idle too long or past its age, or its officer is not (or no longer) an admin."""
    now = utcnow()
    touched = await session.execute(
        update(WebToken).where(WebToken.token_hash == hash_token(raw), WebToken.kind == TokenKind.SESSION,
                               WebToken.used_at.is_(None), WebToken.expires_at >= now,
                               WebToken.last_seen_at >= now - idle)
        .values(last_seen_at=now).returning(WebToken.officer_id))
    officer_id = touched.scalar_one_or_none()
    officer = None if officer_id is None else await session.get(Officer, officer_id)
    return officer if officer is not None and officer.role == Role.ADMIN else None


async def close_session(session: AsyncSession, raw: str) -> None:
    """Sign out: the session's token is spent."""
    await session.execute(update(WebToken).where(
        WebToken.token_hash == hash_token(raw), WebToken.kind == TokenKind.SESSION,
        WebToken.used_at.is_(None)).values(used_at=utcnow()))


def csrf_token(raw_session: str) -> str:
    """The session's CSRF token: derived from its secret, so nothing more is stored and a page
    of another session (or none) cannot forge it."""
    return hashlib.sha256(b"csrf:" + raw_session.encode("utf-8", "ignore")).hexdigest()
