"""The Telegram channel under stress: the real `kstthc-bot run` killed with SIGKILL mid-flight,
Bot API 429/5xx answers, and thousands of random updates. Nothing acknowledged is lost, nothing
is applied twice, and nothing the bot says is refused by Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import bot.inbox_workers as inbox_workers_module
import storage.inbox as inbox_module
from bot.config import Settings
from bot.seed import seed_if_empty
from bot.telegram.runner import TelegramChannel
from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.outline import Outline
from engine.views import Action, QuestionView, State
from storage.database import Database
from storage.models import Role
from storage.officers import create_invite
from storage.units import unit_by_code
from tests.commands import command
from tests.fake_telegram import FakeTelegram
from tests.scripted_officer import script_for, typed_answer
from tests.telegram_harness import Officer, bot_environment, cli, query, running_bot, stop_within

OFFICERS = 50
ANSWERS_EACH = 20
KILLS = 5
REPLY_TIMEOUT = 1.0  # an officer who sees no reply types the next answer anyway


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


# ----- helpers ---------------------------------------------------------------------------------

def commune_codes(workdir: Path, tg: FakeTelegram, count: int) -> list[str]:
    """Real unit codes, as `kstthc-bot units list` prints them (this also seeds the database)."""
    listed = cli(workdir, tg, "units", "list", "--level", "commune")
    codes = [line.split("\t")[0] for line in listed.splitlines() if line.strip()]
    assert len(codes) >= count
    return codes[:count]


async def invites_for(workdir: Path, codes: list[str]) -> list[str]:
    """One invite per unit, as `kstthc-bot invite CODE` makes it (in process: 50 CLI starts are slow)."""
    db = Database(f"sqlite+aiosqlite:///{workdir / 'bot.sqlite3'}")
    try:
        async with db.transaction() as session:
            invites = []
            for code in codes:
                unit = await unit_by_code(session, code)
                assert unit is not None
                invites.append((await create_invite(session, unit, Role.OFFICER))[0])
        return invites
    finally:
        await db.close()


@dataclass(frozen=True)
class Line:
    question: str
    text: str
    unique: bool  # a text answer nobody else types: its landing can be checked exactly


def answer_script(engine: ReportEngine, officer: int, count: int) -> list[Line]:
    """What one commune officer types, in the order the engine asks: a text answer of its own
    for every text question (with markup-like characters), figures that satisfy every rule."""
    state = engine.resume(State(answers={}, unit_level="commune")).state
    lines: list[Line] = []
    while len(lines) < count:
        assert state.cursor is not None
        view = engine.view_at(state, state.cursor)
        assert isinstance(view, QuestionView)
        question = view.question
        unique = question.type == "text"
        text = (f"Đơn vị {officer} trả lời {len(lines)}: <đã làm> & đúng hạn" if unique
                else typed_answer(question, 1))
        outcome = engine.step(state, parse_text(text))
        assert outcome.saved, f"{text!r} refused for {question.name}"
        lines.append(Line(question.name, text, unique))
        state = outcome.state
    return lines


class ChatWatcher:
    """Counts the bot's messages per chat without rescanning the fake's whole history."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self.seen = 0
        self.counts: Counter[int] = Counter()
        self.changed: dict[int, asyncio.Event] = {}

    def scan(self) -> None:
        sent = self.tg.sent
        for message in sent[self.seen:]:
            self.counts[message.chat_id] += 1
            event = self.changed.get(message.chat_id)
            if event is not None:
                event.set()
        self.seen = len(sent)

    async def run(self) -> None:
        while True:
            self.scan()
            await asyncio.sleep(0.02)

    async def more_than(self, chat_id: int, count: int) -> None:
        event = self.changed.setdefault(chat_id, asyncio.Event())
        while self.counts[chat_id] <= count:
            event.clear()
            await event.wait()


@dataclass
class BotProcess:
    """`kstthc-bot run` that the test kills and starts again on the same database."""

    workdir: Path
    tg: FakeTelegram
    extra: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[str] | None = None
    starts: int = 0

    def start(self) -> None:
        with (self.workdir / "bot.log").open("a") as log:
            env = bot_environment(self.workdir, self.tg, **self.extra)
            self.process = subprocess.Popen([*command(), "run"], cwd=self.workdir, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, text=True)
        self.starts += 1

    def kill(self) -> None:
        assert self.process is not None and self.process.poll() is None, "the bot died on its own"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def inbox_state(workdir: Path) -> tuple[int, int]:
    """(stored updates, of which unprocessed)."""
    total, pending = query(workdir, "select count(*), sum(processed_at is null) from inbox")[0]
    return int(total), int(pending or 0)


async def wait_all_processed(workdir: Path, tg: FakeTelegram, last_update_id: int,
                             stuck_after: float) -> None:
    """Until every update is acknowledged and processed; fails only when that stops progressing
    (a slow machine just takes longer; rows stuck unprocessed are a bug)."""
    progress, since = (-1, -1), time.monotonic()
    while True:
        total, pending = inbox_state(workdir)
        if tg.confirmed_offset >= last_update_id and pending == 0:
            return
        if (tg.confirmed_offset, -pending) != progress:
            progress, since = (tg.confirmed_offset, -pending), time.monotonic()
        elif time.monotonic() - since > stuck_after:
            raise AssertionError(f"stuck: confirmed {tg.confirmed_offset}/{last_update_id}, "
                                 f"inbox {total} stored, {pending} pending\n{tg.describe()}")
        await asyncio.sleep(0.1)


# ----- a. SIGKILL while 50 officers answer -------------------------------------------------------

async def test_sigkill_loses_nothing_acknowledged_and_applies_nothing_twice(
    tg: FakeTelegram, tmp_path: Path, engine: ReportEngine
) -> None:
    started = time.monotonic()
    codes = commune_codes(tmp_path, tg, OFFICERS)
    invites = await invites_for(tmp_path, codes)
    users = [5_000_000 + n for n in range(OFFICERS)]
    scripts = {user: answer_script(engine, n, ANSWERS_EACH) for n, user in enumerate(users)}
    watcher = ChatWatcher(tg)
    watching = asyncio.create_task(watcher.run())
    bot = BotProcess(tmp_path, tg)
    bot.start()
    try:
        # Registration first, with the bot left alone.
        for user, invite in zip(users, invites, strict=True):
            tg.user_sends_text(user, f"/start {invite}", first_name=f"Cán bộ {user}")
        await tg.wait_for(lambda s: all(any("câu 1/" in m.text for m in s.messages_to(u)) for u in users),
                          timeout=30, message="every officer at question 1")
        registered_at = time.monotonic()

        update_ids: list[int] = []

        async def officer(user: int) -> None:
            for line in scripts[user]:
                seen = watcher.counts[user]
                update_ids.append(tg.user_sends_text(user, line.text))
                # No reply in time (late, or lost in a kill): the officer goes on all the same.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(watcher.more_than(user, seen), REPLY_TIMEOUT)

        left_by_kills: list[tuple[int, int]] = []  # (stored unprocessed, delivered unacknowledged)

        async def killer() -> None:
            for _ in range(KILLS):
                # Kill once the new process is busy with answers, not while it is still starting.
                before = watcher.seen
                deadline = time.monotonic() + 30
                while watcher.seen < before + 25:
                    assert time.monotonic() < deadline, "the bot does not answer after a restart"
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.4)
                bot.kill()
                left_by_kills.append((inbox_state(tmp_path)[1], tg.delivered_update_id - tg.confirmed_offset))
                bot.start()

        await asyncio.gather(killer(), *(officer(user) for user in users))
        last_update_id = max(update_ids)
        # The last kill may have come just now: a restart (imports, migrations check, Bot API
        # setup) took up to 10 s on a loaded 2-core machine, before any progress shows.
        await wait_all_processed(tmp_path, tg, last_update_id, stuck_after=30)
        answering = time.monotonic() - registered_at
        assert bot.stop() == 0
    finally:
        watching.cancel()
        if bot.process is not None and bot.process.poll() is None:
            bot.process.kill()
            bot.process.wait()

    assert bot.starts == KILLS + 1
    # The kills did land mid-work: stored updates were left for the restarted process to finish.
    assert sum(pending for pending, _ in left_by_kills) > 0, left_by_kills
    # Every update the fake saw acknowledged is stored and processed; nothing is still pending.
    stored = {int(str(update_id)): processed
              for update_id, processed in query(tmp_path, "select update_id, processed_at from inbox")}
    acknowledged = range(1, tg.confirmed_offset + 1)
    assert tg.confirmed_offset == last_update_id
    assert [u for u in acknowledged if u not in stored] == []
    assert [u for u, processed in stored.items() if processed is None] == []
    assert tg.pending_updates == []

    # Every typed answer is in the history exactly once, in order, and is the current answer.
    unit_of = {code: user for code, user in zip(codes, users, strict=True)}
    history: dict[int, list[tuple[str, str]]] = {user: [] for user in users}
    for code, question, value in query(tmp_path, (
            "select u.code, h.question, h.value from history h join submissions s on s.id = h.submission_id "
            "join units u on u.id = s.unit_id where h.event = 'answer' order by h.id")):
        history[unit_of[str(code)]].append((str(question), str(value)))
    answers: dict[int, dict[str, str]] = {user: {} for user in users}
    rows = query(tmp_path, "select u.code, a.question, a.value from answers a "
                           "join submissions s on s.id = a.submission_id join units u on u.id = s.unit_id")
    for code, question, value in rows:
        assert str(question) not in answers[unit_of[str(code)]], "two answer rows for one question"
        answers[unit_of[str(code)]][str(question)] = str(value)
    for user in users:
        script = scripts[user]
        assert [q for q, _ in history[user]] == [line.question for line in script], f"officer {user}"
        assert set(answers[user]) == {line.question for line in script}
        for line, (_, value) in zip(script, history[user], strict=True):
            if line.unique:
                assert value == line.text
                assert answers[user][line.question] == line.text
    assert len(rows) == OFFICERS * ANSWERS_EACH
    texts = [value for entries in history.values() for _, value in entries]
    unique_texts = [line.text for script in scripts.values() for line in script if line.unique]
    assert all(texts.count(text) == 1 for text in unique_texts)

    # The kills leave no traceback: SIGKILL says nothing, and the restarts find nothing broken.
    log = (tmp_path / "bot.log").read_text()
    assert "Traceback" not in log, log[-5000:]
    assert " ERROR " not in log, log[-5000:]
    elapsed = time.monotonic() - started
    print(f"\n{OFFICERS * ANSWERS_EACH} answers with {KILLS} SIGKILLs in {answering:.1f}s "
          f"({elapsed:.1f}s in all); left by each kill (stored unprocessed, delivered unacknowledged): "
          f"{left_by_kills}")


# ----- b. 429 and 5xx from the Bot API -----------------------------------------------------------

def sends_after(tg: FakeTelegram, since: int, method: str, chat_id: int) -> list[Any]:
    return [r for r in tg.request_log[since:] if r.method == method and r.chat_id == chat_id]


async def edit_delivered(tg: FakeTelegram, since: int, chat_id: int, what: str) -> None:
    """Edits go alongside the next question, and may finish after it."""
    await tg.wait_for(
        lambda s: any(r.status == 200 for r in sends_after(s, since, "editMessageText", chat_id)),
        timeout=10, message=what)


async def test_rate_limits_and_server_errors_delay_replies_but_lose_and_double_nothing(
    tg: FakeTelegram, tmp_path: Path, engine: ReportEngine, outline: Outline
) -> None:
    user = 6_000_001
    code = cli(tmp_path, tg, "invite", "31135")
    script = answer_script(engine, 1, 4)
    assert [line.unique for line in script[:3]] == [True, True, True]
    async with running_bot(tmp_path, tg):
        officer = Officer(tg, user, outline)
        await officer.says(f"/start {code}", expect="câu 1/")

        # 429 twice on sendMessage: the next question comes, but only after retry_after each time.
        mark = len(tg.request_log)
        tg.fail_next("sendMessage", status=429, retry_after=1, times=2)
        await officer.says(script[0].text, expect="câu 2/", timeout=20)
        sends = sends_after(tg, mark, "sendMessage", user)
        assert [r.status for r in sends] == [429, 429, 200]
        assert sends[1].time - sends[0].time >= 1.0
        assert sends[2].time - sends[1].time >= 1.0
        assert sends[2].time - sends[0].time >= 2.0

        # 429 on the edit of the answered question, and a 502 on the next question.
        mark = len(tg.request_log)
        tg.fail_next("editMessageText", status=429, retry_after=1, times=1)
        tg.fail_next("sendMessage", status=502, times=1)
        await officer.says(script[1].text, expect="câu 3/", timeout=20)
        await edit_delivered(tg, mark, user, "the edit delivered after its 429")
        edits = sends_after(tg, mark, "editMessageText", user)
        sends = sends_after(tg, mark, "sendMessage", user)
        assert [r.status for r in edits] == [429, 200]
        assert edits[1].time - edits[0].time >= 1.0
        assert [r.status for r in sends] == [502, 200]

        # 503 on both, and getUpdates failing too: the answer still arrives and is answered once.
        mark = len(tg.request_log)
        tg.fail_next("getUpdates", status=502, times=2)
        tg.fail_next("editMessageText", status=503, times=2)
        tg.fail_next("sendMessage", status=503, times=3)
        await tg.wait_for(lambda s: any(r.method == "getUpdates" and r.status == 502
                                        for r in s.request_log[mark:]), timeout=10, message="getUpdates 502")
        await officer.says(script[2].text, expect="câu 4/", timeout=30)
        await edit_delivered(tg, mark, user, "the edit delivered after its 503s")
        assert [r.status for r in sends_after(tg, mark, "sendMessage", user)] == [503, 503, 503, 200]
        assert [r.status for r in sends_after(tg, mark, "editMessageText", user)] == [503, 503, 200]

        # getUpdates answered with something unreadable (cut short on the way): polling goes on,
        # and the answer it carried comes again with the next call.
        mark = len(tg.request_log)
        tg.garble_next("getUpdates")
        await tg.wait_for(lambda s: any(r.method == "getUpdates" for r in s.request_log[mark:]),
                          timeout=10, message="getUpdates garbled")
        await officer.says(script[3].text, expect="câu 5/", timeout=20)
        await asyncio.sleep(0.5)  # anything doubled would have arrived by now

    # Each answer is recorded once; each question was sent once and its message edited once.
    rows = query(tmp_path, "select question, value from history where event = 'answer' order by id")
    assert rows == [(line.question, line.text) for line in script[:4]]
    assert query(tmp_path, "select count(*) from answers")[0][0] == 4
    questions = [m for m in officer.messages() if "câu " in m.plain_text or "✅" in m.plain_text]
    assert len(questions) == 5
    assert [m.edit_count for m in questions] == [1, 1, 1, 1, 0]
    assert all(f"✅ {line.text}" in m.plain_text for m, line in zip(questions[:4], script[:4], strict=True))
    log = (tmp_path / "bot.log").read_text()
    assert log.count("Telegram asked to wait 1s") == 3
    assert "getUpdates failed: ClientDecodeError" in log
    assert "Traceback" not in log and " ERROR " not in log, log


# ----- c. random updates, in process -------------------------------------------------------------

OFFICER_A, OFFICER_B = 6_100_001, 6_100_002
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(600) + b"\xff\xd9"
SCAN = b"%PDF-1.4\n" + bytes(600) + b"%%EOF\n"
STRANGERS = (6_200_001, 6_200_002)
BATCH = 200
# 10,000 updates, as the issue asks, take about 2 minutes here (one chat's updates run in order);
# KSTTHC_TEST_RANDOM_UPDATES sets another number for a quicker local run.
EXAMPLES = max(1, int(os.environ.get("KSTTHC_TEST_RANDOM_UPDATES", "10000")) // BATCH)


def short_bytes(text: str, limit: int = 64) -> str:
    """Telegram's callback_data: 1–64 bytes."""
    return text.encode()[:limit].decode(errors="ignore") or "x"


def update_strategy(outline: Outline) -> st.SearchStrategy[tuple[Any, ...]]:
    names = [q.name for q in outline.asked_questions]
    numbers = [q.number for q in outline.asked_questions] + [s.number for s in outline.sections]
    junk = st.text(max_size=12)
    words = st.sampled_from([
        "không có", "k co", "lại", "sau", "tiếp", "mục lục", "mục lục 4.3.a", "mục lục 99", "xem", "nộp",
        "xác nhận", "hướng dẫn", "?", "có", "không", "0", "1", "2", "3", "-5", "1.234", "12,5", "12,5%",
        "15/03/2027", "31/02/2027", "/start", "/start ABCD-EFGH", "/start 1234", "/baocao", "/mucluc",
        "/tiendo", "/xem", "/nop", "/huongdan", "/ngonngu", "/language", "/progress", "/unknown",
        "<b>đậm</b>", "&amp;", "*đậm* _nghiêng_ `mã` [liên kết](http://x)", "</i>", "a < b > c & d",
    ])
    long_text = st.builds(lambda piece, count: (piece * count)[:5000],
                          st.sampled_from(["a", "<", "&", "é", "😀", "<b>", "&amp; ", "x y ", "\n"]),
                          st.integers(1000, 5000))
    text = st.one_of(words, st.text(max_size=60), st.text(alphabet="<>&*_`[]()~|#+-=.!/\\\"' ", max_size=80),
                     long_text, st.just(""), st.integers(-10, 10**12).map(str))
    callback = st.one_of(
        st.builds(lambda q, n: f"p:{q}:{n}", st.sampled_from(names) | junk, st.integers(-2, 12) | junk),
        st.builds(lambda a, q: f"a:{a}:{q}", st.sampled_from([a.value for a in Action]) | junk,
                  st.sampled_from([*names, ""]) | junk),
        st.builds(lambda t: f"g:{t}", st.sampled_from(numbers) | junk),
        st.builds(lambda t: f"s:{t}", st.sampled_from(numbers) | junk),
        st.builds(lambda t: f"v:{t}", st.integers(-1, 5) | junk),
        st.builds(lambda t: f"l:{t}", st.sampled_from(["vi", "en", "fr", ""]) | junk),
        st.text(min_size=1, max_size=64),
    ).map(short_bytes)
    who = st.sampled_from([OFFICER_A] * 6 + list(STRANGERS))
    return st.one_of(
        st.tuples(st.just("text"), who, text),
        st.tuples(st.just("press"), callback, st.integers(0, 10**6),
                  st.sampled_from(["shown", "shown", "shown", "inaccessible", "inline"])),
        st.tuples(st.just("edited"), text),
        st.tuples(st.just("media"), st.sampled_from(["sticker", "photo", "location", "contact", "document",
                                                      "voice"]), text),
    )


class InProcessBot:
    """A TelegramChannel in this process against the fake, its workers started by hand."""

    def __init__(self, tg: FakeTelegram, workdir: Path) -> None:
        self.tg = tg
        self.url = f"sqlite+aiosqlite:///{workdir / 'bot.sqlite3'}"
        self.settings = Settings(_env_file=None, telegram_token=tg.token,  # type: ignore[call-arg]
                                 telegram_api_base=tg.base_url, database_url=self.url, telegram_workers=4,
                                 data_dir=workdir / "data")
        self.db = Database(self.url)
        self.channel: TelegramChannel | None = None
        self.workers: list[asyncio.Task[None]] = []
        self.fed = 0
        self.message_ids = itertools.count(10_000_000)

    async def start(self, unit_codes: list[str]) -> list[str]:
        await self.db.upgrade()
        async with self.db.transaction() as session:
            await seed_if_empty(session, self.settings, self.settings.today())
            invites = []
            for code in unit_codes:
                unit = await unit_by_code(session, code)
                invites.append((await create_invite(session, unit, Role.OFFICER))[0])
        self.channel = TelegramChannel(self.settings, self.db)
        self.start_workers()
        return invites

    def start_workers(self) -> None:
        assert self.channel is not None
        inbox = self.channel.inbox
        self.workers = [asyncio.create_task(inbox.work(queue)) for queue in inbox.queues]

    async def drain(self) -> None:
        """Let the workers finish everything queued (run() stops them the same way)."""
        assert self.channel is not None
        for queue in self.channel.inbox.queues:
            queue.put_nowait(None)
        await asyncio.gather(*self.workers)
        self.start_workers()

    def take(self) -> list[dict[str, Any]]:
        """The updates queued at the fake since the last call (nobody polls it here)."""
        new = self.tg.pending_after(self.fed)
        if new:
            self.fed = new[-1]["update_id"]
        return new

    async def feed(self, updates: list[dict[str, Any]]) -> None:
        assert self.channel is not None
        await self.channel.receive(updates)
        await self.drain()

    def user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": "Cán bộ", "language_code": "vi"}

    def message(self, user_id: int, **content: Any) -> dict[str, Any]:
        return {"message_id": next(self.message_ids), "date": int(time.time()), "from": self.user(user_id),
                "chat": {"id": user_id, "type": "private", "first_name": "Cán bộ"}, **content}

    def build(self, spec: tuple[Any, ...]) -> dict[str, Any]:
        """One update for a spec drawn by hypothesis; callbacks go through the fake so that it
        knows their query ids (answerCallbackQuery must succeed)."""
        kind = spec[0]
        if kind == "text":
            _, user, text = spec
            self.tg.user_sends_text(user, text, first_name="Cán bộ")
            return self.take()[-1]
        if kind == "press":
            _, data, pick, shape = spec
            shown = self.tg.messages_to(OFFICER_A)
            self.tg.user_presses_button(OFFICER_A, shown[pick % len(shown)].message_id, data, strict=False)
            update = self.take()[-1]
            query = update["callback_query"]
            if shape == "inaccessible":
                shown_message = query["message"]
                query["message"] = {"chat": shown_message["chat"], "message_id": shown_message["message_id"],
                                    "date": 0}
            elif shape == "inline":
                del query["message"]
                query["inline_message_id"] = "AAAAAgAAAAA"
            return update
        if kind == "edited":
            update_id = self.tg.enqueue_raw({"edited_message": {
                **self.message(OFFICER_A, text=spec[1] or "."), "edit_date": int(time.time())}})
            return self.take()[-1] | {"update_id": update_id}
        _, media, caption = spec
        if media in ("photo", "document"):
            # A real user's file: the fake serves it to getFile, as Telegram would (it is attached).
            if media == "photo":
                self.tg.user_sends_photo(OFFICER_A, PHOTO, caption=caption[:1024] or None)
            else:
                self.tg.user_sends_document(OFFICER_A, "báo cáo.pdf", SCAN, caption=caption[:1024] or None)
            return self.take()[-1]
        kinds: dict[str, dict[str, Any]] = {
            "sticker": {"sticker": {"file_id": "CAACAgIAAxkBAAI", "file_unique_id": "AgADAQAD",
                                    "type": "regular", "width": 512, "height": 512, "is_animated": False,
                                    "is_video": False}},
            "location": {"location": {"latitude": 10.0341, "longitude": 105.7882}},
            "contact": {"contact": {"phone_number": "+84900000000", "first_name": "Cán bộ"}},
            "voice": {"voice": {"file_id": "AwACAgIAAxkBAAI", "file_unique_id": "AgADBQAD", "duration": 3}},
        }
        content = kinds[media]
        self.tg.enqueue_raw({"message": self.message(OFFICER_A, **content)})
        return self.take()[-1]

    async def close(self) -> None:
        if self.channel is not None:
            for queue in self.channel.inbox.queues:
                queue.put_nowait(None)
            await asyncio.gather(*self.workers)
            await self.channel.bot.session.close()
        await self.db.close()


class Problems(logging.Handler):
    """Errors from anywhere, and warnings from the bot (a refused reply is one)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.name.startswith(("bot.", "handlers.", "storage.")):
            self.records.append(record)

    def describe(self) -> str:
        return "\n".join(self.format(r) for r in self.records[:5])


def test_ten_thousand_random_updates_break_nothing(tmp_path: Path, outline: Outline) -> None:
    problems = Problems()
    problems.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(problems)
    started = time.monotonic()
    with asyncio.Runner() as runner:
        tg = runner.run(FakeTelegram().start())
        world = InProcessBot(tg, tmp_path)
        try:
            invite_a, invite_b = runner.run(world.start(["31135", "31120"]))
            tg.user_sends_text(OFFICER_A, f"/start {invite_a}", first_name="Cán bộ A")
            tg.user_sends_text(OFFICER_B, f"/start {invite_b}", first_name="Cán bộ B")
            runner.run(world.feed(world.take()))
            assert any("câu 1/" in m.text for m in tg.messages_to(OFFICER_A))
            assert any("câu 1/" in m.text for m in tg.messages_to(OFFICER_B))
            seen_by_b = len(tg.messages_to(OFFICER_B))
            b_before = query(tmp_path, B_SUBMISSION)
            fed = 2

            @given(specs=st.lists(update_strategy(outline), min_size=BATCH, max_size=BATCH))
            @hypothesis_settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                                 suppress_health_check=list(HealthCheck))
            def feed_batch(specs: list[tuple[Any, ...]]) -> None:
                nonlocal fed
                updates = [world.build(spec) for spec in specs]
                runner.run(world.feed(updates))
                fed += len(updates)
                assert not problems.records, problems.describe()

            feed_batch()
        finally:
            runner.run(world.close())
            runner.run(tg.close())
            root.removeHandler(problems)
    elapsed = time.monotonic() - started

    assert fed >= 2 + BATCH * EXAMPLES
    # Every update was stored and processed; nothing escaped a handler.
    assert query(tmp_path, "select count(*), count(processed_at) from inbox") == [(fed, fed)]
    assert not problems.records, problems.describe()
    # Officer B's unit is untouched and B was told nothing.
    assert query(tmp_path, B_SUBMISSION) == b_before == [(0, 0, "draft")]
    assert len(tg.messages_to(OFFICER_B)) == seen_by_b
    # Telegram accepted everything the bot said.
    refused = [(r.method, r.status, r.description) for r in tg.request_log if r.status != 200]
    assert refused == [], refused[:10]
    assert tg.internal_errors == []
    assert all(len(m.plain_text) <= 4096 for m in tg.sent)
    # The input did reach the conversation: answers saved, buttons answered, strangers told how
    # to register (a run where everything bounced off early would prove little).
    a_answers = int(str(query(tmp_path, A_HISTORY)[0][0]))
    assert a_answers > 0
    assert len(tg.callback_answers) > 0
    assert all(tg.messages_to(stranger) for stranger in STRANGERS)
    print(f"\n{fed} updates, {len(tg.request_log)} Bot API requests, {a_answers} answers saved for A, "
          f"{len(tg.callback_answers)} buttons answered, in {elapsed:.1f}s")


A_HISTORY = ("select count(*) from history h join submissions s on s.id = h.submission_id "
             "join units u on u.id = s.unit_id where u.code = '31135' and h.event = 'answer'")
B_SUBMISSION = ("select (select count(*) from answers a where a.submission_id = s.id), "
                "(select count(*) from history h where h.submission_id = s.id), s.status "
                "from submissions s join units u on u.id = s.unit_id where u.code = '31120'")


# ----- d. a failure to store updates does not end polling -----------------------------------------

async def test_polling_survives_a_failure_to_store_updates(
    tg: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    world = InProcessBot(tg, tmp_path)
    world.settings = world.settings.model_copy(update={"telegram_poll_timeout": 1})
    (invite,) = await world.start(["31135"])
    assert world.channel is not None
    real_store = inbox_module.store_events
    failures = 0

    async def flaky_store(*args: Any, **kwargs: Any) -> None:
        nonlocal failures
        if failures == 0:
            failures += 1
            raise RuntimeError("database is locked")
        await real_store(*args, **kwargs)

    monkeypatch.setattr(inbox_workers_module, "store_events", flaky_store)
    polling = asyncio.create_task(world.channel.poll())
    try:
        update_id = tg.user_sends_text(OFFICER_A, f"/start {invite}")
        await tg.wait_for_message(OFFICER_A, contains="câu 1/", timeout=10)
        await tg.wait_until_confirmed(update_id, timeout=5)
    finally:
        world.channel.stop()
        polling.cancel()
        await world.close()
    assert failures == 1
    assert "storing 1 updates failed" in caplog.text
    assert query(tmp_path, "select count(*), count(processed_at) from inbox") == [(1, 1)]


# ----- e. long answers with markup characters: every message within Telegram's rules -----------

async def test_long_answers_full_of_markup_characters_are_shown_without_a_refusal(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """Found by the random updates above: the record of a 4,000-character answer was too long
    for an edit, and long escaped texts were cut inside "&amp;", which Telegram refuses."""
    world = InProcessBot(tg, tmp_path)
    (invite,) = await world.start(["31135"])

    async def says(text: str) -> None:
        tg.user_sends_text(OFFICER_A, text)
        await world.feed(world.take())

    try:
        await says(f"/start {invite}")
        await says("&" * 1999)
        await says("< " * 999)
        tg.user_presses_button(OFFICER_A, tg.messages_to(OFFICER_A)[-1].message_id, "g:III.1", strict=False)
        await world.feed(world.take())
        await says("&" * 4000)
        await says("lại")
        await says("/xem")
    finally:
        await world.close()
    refused = [(r.method, r.description) for r in tg.request_log if r.status != 200]
    assert refused == []
    recorded = [m for m in tg.messages_to(OFFICER_A) if m.edit_count and "III.1." in m.plain_text]
    assert len(recorded) == 1 and recorded[0].plain_text.endswith("…")
    assert len(recorded[0].plain_text) == 4096
    shown = "".join(m.plain_text for m in tg.messages_to(OFFICER_A))
    assert shown.count("&" * 4000) >= 2  # shown again on going back, and in the review
    assert query(tmp_path, "select value from answers where question = 'future_directions'") == \
        [("&" * 4000,)]


# ----- f. an update that cannot be processed ---------------------------------------------------

# A fault inside the real database: while the `fault` table has a row, no history entry (and so
# no answer) can be written, as when a disk fills up or the database server is restarting.
FAULT = """
CREATE TABLE fault (reason TEXT);
CREATE TRIGGER history_fault BEFORE INSERT ON history WHEN EXISTS (SELECT 1 FROM fault)
BEGIN SELECT RAISE(ABORT, 'simulated disk fault'); END;
"""
RESEND = "vui lòng gửi lại"


def set_fault(workdir: Path, on: bool) -> None:
    with sqlite3.connect(workdir / "bot.sqlite3", timeout=10) as connection:
        connection.execute("INSERT INTO fault VALUES ('test')" if on else "DELETE FROM fault")


async def wait_for_log(workdir: Path, text: str, count: int = 1, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while (workdir / "bot.log").read_text().count(text) < count:
        assert time.monotonic() < deadline, f"{text!r} not logged {count} times"
        await asyncio.sleep(0.05)


async def test_an_answer_that_cannot_be_saved_is_retried_then_set_aside_with_a_request_to_resend(
    tg: FakeTelegram, tmp_path: Path, outline: Outline
) -> None:
    (code,) = commune_codes(tmp_path, tg, 1)
    (invite,) = await invites_for(tmp_path, [code])
    with sqlite3.connect(tmp_path / "bot.sqlite3") as connection:
        connection.executescript(FAULT)
    officer = Officer(tg, 7_100_001, outline)
    history = "select count(*) from history where event = 'answer'"
    async with running_bot(tmp_path, tg) as process:
        await officer.says(f"/start {invite}", expect="câu 1/")
        first = officer.question_on_screen()

        # A passing fault: the first attempt fails, the retry half a second later succeeds.
        set_fault(tmp_path, on=True)
        tg.user_sends_text(officer.user_id, typed_answer(first, 0), first_name="Cán bộ")
        await wait_for_log(tmp_path, "event 2 failed")
        set_fault(tmp_path, on=False)
        await tg.wait_for(lambda s: any("câu 2/" in m.text for m in s.messages_to(officer.user_id)),
                          timeout=15, message="the second question after the retry")
        assert query(tmp_path, history) == [(1,)]
        assert not any(RESEND in m.text for m in officer.messages())
        # The first question's message was edited to show what was recorded, as usual.
        await tg.wait_for(lambda s: "Không có" in officer.messages()[1].text, timeout=10,
                          message="the first question edited into its record")
        assert first.label.vi in officer.messages()[1].text

        # A lasting fault: after three attempts the officer is asked to send it again, in
        # Vietnamese; nothing is half-saved and the question stays open.
        second = officer.question_on_screen()
        set_fault(tmp_path, on=True)
        apology = await officer.says(typed_answer(second, 1), expect=RESEND, timeout=20)
        assert "sự cố kỹ thuật" in apology.text
        assert query(tmp_path, history) == [(1,)]
        assert query(tmp_path, "select failure from inbox where failed_at is not null") == [
            ("IntegrityError: (sqlite3.IntegrityError) simulated disk fault",)]
        (listed,) = cli(tmp_path, tg, "db", "set-aside").splitlines()  # what the IT person reads
        assert listed.split("\t")[1] == "telegram" and listed.endswith("simulated disk fault")

        # Sent again once the fault is gone, it is saved; the question moves on.
        set_fault(tmp_path, on=False)
        await officer.says(typed_answer(second, 1), expect="câu 3/")
        assert query(tmp_path, history) == [(2,)]
        seen = len(officer.messages())
        assert await stop_within(process, 10) < 10

    # Restarted, the bot does not replay the set-aside answer after the later one.
    async with running_bot(tmp_path, tg):
        await officer.says("/tiendo", expect="TIẾN ĐỘ BÁO CÁO: đã trả lời 2/")
        assert query(tmp_path, history) == [(2,)]
        assert not any(RESEND in m.text for m in officer.messages()[seen:])


# ----- g. a slow network: the next question does not wait for the record ------------------------

async def test_on_a_slow_network_the_next_question_does_not_wait_for_the_edit(
    tg: FakeTelegram, tmp_path: Path, outline: Outline
) -> None:
    (code,) = commune_codes(tmp_path, tg, 1)
    (invite,) = await invites_for(tmp_path, [code])
    officer = Officer(tg, 7_100_002, outline)
    async with running_bot(tmp_path, tg):
        await officer.says(f"/start {invite}", expect="câu 1/")
        first = officer.question_on_screen()
        # Editing the answered question into its record takes Telegram 3 seconds today.
        tg.delay_next("editMessageText", 3.0)
        started = time.monotonic()
        await officer.says("Đã ban hành Kế hoạch số 15/KH-UBND", expect="câu 2/", timeout=2.5)
        assert time.monotonic() - started < 2.5
        # The record still arrives, once Telegram gets to it.
        await tg.wait_for(lambda s: "15/KH-UBND" in officer.messages()[1].text, timeout=10,
                          message="the first question edited into its record")
        assert first.label.vi in officer.messages()[1].text


async def test_telegram_slow_to_answer_one_officer_keeps_no_other_waiting(
    tg: FakeTelegram, tmp_path: Path, outline: Outline
) -> None:
    """One worker for every chat: while Telegram takes 3 seconds to accept the question sent to
    one officer, another officer's answer is saved and answered at once; the first officer's
    next answer waits its turn, and their questions come in order."""
    first, second = script_for(ReportEngine(outline), "commune")[:2]
    invites = await invites_for(tmp_path, commune_codes(tmp_path, tg, 2))
    slow, quick = Officer(tg, 7_100_003, outline), Officer(tg, 7_100_004, outline)
    async with running_bot(tmp_path, tg, KSTTHC_TELEGRAM_WORKERS="1"):
        for officer, invite in ((slow, invites[0]), (quick, invites[1])):
            await officer.says(f"/start {invite}", expect="câu 1/")
        tg.delay_next("sendMessage", 3.0, chat_id=slow.user_id)
        since = len(slow.messages())
        for line in (first, second):
            tg.user_sends_text(slow.user_id, line, first_name="Cán bộ")
        started = time.monotonic()
        await quick.says(first, expect="câu 2/", timeout=2.5)
        assert time.monotonic() - started < 2.5
        await slow.next_message(since, "câu 3/", timeout=15)
        # As sent: the answered question has since been edited into its record.
        sent = [edits[0].old_text if (edits := tg.edits_of(slow.user_id, m.message_id)) else m.text
                for m in slow.messages()[since:] if m.from_bot]
        asked = [text for text in sent if "câu " in text]
        assert len(asked) == 2 and "câu 2/" in asked[0] and "câu 3/" in asked[1]
