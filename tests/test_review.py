"""The VP office's review on a real database: return with a reason → the unit edits and
resubmits → accept; who hears of what; what an officer may not do; the charts' numbers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.seed import seed_if_empty
from deadlines.workdays import WorkingCalendar
from engine.commands import parse_text
from handlers.admin_commands import AdminContext, run_admin_command
from handlers.documents import progress_charts
from handlers.report import open_report, take_turn
from handlers.text_chat import TextContext, handle_text
from locales.translation import translator
from storage.campaigns import open_campaigns
from storage.database import Database
from storage.models import HistoryEntry, Officer, OutboxMessage, Role, Submission, Unit
from storage.officers import create_invite, redeem_invite
from storage.reports import Actor
from tests.scripted_officer import script_for

TODAY = date(2027, 10, 1)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'review.sqlite3'}")
    await database.upgrade()
    async with database.transaction() as session:
        await seed_if_empty(session, Settings(database_url=database.url), TODAY)
    yield database
    await database.close()


async def person(db: Database, channel: str, external_id: str, unit_code: str | None) -> Officer:
    async with db.transaction() as session:
        unit = (await session.scalar(select(Unit).where(Unit.code == unit_code))) if unit_code else None
        code, _ = await create_invite(session, unit, Role.OFFICER if unit else Role.ADMIN)
        redeemed = await redeem_invite(session, code, channel, external_id, chat_id=external_id)
        assert redeemed.officer is not None
        return redeemed.officer


async def say(db: Database, officer: Officer, line: str) -> None:
    async with db.transaction() as session:
        unit = await session.get(Unit, officer.unit_id)
        assert unit is not None
        report = await open_report(session, officer, unit, "telegram")
        assert report is not None
        await take_turn(session, report, parse_text(line))


async def admin_says(db: Database, admin: Officer, command: str, args: str) -> str:
    async with db.transaction() as session:
        ctx = AdminContext(session, translator("vi"), WorkingCalendar(), TODAY, "ke-hoach-20-2021.yaml",
                           Actor(admin.id, "telegram"))
        return "\n".join(await run_admin_command(ctx, command, args))


async def outbox(db: Database) -> list[tuple[str, str, str]]:
    async with db.transaction() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(row.kind, row.chat_id, json.loads(row.payload)["text"]) for row in rows]


async def status(db: Database) -> str:
    async with db.transaction() as session:
        return str(await session.scalar(select(Submission.status)))


async def test_return_edit_resubmit_accept(db: Database, engine: object) -> None:
    admin = await person(db, "telegram", "900", None)
    officer = await person(db, "telegram", "100", "31135")
    colleague = await person(db, "zalo", "z-200", "31135")
    await person(db, "telegram", "300", "31120")  # another unit's officer: hears nothing
    for line in [*script_for(engine), "nộp", "xác nhận"]:  # type: ignore[arg-type]
        await say(db, officer, line)
    assert await status(db) == "submitted"
    sent = await outbox(db)
    assert [(kind, chat) for kind, chat, _ in sent] == [("submitted", "900")]

    # An officer cannot return or accept, on any channel.
    assert "Chỉ cán bộ Văn phòng UBND thành phố" in "\n".join(await zalo_text(db, "z-200", "/tralai 31135 x"))
    assert await status(db) == "submitted"

    # A return needs a reason; with one, every officer of the unit hears it, on their channel.
    assert "Cú pháp" in await admin_says(db, admin, "tralai", "31135")
    reply = await admin_says(db, admin, "tralai", "31135 Bổ sung số liệu mục 4.3")
    assert "Đã trả lại báo cáo của Phường Ninh Kiều" in reply
    assert await status(db) == "returned"
    returned = [(chat, text) for kind, chat, text in await outbox(db) if kind == "return"]
    assert sorted(chat for chat, _ in returned) == ["100", "z-200"]
    assert all("Bổ sung số liệu mục 4.3" in text for _, text in returned)

    # While the unit edits, there is nothing to accept; its edits are taken.
    assert "chưa nộp" in await admin_says(db, admin, "tiepnhan", "31135")
    await say(db, colleague, "mục lục 1.1")
    await say(db, colleague, "Đã ban hành Kế hoạch số 15/KH-UBND (bổ sung)")
    await say(db, colleague, "nộp")
    await say(db, colleague, "xác nhận")
    assert await status(db) == "resubmitted"
    resubmitted = [text for kind, chat, text in await outbox(db) if kind == "submitted"]
    assert len(resubmitted) == 2 and "đã nộp lại" in resubmitted[-1]

    assert "Đã tiếp nhận" in await admin_says(db, admin, "tiepnhan", "31135")
    assert await status(db) == "accepted"
    accepted = sorted(chat for kind, chat, _ in await outbox(db) if kind == "accept")
    assert accepted == ["100", "z-200"]
    assert "đã được tiếp nhận" in await admin_says(db, admin, "tiepnhan", "31135")
    # Nothing ever went to the other unit's officer.
    assert all(chat != "300" for _, chat, _ in await outbox(db))

    # The history keeps each version and who did what.
    async with db.transaction() as session:
        events = [(e.event, e.officer_id) for e in await session.scalars(
            select(HistoryEntry).where(HistoryEntry.question.is_(None)).order_by(HistoryEntry.id))]
    assert events == [("submit", officer.id), ("return", admin.id), ("resubmit", colleague.id),
                      ("accept", admin.id)]


async def zalo_text(db: Database, user: str, text: str) -> list[str]:
    async with db.transaction() as session:
        ctx = TextContext(session, "zalo", user, user, "", WorkingCalendar(), TODAY, "ke-hoach-20-2021.yaml")
        return await handle_text(ctx, text)


async def test_the_charts_show_the_database(db: Database, engine: object) -> None:
    officers = [await person(db, "telegram", str(100 + n), code)
                for n, code in enumerate(["31135", "31120", "31147"])]
    for line in [*script_for(engine), "nộp", "xác nhận"]:  # type: ignore[arg-type]
        await say(db, officers[0], line)
    await say(db, officers[1], "không có")
    async with db.transaction() as session:
        units = len(list(await session.scalars(select(Unit).where(Unit.level == "commune"))))
        campaign = (await open_campaigns(session))[0]
        campaign_charts = await progress_charts(session, campaign, WorkingCalendar(), TODAY)
    (status_data, status_png), (over_time, progress_png) = campaign_charts
    counts = dict(zip(status_data.keys, status_data.values, strict=True))
    assert counts["submitted"] == 1 and counts["in_progress"] == 1
    assert counts["not_started"] == units - 2
    assert sum(status_data.values) == units
    assert over_time.values[-1] == 1 and over_time.deadline == date(2027, 10, 29)
    for png in (status_png, progress_png):
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000
