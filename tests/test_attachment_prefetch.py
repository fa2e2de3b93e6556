"""A file downloads outside the database's write lock (bot/prefetched_files.py): on SQLite, while
one officer's large file comes in slowly, another officer's answer is saved and answered at
once; the file is still stored and acknowledged, downloaded once. The real `kstthc-bot run`
against the fake Telegram Bot API serving files slowly."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.seed import seed_if_empty
from engine.outline import Outline
from storage.database import Database
from storage.models import Role, Unit
from storage.officers import create_invite
from storage.units import unit_by_code
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import Officer
from tests.zalo_harness import query, running_bot

FIRST, SECOND = 2002, 2003
STARTUP = 30.0
DOWNLOAD_SECONDS = 1.5
# 5 MB, a PDF by its header: a scanned decision, say.
BIG_PDF = b"%PDF-1.4\n" + bytes(range(256)) * (5 * 1024 * 1024 // 256) + b"\n%%EOF\n"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


async def two_units_invites(workdir: Path) -> tuple[str, str]:
    """The database as `kstthc-bot invite` leaves it: an officer's invite for two units."""
    url = f"sqlite+aiosqlite:///{workdir / 'bot.sqlite3'}"  # the harness's
    db = Database(url)
    try:
        await db.upgrade()
        async with db.transaction() as session:
            await seed_if_empty(session, Settings(database_url=url), date.today())
            first = await unit_by_code(session, "31135")
            second = await session.scalar(select(Unit).where(Unit.code != "31135").order_by(Unit.id).limit(1))
            assert first is not None and second is not None
            codes = [(await create_invite(session, unit, Role.OFFICER))[0] for unit in (first, second)]
    finally:
        await db.close()
    return codes[0], codes[1]


async def test_a_slow_download_holds_up_no_other_officer_on_sqlite(
    tg: FakeTelegram, tmp_path: Path, outline: Outline
) -> None:
    first_code, second_code = await two_units_invites(tmp_path)
    async with running_bot(tmp_path, None, tg):
        first, second = Officer(tg, FIRST, outline), Officer(tg, SECOND, outline)
        await first.says(f"/start {first_code}", expect="câu 1/", timeout=STARTUP)
        await second.says(f"/start {second_code}", expect="câu 1/")
        answers_before = len(query(tmp_path, "select id from answers"))

        tg.file_delay = DOWNLOAD_SECONDS
        since = len(first.messages())
        tg.user_sends_document(FIRST, "Quyet dinh scan.pdf", BIG_PDF, mime_type="application/pdf")
        await tg.wait_for(lambda s: tg.request_count("getFile") >= 1, timeout=10,
                          message="the file asked for")

        # The sender answers question 1.1 right after the file; the other officer answers too,
        # and is saved and asked the next question before the file has finished coming in.
        first_answers = asyncio.create_task(first.answer_current())
        await second.answer_current()
        assert tg.file_downloads == [], "the answer waited for the other officer's download"
        assert len(query(tmp_path, "select id from answers")) > answers_before

        # The file, once in, is stored and acknowledged, for the question on screen when it was
        # sent (its answer, sent after it, is applied after it); downloaded once.
        saved = await first.next_message(since, "Đã lưu tệp", timeout=DOWNLOAD_SECONDS + 10)
        assert "“Quyet dinh scan.pdf”" in saved.plain_text and "kèm theo câu 1.1" in saved.plain_text
        next_question = await first_answers
        assert next_question is not None and next_question.message_id > saved.message_id
        assert len(tg.file_downloads) == 1
        stored = query(tmp_path, "select sha256, size from attachments")
        assert stored == [(hashlib.sha256(BIG_PDF).hexdigest(), len(BIG_PDF))]
        path = tmp_path / "kstthc-data" / "attachments" / stored[0][0][:2] / stored[0][0]
        assert path.read_bytes() == BIG_PDF
