"""Sign-in links on each database the bot supports: of two processes redeeming one link at once,
exactly one gets in (the conditional UPDATE … RETURNING decides), and neither a used nor an
expired link nor an officer's session opens anything."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from storage.database import Database
from storage.models import Officer, Role, WebToken, utcnow
from storage.web_tokens import create_login_link, open_session, redeem_login_link, session_officer

IDLE = timedelta(minutes=60)


async def test_one_link_signs_in_once_across_processes(database_url: tuple[str, str | None]) -> None:
    url, schema = database_url
    db = Database(url, schema=schema)
    await db.upgrade()
    try:
        await walk_through(db, url, schema)
    finally:
        await db.close()


async def walk_through(db: Database, url: str, schema: str | None) -> None:
    async with db.transaction() as session:
        admin = Officer(role=Role.ADMIN, name="Văn phòng")
        officer = Officer(role=Role.OFFICER, name="Cán bộ")
        session.add_all([admin, officer])
        await session.flush()
        token = await create_login_link(session, admin)
        assert token is not None and await create_login_link(session, officer) is None
        officer_cookie = await open_session(session, officer)
    # Two "processes": two engines, each redeeming in its own transaction, at once.
    others = [Database(url, schema=schema) for _ in range(2)]
    try:
        async def redeem(database: Database) -> int | None:
            async with database.transaction() as session:
                signed_in = await redeem_login_link(session, token)
                return None if signed_in is None else signed_in.id

        assert sorted(await asyncio.gather(*(redeem(d) for d in others)), key=str) == [admin.id, None]
    finally:
        for other in others:
            await other.close()
    async with db.transaction() as session:
        assert await redeem_login_link(session, token) is None
        stale = await create_login_link(session, admin)
        assert stale is not None
        await session.execute(update(WebToken).where(WebToken.kind == "link", WebToken.used_at.is_(None))
                              .values(expires_at=utcnow() - timedelta(seconds=1)))
    async with db.transaction() as session:
        assert await redeem_login_link(session, stale) is None
        assert await session_officer(session, officer_cookie, IDLE) is None
        cookie = await open_session(session, admin)
    async with db.transaction() as session:
        seen = await session_officer(session, cookie, IDLE)
        assert seen is not None and seen.id == admin.id

