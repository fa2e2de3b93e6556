"""An answer lands under the question its sender saw, or the sender is told the question moved on:
two terminals of one officer, and two channels (Zalo and Telegram) of one linked officer."""

from __future__ import annotations

import asyncio
import queue
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

from bot.config import Settings
from bot.console import ConsoleIO, run_chat
from deadlines.workdays import WorkingCalendar
from engine.conversation import ReportEngine
from handlers.text_chat import TextContext, handle_text
from storage.campaigns import ensure_campaign
from storage.database import Database
from storage.models import AnswerRow, Unit
from storage.officers import create_invite
from tests.scripted_officer import scripted_turns

MOVED_ON = "câu hỏi đó không còn là câu đang mở"


@dataclass
class Terminal:
    """One `kstthc-bot chat` session, driven line by line."""

    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    shown: list[str] = field(default_factory=list)

    def io(self) -> ConsoleIO:
        return ConsoleIO(self.lines.get, self.shown.append)

    async def types(self, line: str) -> str:
        """What the terminal shows in answer (everything up to its closing blank line)."""
        before = len(self.shown)
        self.lines.put(line)
        for _ in range(400):
            if len(self.shown) > before and self.shown[-1] == "":
                return "\n".join(self.shown[before:])
            await asyncio.sleep(0.025)
        raise AssertionError(f"no answer to {line!r}; shown: {self.shown[before:]}")

    async def started(self) -> str:
        for _ in range(400):
            if self.shown and self.shown[-1] == "":
                return "\n".join(self.shown)
            await asyncio.sleep(0.025)
        raise AssertionError(f"the chat did not start: {self.shown}")


async def stored(url: str) -> dict[str, str | None]:
    db = Database(url)
    try:
        async with db.transaction() as session:
            return {row.question: row.value for row in await session.scalars(select(AnswerRow))}
    finally:
        await db.close()


async def test_two_terminals_of_one_officer_never_save_an_answer_under_a_question_not_shown(
    tmp_path: Path, engine: ReportEngine
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}"
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    (first_q, first_line), (second_q, second_line) = scripted_turns(engine)[:2]
    first, second = Terminal(), Terminal()
    chat_one = asyncio.create_task(run_chat(settings, first.io()))
    await first.started()
    chat_two = asyncio.create_task(run_chat(settings, second.io()))
    await second.started()
    try:
        first_number = engine.outline.question(first_q).number
        assert f"{first_number}. " in second.shown[-2] or any(
            f"{first_number}. " in line for line in second.shown), "both terminals show question 1"

        await first.types(first_line)
        assert (await stored(url)).keys() == {first_q}

        # The second terminal still shows question 1 and answers it: that question has moved on
        # (answered in the first terminal), so nothing is saved, not even under question 2.
        reply = await second.types("999")
        assert MOVED_ON in reply
        assert (await stored(url)).keys() == {first_q}

        # It now shows question 2; its next line is saved there.
        assert f"{engine.outline.question(second_q).number}. " in reply
        await second.types(second_line)
        assert (await stored(url)).keys() == {first_q, second_q}

        # The first terminal, still on question 2, is told in turn, and question 2 keeps its answer.
        before = await stored(url)
        assert MOVED_ON in await first.types("1")
        assert await stored(url) == before
    finally:
        first.lines.put(None)
        second.lines.put(None)
        assert await asyncio.wait_for(chat_one, 10) == 0
        assert await asyncio.wait_for(chat_two, 10) == 0


async def test_a_linked_officer_answering_on_zalo_and_telegram_at_once_is_told_the_question_moved_on(
    tmp_path: Path, engine: ReportEngine
) -> None:
    """The text path both channels share, for one officer reached on two channels."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    await db.upgrade()
    (first_q, first_line), (second_q, second_line) = scripted_turns(engine)[:2]
    try:
        async with db.transaction() as session:
            unit = Unit(code="31150", name="Phường Tân An", level="commune")
            session.add(unit)
            await session.flush()
            await ensure_campaign(session, "tu-kiem-tra-2027", "Tự kiểm tra", engine.outline,
                                  "ke-hoach-20-2021.yaml", date(2027, 10, 31))
            code, _invite = await create_invite(session, unit)

        async def says(channel: str, text: str) -> str:
            async with db.transaction() as session:
                ctx = TextContext(session, channel, f"{channel}-1", f"{channel}-1", "Cán bộ",
                                  WorkingCalendar(), date(2027, 3, 1), "ke-hoach-20-2021.yaml")
                return "\n".join(await handle_text(ctx, text))

        await says("zalo", code)  # registered on Zalo: question 1 shown there
        link = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}", await says("zalo", "liên kết"))
        assert link is not None
        await says("telegram", link.group(0))  # the same officer on Telegram: question 1 there too

        assert "Đã lưu" in await says("telegram", first_line)
        reply = await says("zalo", "999")  # typed on Zalo against question 1, answered meanwhile
        assert MOVED_ON in reply
        assert f"{engine.outline.question(second_q).number}. " in reply
        assert (await stored(db.url)).keys() == {first_q}
        assert "Đã lưu" in await says("zalo", second_line)
        assert (await stored(db.url)).keys() == {first_q, second_q}
    finally:
        await db.close()
