"""Running the real `kstthc-bot run` against the fake Zalo Bot API (and, for linking, the fake
Telegram one), and an officer typing on a phone in Zalo, where there are no buttons."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.outline import Outline
from engine.question import Question
from tests.commands import command
from tests.fake_telegram import FakeMessage, FakeTelegram
from tests.fake_zalo import FakeZalo, SentMessage
from tests.scripted_officer import typed_answer
from tests.telegram_harness import Officer

POSITION = re.compile(r"câu (\d+)/(\d+)")
CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b")
SAVED = "✅ Đã lưu"
DONE = "Đơn vị đã trả lời đủ"
ONLY_TEXT = "Bot chỉ đọc được tin nhắn chữ"
TIMEOUT = 15.0


def bot_environment(workdir: Path, zalo: FakeZalo | None = None, tg: FakeTelegram | None = None,
                    **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KSTTHC_")}
    if zalo is not None:
        env.update(zalo.env())
        env["KSTTHC_ZALO_POLL_TIMEOUT"] = "1"
    if tg is not None:
        env.update(tg.env())
        env["KSTTHC_TELEGRAM_POLL_TIMEOUT"] = "1"
    env["KSTTHC_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'bot.sqlite3'}"
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def cli(workdir: Path, *args: str) -> str:
    """A `kstthc-bot` command on the test's database (e.g. `invite 31135`); its output."""
    result = subprocess.run([*command(), *args], capture_output=True, text=True, cwd=workdir,
                            env=bot_environment(workdir), timeout=60)
    assert result.returncode == 0, f"kstthc-bot {' '.join(args)} failed:\n{result.stderr}"
    return result.stdout.strip()


def query(workdir: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(workdir / "bot.sqlite3", timeout=30) as connection:
        return connection.execute(sql, params).fetchall()


def scalar(workdir: Path, sql: str, *params: object) -> Any:
    return query(workdir, sql, *params)[0][0]


class Bot:
    """`kstthc-bot run` as a subprocess that can be stopped politely or killed and started again."""

    def __init__(self, workdir: Path, env: dict[str, str], *args: str) -> None:
        self.workdir, self.env, self.args = workdir, env, args
        self.process: subprocess.Popen[str] | None = None
        self.starts = 0

    def start(self) -> Bot:
        assert self.process is None or self.process.poll() is not None, "already running"
        with (self.workdir / "bot.log").open("a") as log:
            log.write(f"===== start #{self.starts + 1} =====\n")
            log.flush()
            self.process = subprocess.Popen([*command(), "run", *self.args], cwd=self.workdir, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT, text=True)
        self.starts += 1
        return self

    def kill(self) -> None:
        """SIGKILL: no grace, no cleanup, whatever was in hand is lost."""
        assert self.process is not None and self.process.poll() is None, "the bot is not running"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    async def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM; waits for the exit without blocking the fake servers, which go on answering
        whatever the bot sends while it shuts down. The exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode

    def log(self) -> str:
        return (self.workdir / "bot.log").read_text(errors="replace")


@asynccontextmanager
async def running_bot(workdir: Path, zalo: FakeZalo | None = None, tg: FakeTelegram | None = None, *,
                      args: tuple[str, ...] = (), env: dict[str, str] | None = None) -> AsyncIterator[Bot]:
    """`kstthc-bot run ARGS` with both fakes' settings (and `env`), stopped with SIGTERM at the end."""
    bot = Bot(workdir, bot_environment(workdir, zalo, tg, **(env or {})), *args).start()
    try:
        yield bot
    finally:
        await bot.stop()


def question_number(text: str) -> str | None:
    """The number of the question a bot message asks: the first line after "… — câu X/Y"."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if POSITION.search(line):
            rest = [candidate for candidate in lines[index + 1:] if candidate.strip()]
            return rest[0].split(". ", 1)[0].strip() if rest else None
    return None


@dataclass
class ZaloOfficer:
    """Someone in a private Zalo chat with the bot, who reads what it asked and types an answer."""

    zalo: FakeZalo
    user_id: str
    outline: Outline
    name: str = "Cán bộ"
    answered: list[str] = field(default_factory=list)  # question names, in the order answered
    events: list[dict[str, Any]] = field(default_factory=list)

    def messages(self) -> list[SentMessage]:
        return self.zalo.messages_to(self.user_id)

    def texts(self) -> list[str]:
        return [m.text for m in self.messages()]

    def sends(self, text: str) -> dict[str, Any]:
        """Type and send, without waiting for the bot; the event (for redeliver)."""
        event = self.zalo.user_sends_text(self.user_id, text, display_name=self.name)
        self.events.append(event)
        return event

    async def says(self, text: str, expect: str | None = None, timeout: float = TIMEOUT) -> SentMessage:
        """Send a text; the first bot message after it (containing `expect`, if given)."""
        since = len(self.messages())
        self.sends(text)
        return await self.zalo.wait_for_message(self.user_id, since=since, contains=expect, timeout=timeout)

    def question_message(self) -> SentMessage:
        questions = [m for m in self.messages() if question_number(m.text)]
        assert questions, "no question asked yet"
        return questions[-1]

    def question_on_screen(self) -> Question:
        text = self.question_message().text
        number = question_number(text)
        for question in self.outline.asked_questions:
            if question.number == number:
                return question
        raise AssertionError(f"cannot tell which question this is:\n{text}")

    def position(self) -> tuple[int, int]:
        found = POSITION.search(self.question_message().text)
        assert found
        return int(found.group(1)), int(found.group(2))

    def finished(self) -> bool:
        return any(DONE in text for text in self.texts())

    async def answer(self, typed: str | None = None, timeout: float = TIMEOUT) -> SentMessage:
        """Answer the question on screen (by default as the scripted officer would). Returns the
        message that asks the next question (or says the outline is done), once the bot said it
        saved the answer; a long answer echoed back may make that two messages."""
        question = self.question_on_screen()
        typed = typed_answer(question, len(self.answered)) if typed is None else typed
        since = len(self.messages())
        self.sends(typed)

        def next_question(zalo: FakeZalo) -> SentMessage | None:
            new = zalo.messages_to(self.user_id)[since:]
            saved = next((i for i, m in enumerate(new) if SAVED in m.text), None)
            if saved is None:
                return None
            return next((m for m in new[saved:] if question_number(m.text) or DONE in m.text), None)

        reply: SentMessage = await self.zalo.wait_for(
            next_question, timeout, f"{question.number} saved and the next question asked")
        self.answered.append(question.name)
        return reply


def code_in(text: str) -> str:
    found = CODE.search(text)
    assert found, f"no code in {text!r}"
    return found.group(0)


class TelegramOfficer(Officer):
    """The Telegram harness's officer, for whom the last answer may leave no question on screen
    (each answered question's message is edited into a record, without buttons)."""

    def finished(self) -> bool:
        return any(DONE in m.plain_text for m in self.messages())

    async def answer_current(self) -> FakeMessage | None:
        try:
            return await super().answer_current()
        except AssertionError:
            if self.finished():
                return None
            raise
