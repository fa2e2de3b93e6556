"""Running the real `kstthc-bot run` against the fake Bot API server, and an officer on a phone."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.outline import Outline
from engine.question import Question
from tests.commands import command
from tests.fake_telegram import FakeMessage, FakeTelegram
from tests.scripted_officer import typed_answer

POSITION = re.compile(r"câu (\d+)/(\d+)")


def bot_environment(workdir: Path, tg: FakeTelegram, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KSTTHC_")}
    env.update(tg.env())
    env["KSTTHC_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'bot.sqlite3'}"
    env["KSTTHC_TELEGRAM_POLL_TIMEOUT"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def cli(workdir: Path, tg: FakeTelegram, *args: str, **extra: str) -> str:
    result = subprocess.run([*command(), *args], capture_output=True, text=True, cwd=workdir,
                            env=bot_environment(workdir, tg, **extra), timeout=60, check=True)
    return result.stdout.strip()


@asynccontextmanager
async def running_bot(workdir: Path, tg: FakeTelegram, **extra: str) -> AsyncIterator[subprocess.Popen[str]]:
    log = (workdir / "bot.log").open("a")
    process = subprocess.Popen([*command(), "run"], cwd=workdir, env=bot_environment(workdir, tg, **extra),
                               stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        yield process
    finally:
        # Waited for off the event loop: the fake server (on this loop) answers the calls the bot
        # ends with, so it stops in a fraction of a second. A blocked loop held them until the
        # bot gave up on them, 1.5 s, or until the SIGKILL after `grace`.
        await asyncio.to_thread(terminate, process, 3)
        log.close()


def terminate(process: subprocess.Popen[str], grace: float) -> None:
    """SIGTERM, and SIGKILL if the bot is still running `grace` seconds later."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def stop_within(process: subprocess.Popen[Any], seconds: float) -> float:
    """SIGTERM; the seconds until the bot has exited. Waited for off the event loop, so that the
    fake server (on this loop) goes on answering the calls the bot finishes with, as Telegram
    would; a blocked loop would hold a reply in flight until the bot's grace runs out."""
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    await asyncio.to_thread(process.wait, timeout=seconds + 5)
    return time.monotonic() - started


def query(workdir: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(workdir / "bot.sqlite3") as connection:
        return connection.execute(sql).fetchall()


def is_question(message: FakeMessage) -> bool:
    return bool(message.buttons) and POSITION.search(message.plain_text or message.text) is not None


@dataclass
class Officer:
    """An officer in a Telegram chat, reading what the bot last asked and answering it."""

    tg: FakeTelegram
    user_id: int
    outline: Outline
    seen: int = 0
    answered: list[str] = field(default_factory=list)

    def messages(self) -> list[FakeMessage]:
        return self.tg.messages_to(self.user_id, include_deleted=True)

    async def says(self, text: str, expect: str | None = None, timeout: float = 15) -> FakeMessage:
        since = len(self.messages())
        self.tg.user_sends_text(self.user_id, text, first_name="Cán bộ")
        return await self.next_message(since, expect, timeout)

    async def presses(self, label: str, message: FakeMessage | None = None,
                      expect: str | None = None, timeout: float = 15) -> FakeMessage:
        since = len(self.messages())
        target = message or self.current_question()
        self.tg.press(self.user_id, label, target.message_id)
        return await self.next_message(since, expect, timeout)

    async def next_message(self, since: int, expect: str | None, timeout: float) -> FakeMessage:
        return await self.tg.wait_for_message(self.user_id, since=since, contains=expect, timeout=timeout)

    def current_question(self) -> FakeMessage:
        questions = [m for m in self.messages() if is_question(m)]
        assert questions, "no question on screen"
        return questions[-1]

    def question_on_screen(self) -> Question:
        text = self.current_question().plain_text
        for line in text.splitlines():
            number = line.split(". ", 1)[0].strip()
            for question in self.outline.asked_questions:
                if question.number == number:
                    return question
        raise AssertionError(f"cannot tell which question this is:\n{text}")

    async def answer_current(self) -> FakeMessage | None:
        """Answer what is on screen the way a commune officer would, by button or by typing."""
        question = self.question_on_screen()
        typed = typed_answer(question, len(self.answered))
        self.answered.append(question.name)
        before = self.current_question().message_id
        if typed == "không có" and len(self.answered) % 2:
            await self.presses("∅ Không có nội dung để báo cáo")
        elif question.type == "yes_no":
            await self.presses("Có")
        elif question.type == "select_one":
            await self.presses(question.choices[0].label.vi)
        else:
            await self.says(typed)
        await self.tg.wait_for(lambda s: any(
            is_question(m) and m.message_id > before for m in s.messages_to(self.user_id))
            or any("Đơn vị đã trả lời đủ" in m.text for m in s.messages_to(self.user_id)),
            timeout=15, message="the next question")
        questions = [m for m in self.messages() if is_question(m)]
        return questions[-1] if questions else None
