"""Registration as strangers and the VP office meet it: words that cannot be a code get help, not a
spent try; a VP office account given a unit's code is asked before it becomes that unit's officer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from deadlines.workdays import WorkingCalendar
from engine.conversation import ReportEngine
from handlers.text_chat import TextContext, handle_text
from storage.campaigns import ensure_campaign
from storage.database import Database
from storage.models import Invite, Officer, RegistrationAttempt, Role, Unit
from storage.officers import create_invite


@pytest.fixture
async def db(tmp_path: Path, engine: ReportEngine) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    await database.upgrade()
    async with database.transaction() as session:
        session.add(Unit(code="31150", name="Phường Tân An", level="commune"))
        await ensure_campaign(session, "tu-kiem-tra-2027", "Tự kiểm tra", engine.outline,
                              "ke-hoach-20-2021.yaml", date(2027, 10, 31))
    yield database
    await database.close()


async def says(db: Database, user: str, text: str) -> str:
    async with db.transaction() as session:
        ctx = TextContext(session, "zalo", user, user, "Cán bộ", WorkingCalendar(), date(2027, 3, 1),
                          "ke-hoach-20-2021.yaml")
        return "\n".join(await handle_text(ctx, text))


async def count(db: Database, what: type[RegistrationAttempt] | type[Officer]) -> int:
    async with db.transaction() as session:
        return int(await session.scalar(select(func.count()).select_from(what)) or 0)


async def new_invite(db: Database, role: Role = Role.OFFICER) -> str:
    async with db.transaction() as session:
        unit = None if role is Role.ADMIN else await session.scalar(select(Unit))
        return (await create_invite(session, unit, role))[0]


async def test_words_that_cannot_be_a_code_get_help_and_spend_no_try(db: Database) -> None:
    for text in ("xin chào", "Tôi là cán bộ xã", "42", "???", "ABCD-EFG"):
        assert "vui lòng gửi mã mời" in await says(db, "stranger", text)
    assert await count(db, RegistrationAttempt) == 0
    assert "Mã mời không đúng" in await says(db, "stranger", "ABCD-EFGH")
    assert await count(db, RegistrationAttempt) == 1


async def test_a_vp_office_account_is_asked_before_a_units_code_makes_it_that_units_officer(
    db: Database,
) -> None:
    assert "Văn phòng UBND thành phố" in await says(db, "office", await new_invite(db, Role.ADMIN))
    code = await new_invite(db)

    asked = await says(db, "office", f"/start {code}")
    assert "Phường Tân An" in asked and f"xác nhận {code}" in asked
    async with db.transaction() as session:
        officer = await session.scalar(select(Officer))
        assert officer is not None and officer.role == Role.ADMIN and officer.unit_id is None
        invite = await session.scalar(select(Invite).where(Invite.role == Role.OFFICER))
        assert invite is not None and invite.used_at is None  # not spent by the question
    assert await count(db, RegistrationAttempt) == 0

    welcome = await says(db, "office", f"xác nhận {code.lower()}")
    assert "cán bộ đầu mối của Phường Tân An" in welcome
    async with db.transaction() as session:
        officer = await session.scalar(select(Officer))
        assert officer is not None and officer.role == Role.OFFICER and officer.unit_id is not None
    assert await count(db, Officer) == 1
