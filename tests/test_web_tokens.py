"""What the desk keeps in the database: sign-in links on each database the bot supports (of two
processes redeeming one link at once, exactly one gets in: the conditional UPDATE … RETURNING
decides; neither a used nor an expired link nor an officer's session opens anything), and a
campaign closed on the desk (off the list, no reminders)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update

from bot.config import Settings
from bot.seed import seed_if_empty
from deadlines.workdays import WorkingCalendar
from handlers.reminders import plan
from storage.campaigns import open_campaigns
from storage.database import Database
from storage.models import Campaign, Identity, Officer, OutboxMessage, Role, Unit, WebToken, utcnow
from storage.officers import bind_identity
from storage.web_tokens import create_login_link, open_session, redeem_login_link, session_officer
from tests.web_desk import AT_WORK, NOW, TODAY

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



async def test_a_closed_campaign_is_off_the_list_and_gets_no_reminders(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'closed.sqlite3'}")
    await db.upgrade()
    try:
        async with db.transaction() as session:
            await seed_if_empty(session, Settings(database_url=db.url), TODAY)
            unit = await session.scalar(select(Unit).where(Unit.code == AT_WORK))
            assert unit is not None
            await bind_identity(session, unit, "telegram", "555")
            await session.execute(update(Identity).values(chat_id="555"))
            (campaign,) = await open_campaigns(session)
            campaign.closed_at = utcnow()
        async with db.transaction() as session:
            assert await open_campaigns(session) == []
            planned = await plan(session, datetime.fromisoformat(NOW), WorkingCalendar())
            assert planned.queued == 0
            assert not list(await session.scalars(select(OutboxMessage)))
            await session.execute(update(Campaign).values(closed_at=None))  # opened again: reminded
            assert (await plan(session, datetime.fromisoformat(NOW), WorkingCalendar())).queued == 1
    finally:
        await db.close()
