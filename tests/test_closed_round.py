"""An officer cannot go on filling a round the VP office has closed: what they send next is not
saved, they are told the round is closed (and that what was saved stays), and which round is
open now, if any; shown that once, they work in the open round. Through the chat's own handlers
(handle_text, as Zalo and the text channels call it) and the terminal chat's turn, on a real
SQLite file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import Settings
from bot.console import _turn
from bot.seed import seed_if_empty
from deadlines.workdays import WorkingCalendar
from engine.conversation import ReportEngine
from handlers.campaigns import create_campaign
from handlers.report import open_report
from handlers.text_chat import TextContext, handle_text
from locales.translation import translator
from storage.database import Database
from storage.models import AnswerRow, Campaign, Submission, Unit, utcnow
from tests.scripted_officer import script_for
from tests.web_desk import AT_WORK, TODAY, person

pytestmark = pytest.mark.asyncio


async def test_a_closed_round_takes_nothing_more_and_names_the_open_one(tmp_path: Path,
                                                                       engine: ReportEngine) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rounds.sqlite3'}"
    db = Database(url, sqlite_synchronous="NORMAL")
    await db.upgrade()
    try:
        async with db.transaction() as session:
            await seed_if_empty(session, Settings(database_url=url), TODAY)
        officer = await person(db, "500", AT_WORK)
        script = script_for(engine)

        async def says(text: str) -> str:
            async with db.transaction() as session:
                ctx = TextContext(session, "telegram", "500", "500", "", WorkingCalendar(), TODAY,
                                  "ke-hoach-20-2021.yaml")
                return "\n".join(await handle_text(ctx, text))

        async def answers(code: str) -> int:
            async with db.transaction() as session:
                return int(await session.scalar(select(func.count()).select_from(AnswerRow).join(
                    Submission, Submission.id == AnswerRow.submission_id).join(
                    Campaign, Campaign.id == Submission.campaign_id).where(Campaign.code == code)) or 0)

        first = "tu-kiem-tra-2027"  # the round seeded on first run
        await says(script[0])
        assert await answers(first) == 1
        async with db.transaction() as session:  # the desk's "Đóng đợt"
            campaign = await session.scalar(select(Campaign).where(Campaign.code == first))
            assert campaign is not None
            campaign.closed_at = utcnow()

        reply = await says(script[1])
        assert "đã được Văn phòng UBND thành phố đóng ngày" in reply and campaign.title in reply
        assert "các nội dung đã lưu vẫn được giữ nguyên" in reply
        assert "Hiện chưa có đợt báo cáo nào đang mở cho đơn vị." in reply
        assert await answers(first) == 1

        async with db.transaction() as session:
            await create_campaign(session, "tu-kiem-tra-2028", "Tự kiểm tra năm 2028", "fixed_date",
                                  date(2028, 10, 31), "ke-hoach-20-2021.yaml")
        moved = await says(script[1])  # meant for the closed round: not saved in the new one either
        assert "Đợt đang mở: “Tự kiểm tra năm 2028”" in moved and "chưa được lưu" in moved
        assert engine.outline.questions[0].label.get("vi")[:30] in moved  # the new round's first question
        assert await answers(first) == 1 and await answers("tu-kiem-tra-2028") == 0
        then = await says(script[0])  # told once: now it is an answer of the open round
        assert "đã được Văn phòng UBND thành phố đóng" not in then
        assert await answers("tu-kiem-tra-2028") == 1

        # The terminal chat holds its report between lines: a round closed meanwhile takes no line.
        async with db.transaction() as session:
            unit = await session.scalar(select(Unit).where(Unit.code == AT_WORK))
            assert unit is not None
            report = await open_report(session, officer, unit, "console")
            assert report is not None and report.campaign.code == "tu-kiem-tra-2028"
            report.campaign.closed_at = utcnow()
        said = await _turn(db, report, script[1], None, translator("vi"))
        assert isinstance(said, str) and "Câu trả lời vừa gửi chưa được lưu." in said
        assert await answers("tu-kiem-tra-2028") == 1
    finally:
        await db.close()
