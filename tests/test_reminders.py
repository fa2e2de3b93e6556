"""Reminders and the VP office's digest, end to end on a controllable clock: planned from the
database (`handlers.reminders.plan`), delivered by the real OutboxSender through the real
`TelegramChannel.deliver_outgoing` to the fake Bot API. Every time is Asia/Ho_Chi_Minh.

The main schedule: a fixed-date campaign due Sunday 6/9/2026, which really means Friday
4/9/2026, across the 2/9 National Day holiday (Mon 31/8 – Wed 2/9/2026 off):

    −10 Wed 19/8 · −5 Tue 25/8 · −3 Thu 27/8 · −1 Thu 3/9 · 0 Fri 4/9 · +1…+5 Mon 7/9 – Fri 11/9
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select, update

from bot.config import Settings
from bot.outbox import OutboxSender, Pacer
from bot.seed import seed_if_empty
from bot.telegram.runner import TelegramChannel
from deadlines.plan import VisitNoticeTooShortError
from deadlines.schedule import DeadlineKind, ReminderSettings, reminder_days, unit_deadline
from deadlines.schedule import UnitDates as ScheduleDates
from deadlines.workdays import VN_TZ, WorkingCalendar
from engine.commands import parse_text
from engine.views import State
from handlers.admin_commands import AdminContext, run_admin_command
from handlers.campaigns import create_campaign, set_visit
from handlers.reminders import plan
from handlers.report import open_report, outline_engine, resume, take_turn
from locales.translation import translator
from storage.database import Database
from storage.models import Campaign, Identity, Officer, OutboxMessage, Role, Unit, UnitLevel
from storage.reports import Actor
from tests.fake_telegram import FakeMessage, FakeTelegram

REPO = Path(__file__).resolve().parents[1]
CAL = WorkingCalendar()
OUTLINE_FILE = "ke-hoach-20-2021.yaml"
NOMINAL = date(2026, 9, 6)  # a Sunday
DEADLINE = date(2026, 9, 4)  # the last working day before it: what units really have
SCHEDULE = {  # the reminder days, worked out by hand from the 2026 calendar
    date(2026, 8, 19): -10, date(2026, 8, 25): -5, date(2026, 8, 27): -3, date(2026, 9, 3): -1,
    date(2026, 9, 4): 0, date(2026, 9, 7): 1, date(2026, 9, 8): 2, date(2026, 9, 9): 3,
    date(2026, 9, 10): 4, date(2026, 9, 11): 5,
}
DIGEST_DAYS = sorted(day for day, offset in SCHEDULE.items() if offset >= -5)
OPENING = time(7, 30)
MOMENTS = (time(6), OPENING, time(12), time(18))
ADMIN_CHAT = 900_000
FIRST_CHAT = 700_001
TITLE = "Báo cáo tự kiểm tra KSTTHC năm 2026"


def at(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=VN_TZ)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def untouched_totals() -> int:
    engine = outline_engine(OUTLINE_FILE)
    return engine.counts(engine.resume(State(answers={}, unit_level="commune")).state)[2]


def counts_after_nones(count: int) -> tuple[int, int]:
    """(answered, relevant) once a commune has answered its first `count` items "không có"."""
    engine = outline_engine(OUTLINE_FILE)
    state = engine.resume(State(answers={}, unit_level="commune")).state
    for _ in range(count):
        state = engine.step(state, parse_text("không có")).state
    given, _none, total = engine.counts(state)
    return given, total


# ----- the rig: a database, the fake Bot API, the real channel and sender, a clock ------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Delivered:
    at: datetime  # the rig's clock when the message reached the fake
    chat_id: int
    text: str
    buttons: list[str]

    @property
    def is_reminder(self) -> bool:
        return self.text.startswith("⏰")

    @property
    def is_digest(self) -> bool:
        return self.text.startswith("📊")


@dataclass
class Rig:
    """One bot process as the tests see it: its own connection pool, channel and sender."""

    db: Database
    tg: FakeTelegram
    settings: Settings
    channel: TelegramChannel
    clock: Clock
    sender: OutboxSender
    seen: int = 0
    log: list[Delivered] = field(default_factory=list)  # text messages
    files: list[Delivered] = field(default_factory=list)  # documents (the digest's charts): file names

    async def plan(self) -> None:
        async with self.db.transaction() as session:
            await plan(session, self.clock(), CAL)

    async def drain(self, batch: int = 50) -> int:
        handled = 0
        while count := await self.sender.drain_once(batch):
            handled += count
        return handled

    def collect(self) -> list[Delivered]:
        """The text messages that reached the fake since the last call, stamped with the clock."""
        new = self.tg.sent[self.seen:]
        self.seen = len(self.tg.sent)
        delivered = [Delivered(self.clock(), m.chat_id, m.plain_text, m.button_texts) for m in new
                     if m.document is None]
        self.files.extend(Delivered(self.clock(), m.chat_id, m.document.filename, []) for m in new
                          if m.document is not None)
        self.log.extend(delivered)
        return delivered

    async def step(self, now: datetime, between: Callable[[], Awaitable[None]] | None = None,
                   batch: int = 50) -> list[Delivered]:
        """The bot alive at `now`: the planner runs, then the sender drains what is due."""
        self.clock.now = now
        await self.plan()
        if between is not None:
            await between()
        await self.drain(batch)
        return self.collect()

    async def close(self) -> None:
        await self.channel.bot.session.close()
        await self.db.close()


def make_settings(tg: FakeTelegram, url: str, rate: float, per_chat: float) -> Settings:
    return Settings(_env_file=None, database_url=url, telegram_token=tg.token,  # type: ignore[call-arg]
                    telegram_api_base=tg.base_url, outbox_rate_per_s=rate,
                    outbox_per_chat_interval=per_chat, now=None)


async def open_rig(tg: FakeTelegram, url: str, schema: str | None, *, rate: float = 1000.0,
                   per_chat: float = 0.0, now: datetime | None = None) -> Rig:
    settings = make_settings(tg, url, rate, per_chat)
    db = Database(url, schema=schema, sqlite_synchronous="NORMAL")
    channel = TelegramChannel(settings, db)
    clock = Clock(now or at(date(2026, 8, 1), time(6)))
    sender = OutboxSender(db, "telegram", channel.deliver_outgoing, settings, CAL, clock)
    return Rig(db, tg, settings, channel, clock, sender, seen=len(tg.sent))


@dataclass
class World:
    """What the VP office has set up: units, one officer (Telegram chat) each, an admin."""

    units: list[Unit]
    chats: dict[int, int]  # unit id → chat id
    campaigns: list[Campaign]

    def chat(self, index: int) -> int:
        return self.chats[self.units[index].id]

    def unit_of_chat(self) -> dict[int, Unit]:
        return {self.chats[unit.id]: unit for unit in self.units}


async def build_world(db: Database, tg: FakeTelegram, *, units: int, nominal: date = NOMINAL,
                      campaigns: int = 1, kind: str = DeadlineKind.FIXED_DATE,
                      admin: bool = True) -> World:
    """`units` communes of the seed (the rest removed), each with one officer on Telegram."""
    await db.upgrade()
    settings = Settings(_env_file=None, telegram_token=tg.token)  # type: ignore[call-arg]
    async with db.transaction() as session:
        made = [await create_campaign(session, f"dot-{n + 1}", TITLE if n == 0 else f"{TITLE} ({n + 1})",
                                      kind, nominal, OUTLINE_FILE) for n in range(campaigns)]
        # The campaigns exist already, so the seed adds only the province's units.
        await seed_if_empty(session, settings, date(2026, 8, 1))
        communes = list(await session.scalars(
            select(Unit).where(Unit.level == UnitLevel.COMMUNE).order_by(Unit.code)))
        assert len(communes) >= units
        for extra in communes[units:]:
            await session.delete(extra)
        chats: dict[int, int] = {}
        for index, unit in enumerate(communes[:units]):
            officer = Officer(unit_id=unit.id, role=Role.OFFICER, name=f"Cán bộ {unit.code}")
            session.add(officer)
            await session.flush()
            chats[unit.id] = FIRST_CHAT + index
            session.add(Identity(officer_id=officer.id, channel="telegram",
                                 external_id=str(chats[unit.id]), chat_id=str(chats[unit.id])))
        if admin:
            office = Officer(unit_id=None, role=Role.ADMIN, name="Văn phòng UBND thành phố")
            session.add(office)
            await session.flush()
            session.add(Identity(officer_id=office.id, channel="telegram", external_id=str(ADMIN_CHAT),
                                 chat_id=str(ADMIN_CHAT)))
    return World(communes[:units], chats, made)


async def answer_nones(db: Database, unit: Unit, count: int | None = None, submit: bool = False) -> None:
    """The unit's officer answers "không có" (`count` items, or every one), through the same
    `take_turn` every channel uses; then "nộp" and "xác nhận" if `submit`."""
    async with db.transaction() as session:
        officer = await session.scalar(select(Officer).where(Officer.unit_id == unit.id))
        fresh = await session.get(Unit, unit.id)
        assert officer is not None and fresh is not None
        report = await open_report(session, officer, fresh, "telegram")
        assert report is not None
        await resume(session, report)
        answered = 0
        while count is None or answered < count:
            outcome = await take_turn(session, report, parse_text("không có"))
            assert outcome is not None
            if not outcome.saved:
                break
            answered += 1
        if submit:
            await take_turn(session, report, parse_text("nộp"))
            outcome = await take_turn(session, report, parse_text("xác nhận"))
            assert outcome is not None and outcome.submit


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def reminder_day_of(row: OutboxMessage) -> date:
    return date.fromisoformat(json.loads(row.payload)["day"])


# The due date as every message words it (handlers.due): the plan's "trước ngày …" with, on a day
# off, the last working day it means; a unit's own deadline "chậm nhất ngày …".
PHRASE = re.compile(r"hạn nộp (?:trước|chậm nhất) ngày (?P<nominal>\d\d/\d\d/\d{4})(?: \((?P<weekday>[^,]+), "
                    r"ngày nghỉ; hạn thực tế: (?P<real_weekday>[^,]+), ngày (?P<real>\d\d/\d\d/\d{4})\))?, "
                    r"(?P<left>[^.]*)\.")
ANSWERED = re.compile(r"Đơn vị đã trả lời (\d+)/(\d+) câu\.")


def left_phrase(offset: int) -> str:
    if offset < 0:
        return f"còn {-offset} ngày làm việc"
    if offset == 0:
        return "hôm nay là hạn cuối"
    return f"đã quá hạn {offset} ngày làm việc"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
def sqlite_file(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"


# ----- 1. the whole schedule ------------------------------------------------------------------------


def test_the_schedule_worked_out_by_hand_is_the_calendars() -> None:
    assert NOMINAL.weekday() == 6 and DEADLINE.weekday() == 4
    assert [d for d in days_between(date(2026, 8, 29), date(2026, 9, 6)) if CAL.is_working_day(d)] == [
        date(2026, 9, 3), date(2026, 9, 4)]
    assert unit_deadline(DeadlineKind.FIXED_DATE, ScheduleDates(NOMINAL), CAL) == DEADLINE
    computed = reminder_days(DEADLINE, ReminderSettings(), CAL)
    assert {r.day: r.offset for r in computed} == SCHEDULE


async def test_a_hundred_units_walked_through_their_whole_reminder_schedule(
    tg: FakeTelegram, sqlite_file: str
) -> None:
    rig = await open_rig(tg, sqlite_file, None)
    try:
        world = await build_world(rig.db, tg, units=100)
        early = world.units[0:5]  # submit at noon on the −5 day
        late = world.units[5:8]  # submit at 07:30 on the day itself, between planning and sending
        partial = world.units[10:20]  # answer 10 items at noon on the −10 day, never submit
        untouched_total = untouched_totals()
        partial_counts = counts_after_nones(10)

        async def late_submissions() -> None:
            for unit in late:
                await answer_nones(rig.db, unit, submit=True)

        first, last = CAL.add_working_days(DEADLINE, -16), CAL.add_working_days(DEADLINE, 8)
        for day in days_between(first, last):
            for moment in MOMENTS:
                now = at(day, moment)
                between = late_submissions if now == at(DEADLINE, OPENING) else None
                await rig.step(now, between)
                if now == at(date(2026, 8, 19), time(12)):
                    for unit in partial:
                        await answer_nones(rig.db, unit, count=10)
                if now == at(date(2026, 8, 25), time(12)):
                    for unit in early:
                        await answer_nones(rig.db, unit, submit=True)

        # Every message went out at 07:30 on a working day.
        assert rig.log and {d.at.time() for d in rig.log} == {OPENING}
        assert all(CAL.is_working_day(d.at.date()) for d in rig.log)
        assert all(d.is_reminder or d.is_digest for d in rig.log), [d.text for d in rig.log][:3]

        # Exactly the expected reminders, to units not yet submitted.
        received: dict[int, list[date]] = defaultdict(list)
        for delivered in rig.log:
            if delivered.is_reminder:
                received[delivered.chat_id].append(delivered.at.date())
        everything = sorted(SCHEDULE)
        for index, unit in enumerate(world.units):
            expected = everything
            if unit in early:
                expected = [d for d in everything if d <= date(2026, 8, 25)]
            elif unit in late:
                expected = [d for d in everything if d < DEADLINE]
            assert received[world.chat(index)] == expected, unit.code
        assert sum(len(v) for v in received.values()) == 92 * 10 + 5 * 2 + 3 * 4

        # What each reminder says, worded the moment it went out.
        by_chat = world.unit_of_chat()
        for delivered in (d for d in rig.log if d.is_reminder):
            unit = by_chat[delivered.chat_id]
            offset = SCHEDULE[delivered.at.date()]
            assert f"“{TITLE}”" in delivered.text and unit.name in delivered.text
            phrase = PHRASE.search(delivered.text)
            assert phrase, delivered.text
            assert (phrase["nominal"], phrase["real"]) == ("06/09/2026", "04/09/2026")
            assert (phrase["weekday"], phrase["real_weekday"]) == ("Chủ nhật", "thứ Sáu")
            assert phrase["left"] == left_phrase(offset)
            answered = ANSWERED.search(delivered.text)
            assert answered, delivered.text
            in_progress = unit in partial and delivered.at.date() > date(2026, 8, 19)
            expected_counts = partial_counts if in_progress else (0, untouched_total)
            assert (int(answered[1]), int(answered[2])) == expected_counts
            assert delivered.buttons == ["Tiếp tục báo cáo"]
        assert partial_counts[0] == 10

        # The VP office: one digest per reminder day from −5 on, with the counts of that morning.
        digests = [d for d in rig.log if d.is_digest]
        assert all(d.chat_id == ADMIN_CHAT for d in digests)
        assert [d.at.date() for d in digests] == DIGEST_DAYS
        for digest in digests:
            day = digest.at.date()
            submitted = 0 if day <= date(2026, 8, 25) else 5 if day < DEADLINE else 8
            assert f": {submitted} đã nộp, 10 đang thực hiện, {90 - submitted} chưa bắt đầu." in digest.text
            assert ("hạn nộp trước ngày 06/09/2026 (Chủ nhật, ngày nghỉ; hạn thực tế: thứ Sáu, "
                    "ngày 04/09/2026)") in digest.text
            assert left_phrase(SCHEDULE[day]) in digest.text
            assert f" và {100 - submitted - 30} đơn vị khác." in digest.text
        assert not any(d.chat_id == ADMIN_CHAT for d in rig.log if d.is_reminder)
        # Each digest comes with its progress charts, and nothing else is a file.
        charts = Counter((f.chat_id, f.at) for f in rig.files if f.text.startswith("tien-do-dot-1-"))
        assert sum(charts.values()) == len(rig.files)
        assert sorted(charts) == [(ADMIN_CHAT, d.at) for d in digests]

        # The outbox agrees: everything sent once; the late units' last reminder withdrawn unsent.
        rows = await outbox_rows(rig.db)
        reminders = [r for r in rows if r.kind == "reminder"]
        statuses = Counter(r.status for r in reminders)
        assert statuses == {"sent": 942, "dropped": 3}, statuses
        dropped = [r for r in reminders if r.status == "dropped"]
        assert {reminder_day_of(r) for r in dropped} == {DEADLINE}
        assert {r.last_error for r in dropped} == {"submitted"}
        assert all(r.attempts == 1 for r in rows if r.status == "sent")
        keys = [(d.chat_id, d.at.date(), d.text[:2]) for d in rig.log]
        assert len(keys) == len(set(keys))
    finally:
        await rig.close()


# ----- 2. killed and restarted -----------------------------------------------------------------------


async def test_killed_and_restarted_around_reminder_times(tg: FakeTelegram, sqlite_file: str) -> None:
    rig = await open_rig(tg, sqlite_file, None)
    try:
        world = await build_world(rig.db, tg, units=5)
        chats = [world.chat(i) for i in range(5)]

        # First started at 22:00 on the −10 day: that day's reminder waits for the next opening.
        assert await rig.step(at(date(2026, 8, 19), time(22))) == []
        rows = await outbox_rows(rig.db)
        assert {(r.status, r.due_at.replace(tzinfo=None)) for r in rows} == {
            ("pending", datetime(2026, 8, 20, 0, 30))}  # 07:30 in Vietnam, stored in UTC
        assert await rig.step(at(date(2026, 8, 20), time(6))) == []
        morning = await rig.step(at(date(2026, 8, 20), OPENING))
        assert sorted(d.chat_id for d in morning) == chats
        assert all("còn 9 ngày làm việc" in d.text for d in morning)  # counted on the day it went

        # Runs normally through day A (−3, 27/8) …
        for day in days_between(date(2026, 8, 20), date(2026, 8, 27)):
            for moment in MOMENTS:
                if at(day, moment) > at(date(2026, 8, 20), OPENING):
                    await rig.step(at(day, moment))
        # … is down for days B (−1, 3/9) and C (the day itself, 4/9), back at 09:00 on C.
        restart = at(DEADLINE, time(9))
        rig.clock.now = restart
        await rig.plan()
        async with rig.db.transaction() as session:
            # One was being sent when the process was killed; another had just been claimed by
            # a worker that died a minute ago (its claim still runs for another minute).
            for chat, until in ((chats[0], restart - timedelta(hours=1)),
                                (chats[1], restart + timedelta(minutes=1))):
                await session.execute(update(OutboxMessage).where(
                    OutboxMessage.chat_id == str(chat),
                    OutboxMessage.key.like(f"%:{DEADLINE.isoformat()}")).values(
                    status="sending", claimed_by="killed-worker", claimed_until=until.astimezone(UTC)))
        await rig.drain()
        caught_up = rig.collect()
        reminders = [d for d in caught_up if d.is_reminder]
        assert sorted(d.chat_id for d in reminders) == chats[2:]
        assert all(d.at == restart and "hôm nay là hạn cuối" in d.text for d in reminders)
        assert [d.chat_id for d in caught_up if d.is_digest] == [ADMIN_CHAT]

        rows = await outbox_rows(rig.db)
        by_day: dict[date, Counter[str]] = defaultdict(Counter)
        for row in rows:
            if row.kind == "reminder":
                by_day[reminder_day_of(row)][row.status] += 1
        assert by_day[date(2026, 9, 3)] == {"dropped": 5}  # B: missed, recorded, never sent
        assert by_day[DEADLINE] == {"sent": 3, "unknown": 1, "sending": 1}
        assert not [r for r in rows if r.kind == "digest" and r.key.endswith("2026-09-03")]

        # The rest of the schedule; the interrupted rows are given up on and never sent again.
        for day in days_between(DEADLINE, date(2026, 9, 14)):
            for moment in (*MOMENTS, time(9, 3), time(22)):
                if at(day, moment) > restart:
                    await rig.step(at(day, moment))
        rows = await outbox_rows(rig.db)
        interrupted = [r for r in rows if r.kind == "reminder" and reminder_day_of(r) == DEADLINE
                       and r.chat_id in (str(chats[0]), str(chats[1]))]
        assert [(r.status, r.attempts, r.sent_at) for r in interrupted] == [("unknown", 0, None)] * 2
        assert {r.last_error for r in interrupted} == {"interrupted while sending"}

        received = Counter((d.chat_id, d.at.date()) for d in rig.log if d.is_reminder)
        assert set(received.values()) == {1}  # nothing sent twice
        for chat in chats:
            days = sorted(day for (c, day) in received if c == chat)
            expected = [date(2026, 8, 20), date(2026, 8, 25), date(2026, 8, 27)]
            expected += [] if chat in chats[:2] else [DEADLINE]
            expected += [day for day, offset in SCHEDULE.items() if offset > 0]
            assert days == expected
        assert all(d.at.time() == OPENING for d in rig.log if d.at != restart)
        digests = [d.at.date() for d in rig.log if d.is_digest]
        assert digests == [date(2026, 8, 25), date(2026, 8, 27), DEADLINE, *DIGEST_DAYS[4:]]
    finally:
        await rig.close()


async def test_started_the_evening_before_a_reminder_day_one_digest_and_one_reminder_each(
    tg: FakeTelegram, sqlite_file: str
) -> None:
    """Started at 22:00 on the −1 day: that day's reminder and digest wait for 07:30 — when the
    day itself has come, whose reminder and digest replace them."""
    rig = await open_rig(tg, sqlite_file, None)
    try:
        world = await build_world(rig.db, tg, units=3)
        assert await rig.step(at(date(2026, 9, 3), time(22))) == []
        sent = await rig.step(at(DEADLINE, OPENING))
        assert sorted(d.chat_id for d in sent if d.is_reminder) == [world.chat(i) for i in range(3)]
        assert [d.chat_id for d in sent if d.is_digest] == [ADMIN_CHAT]
        assert all("hôm nay là hạn cuối" in d.text for d in sent)
        rows = await outbox_rows(rig.db)
        evening = [r for r in rows if r.key.endswith(":2026-09-03")]
        assert len(evening) == 4 and {r.status for r in evening} == {"dropped"}
    finally:
        await rig.close()


async def test_on_the_production_clock_in_utc_reminders_still_go_out_at_07_30_in_vietnam(
    tg: FakeTelegram, database_url: tuple[str, str | None]
) -> None:
    """`Settings.clock()` is UTC in production; plan() words its times in Vietnam's zone. Both must
    meet on SQLite too, which keeps a datetime's wall clock and drops its zone."""
    url, schema = database_url
    rig = await open_rig(tg, url, schema)
    try:
        world = await build_world(rig.db, tg, units=3)
        day = date(2026, 8, 19)
        assert await rig.step(at(day, time(22)).astimezone(UTC) - timedelta(days=1)) == []
        assert await rig.step(at(day, time(7, 29)).astimezone(UTC)) == []
        sent = await rig.step(at(day, OPENING).astimezone(UTC))
        assert sorted(d.chat_id for d in sent) == [world.chat(i) for i in range(3)]
        # A restart at 22:00 on the −5 day: its reminder goes at 07:30 the next morning, not at
        # 22:00, and not at 07:30 UTC (14:30 in Vietnam) either.
        assert await rig.step(at(date(2026, 8, 25), time(22)).astimezone(UTC)) == []
        assert await rig.step(at(date(2026, 8, 26), time(7, 29)).astimezone(UTC)) == []
        sent = await rig.step(at(date(2026, 8, 26), OPENING).astimezone(UTC))
        assert len([d for d in sent if d.is_reminder]) == 3 and len(sent) == 4  # and the digest
        assert all("còn 4 ngày làm việc" in d.text for d in sent)
    finally:
        await rig.close()


async def test_plan_queues_more_reminders_than_one_statement_can_carry(
    database_url: tuple[str, str | None]
) -> None:
    """3,700 officers × 9 columns is more than the 32,767 parameters PostgreSQL takes at once."""
    url, schema = database_url
    db = Database(url, schema=schema, sqlite_synchronous="NORMAL")
    try:
        await db.upgrade()
        count = 3_700
        async with db.transaction() as session:
            await create_campaign(session, "lon", TITLE, DeadlineKind.FIXED_DATE, NOMINAL, OUTLINE_FILE)
            await session.execute(insert(Unit), [{"code": f"B{n:05d}", "name": f"Xã {n}", "level": "commune"}
                                                 for n in range(count)])
            units = list(await session.scalars(select(Unit.id).order_by(Unit.id)))
            await session.execute(insert(Officer), [{"unit_id": u, "role": Role.OFFICER} for u in units])
            officers = list(await session.scalars(select(Officer.id).order_by(Officer.id)))
            await session.execute(insert(Identity), [
                {"officer_id": o, "channel": "telegram", "external_id": str(o), "chat_id": str(o)}
                for o in officers])
        for now in (at(date(2026, 8, 19), OPENING), at(date(2026, 8, 25), OPENING)):
            async with db.transaction() as session:
                done = await plan(session, now, CAL)
            assert done.queued == count
        rows = await outbox_rows(db)
        assert Counter((r.status, r.last_error) for r in rows) == {
            ("pending", None): count, ("dropped", "superseded by a newer reminder"): count}
    finally:
        await db.close()


# ----- 3. 429, 503 and pacing ------------------------------------------------------------------------


def max_in_window(times: Sequence[float], window: float = 1.0) -> int:
    ordered = sorted(times)
    return max((sum(1 for t in ordered[i:] if t < start + window) for i, start in enumerate(ordered)),
               default=0)


async def test_rate_limits_and_server_errors_are_ridden_out_within_the_pacing(
    tg: FakeTelegram, sqlite_file: str
) -> None:
    # A campaign across Tết 2027 (Thu 4/2 – Wed 10/2 off): its first reminder day is the −10 one.
    nominal = date(2027, 2, 19)
    first_day = reminder_days(nominal, ReminderSettings(), CAL)[0].day
    rig = await open_rig(tg, sqlite_file, None, rate=5.0, per_chat=1.0)
    try:
        world = await build_world(rig.db, tg, units=15, nominal=nominal)
        chats = [world.chat(i) for i in range(15)]
        tg.fail_next("sendMessage", status=429, retry_after=1, times=2, chat_id=chats[2])
        tg.fail_next("sendMessage", status=503, times=2, chat_id=chats[7])
        tg.user_blocks_bot(chats[11])
        started = len(tg.request_log)
        await rig.step(at(first_day, OPENING))

        sends = [r for r in tg.request_log[started:] if r.method == "sendMessage"]
        ok = [r for r in sends if r.ok]
        delivered = Counter(r.chat_id for r in ok)
        # Every reminder arrives exactly once, except to the officer who blocked the bot …
        assert delivered == {chat: 1 for chat in chats if chat != chats[11]} | {ADMIN_CHAT: 1}
        # … whose failure the VP office hears of.
        notice = tg.last_message_to(ADMIN_CHAT)
        assert notice is not None and "Không gửi được tin nhắn (reminder)" in notice.plain_text
        assert str(chats[11]) in notice.plain_text
        assert [r.status for r in sends if r.chat_id == chats[2]] == [429, 429, 200]
        assert [r.status for r in sends if r.chat_id == chats[7]] == [503, 503, 200]
        # Nothing is sent to anyone while Telegram's retry_after runs.
        for index, request in enumerate(sends):
            if request.status == 429:
                assert sends[index + 1].time - request.time >= 1.0 - 0.005
        # At most 5 a second overall (one of slack for the window's edges).
        assert max_in_window([r.time for r in ok]) <= 5 + 1
        rows = await outbox_rows(rig.db)
        assert Counter(r.status for r in rows if r.kind == "reminder") == {"sent": 14, "failed": 1}
    finally:
        await rig.close()


async def test_one_message_a_second_to_any_chat(tg: FakeTelegram, sqlite_file: str) -> None:
    """Two officers, three campaigns due the same day: three reminders each, a second apart."""
    rig = await open_rig(tg, sqlite_file, None, rate=5.0, per_chat=1.0)
    try:
        world = await build_world(rig.db, tg, units=2, campaigns=3, admin=False)
        await rig.step(at(date(2026, 8, 19), OPENING))
        assert len(rig.log) == 6
        for chat in (world.chat(0), world.chat(1)):
            times = tg.send_times(chat, ok_only=True)
            assert len(times) == 3
            assert all(b - a >= 0.95 for a, b in itertools.pairwise(times)), times
        assert max_in_window(tg.send_times(ok_only=True)) <= 5 + 1
    finally:
        await rig.close()


async def test_the_pacer_keeps_its_rate_when_the_event_loop_wakes_late(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncio.sleep ends a little late; that lateness must not be added to every interval."""
    import bot.outbox

    clock = [1000.0]

    async def late_sleep(seconds: float) -> None:
        clock[0] += seconds + 0.002  # two milliseconds late, every time

    monkeypatch.setattr(bot.outbox, "time", SimpleNamespace(monotonic=lambda: clock[0]))
    monkeypatch.setattr(bot.outbox, "asyncio", SimpleNamespace(sleep=late_sleep))
    pacer = Pacer(rate=25.0, per_chat=1.0)
    sends = []
    for n in range(101):
        await pacer.wait(str(n))
        sends.append(clock[0])
    assert sends[-1] - sends[0] == pytest.approx(100 / 25, abs=0.01)  # not 100 × 0.042 = 4.2 s
    assert min(b - a for a, b in itertools.pairwise(sends)) >= 0.04 - 0.002 - 1e-9
    # After a pause the count starts afresh: no burst to make up for lost time.
    clock[0] += 10
    await pacer.wait("a")
    resumed = clock[0]
    await pacer.wait("b")
    assert clock[0] - resumed == pytest.approx(0.042)


async def test_a_digest_whose_chart_fails_is_not_sent_twice(tg: FakeTelegram, sqlite_file: str) -> None:
    """At most once: the digest's text has reached the VP office, then its chart fails with an
    error that means "try later" (DeliveryFailed). The test uses 401, which RetryRequests does
    not retry, to stay fast; a 413, or a 5xx outage outlasting RetryRequests' ~15 s, does the same
    after a longer wait. Each outbox retry sends the text again."""
    rig = await open_rig(tg, sqlite_file, None)
    try:
        await build_world(rig.db, tg, units=2)
        for method in ("sendPhoto", "sendDocument"):
            tg.fail_next(method, status=401, times=None)
        for minute in range(3):
            await rig.step(at(date(2026, 8, 25), time(7, 30 + minute)))
        digests = [d for d in rig.log if d.is_digest]
        assert len(digests) == 1, [d.at.time() for d in digests]
    finally:
        await rig.close()


# ----- 4. two bots on one database --------------------------------------------------------------------

SECOND_PROCESS = r"""
import asyncio, sys
from datetime import datetime

async def main():
    from bot.config import Settings
    from bot.outbox import OutboxSender, Pacer
    from bot.telegram.runner import TelegramChannel
    from deadlines.workdays import WorkingCalendar
    from handlers.reminders import plan
    from storage.database import Database

    url, schema, base, token = sys.argv[1:5]
    settings = Settings(_env_file=None, database_url=url, telegram_token=token, telegram_api_base=base,
                        outbox_rate_per_s=1000, outbox_per_chat_interval=0)
    db = Database(url, schema=schema or None, sqlite_synchronous="NORMAL")
    channel = TelegramChannel(settings, db)
    now = [datetime.now().astimezone()]
    calendar = WorkingCalendar()
    sender = OutboxSender(db, "telegram", channel.deliver_outgoing, settings, calendar, lambda: now[0])
    print("ready", flush=True)
    for line in sys.stdin:
        now[0] = datetime.fromisoformat(line.strip())
        async with db.transaction() as session:
            await plan(session, now[0], calendar)
        handled = 0
        while count := await sender.drain_once(5):
            handled += count
        print("done", handled, flush=True)
    await channel.bot.session.close()
    await db.close()

asyncio.run(main())
"""


async def test_two_bots_and_a_second_process_never_send_twice(
    tg: FakeTelegram, database_url: tuple[str, str | None]
) -> None:
    url, schema = database_url
    first = await open_rig(tg, url, schema)
    second = await open_rig(tg, url, schema)
    process = None
    try:
        await build_world(first.db, tg, units=24)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", SECOND_PROCESS, url, schema or "", tg.base_url, tg.token,
            cwd=REPO, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert process.stdin is not None and process.stdout is not None
        assert (await asyncio.wait_for(process.stdout.readline(), 60)).strip() == b"ready"
        tg.delay_next("sendMessage", 0.002, times=None)  # let the three interleave

        async def other_process(now: datetime) -> int:
            assert process is not None and process.stdin is not None and process.stdout is not None
            process.stdin.write(f"{now.isoformat()}\n".encode())
            await process.stdin.drain()
            answer = (await asyncio.wait_for(process.stdout.readline(), 60)).decode().split()
            assert answer[0] == "done", answer
            return int(answer[1])

        moments = [at(day, OPENING) for day in sorted(SCHEDULE)[:6]] + [at(date(2026, 9, 7), time(18))]
        handled = []
        for now in moments:
            results = await asyncio.gather(first.step(now, batch=5), second.step(now, batch=5),
                                           other_process(now))
            handled.append(results[2])
        first.collect()

        ok = [r for r in tg.request_log if r.method == "sendMessage" and r.ok]
        sent = [m for m in tg.sent if m.document is None]  # the digests' charts aside
        # A reminder is known by its chat and its day (each day says a different "còn N ngày").
        reminders = Counter((m.chat_id, left_of(m)) for m in sent if m.plain_text.startswith("⏰"))
        assert len(reminders) == 24 * 6 and set(reminders.values()) == {1}, reminders.most_common(3)
        digests = Counter(left_of(m) for m in sent if m.plain_text.startswith("📊"))
        assert len(digests) == 5 and set(digests.values()) == {1}  # −5, −3, −1, the day, +1
        assert len(ok) == len(sent) == 24 * 6 + 5
        rows = await outbox_rows(first.db)
        assert Counter(r.status for r in rows) == {"sent": 24 * 6 + 5}
        assert {r.claimed_by for r in rows} == {None}
        print("rows handled by the second process per moment:", handled)
    finally:
        if process is not None:
            if process.stdin is not None:
                process.stdin.close()
            await asyncio.wait_for(process.wait(), 30)
        await first.close()
        await second.close()


def left_of(message: FakeMessage) -> str:
    phrase = PHRASE.search(message.plain_text)
    assert phrase is not None
    return phrase["left"]


# ----- 5. inspection visits ---------------------------------------------------------------------------


async def test_moving_a_visit_replans_and_the_notice_rule_names_the_earliest_lawful_date(
    tg: FakeTelegram, sqlite_file: str
) -> None:
    rig = await open_rig(tg, sqlite_file, None)
    try:
        world = await build_world(rig.db, tg, units=3, kind=DeadlineKind.BEFORE_VISIT, admin=False)
        campaign = world.campaigns[0]
        unit = world.units[0]
        chat = world.chat(0)

        async def visit(day: date, notice: date, unscheduled: bool = False) -> None:
            async with rig.db.transaction() as session:
                found = await session.get(Campaign, campaign.id)
                fresh = await session.get(Unit, unit.id)
                assert found is not None and fresh is not None
                await set_visit(session, found, fresh, day, notice, unscheduled, CAL)

        # Notice on Friday 28/8/2026: ten working days on (31/8 – 2/9 are off) is Wednesday 16/9.
        with pytest.raises(VisitNoticeTooShortError) as refused:
            await visit(date(2026, 9, 7), date(2026, 8, 28))
        assert refused.value.earliest_lawful == date(2026, 9, 16)
        assert refused.value.required_working_days == 10
        await visit(date(2026, 9, 7), date(2026, 8, 28), unscheduled=True)  # 3 working days: lawful
        with pytest.raises(VisitNoticeTooShortError) as refused:
            await visit(date(2026, 9, 3), date(2026, 8, 28), unscheduled=True)
        assert refused.value.earliest_lawful == date(2026, 9, 7)

        # The same refusal in a chat, in the VP office's words.
        async with rig.db.transaction() as session:
            context = AdminContext(session=session, t=translator("vi"), calendar=CAL, today=date(2026, 8, 28),
                                   outline_file=OUTLINE_FILE, actor=Actor(0, "telegram"))
            reply = await run_admin_command(context, "lichkiemtra", f"{campaign.code} {unit.code} 07/09/2026")
        assert reply == ["⚠️ Không thể đặt lịch kiểm tra ngày 07/09/2026: phải thông báo trước ít nhất "
                         "10 ngày làm việc. Ngày kiểm tra sớm nhất hợp lệ là 16/09/2026."]

        # A scheduled visit on Monday 26/10/2026, notice given 5/10: report due Monday 19/10.
        await visit(date(2026, 10, 26), date(2026, 10, 5))
        old = {r.day: r.offset for r in reminder_days(date(2026, 10, 19), ReminderSettings(), CAL)}
        assert old[date(2026, 10, 5)] == -10 and old[date(2026, 10, 12)] == -5
        # Only the unit with a visit takes part: nothing for the other two.
        sent = await rig.step(at(date(2026, 10, 5), OPENING))
        assert [(d.chat_id, d.at) for d in sent] == [(chat, at(date(2026, 10, 5), OPENING))]
        assert "hạn nộp chậm nhất ngày 19/10/2026, còn 10 ngày làm việc" in sent[0].text

        # Down on the morning of the −5 day; back in the evening: the reminder waits for 07:30.
        assert await rig.step(at(date(2026, 10, 12), time(18))) == []
        # That evening the visit moves a week later (report due 26/10): the waiting one is dropped.
        await visit(date(2026, 11, 2), date(2026, 10, 5))
        rows = await outbox_rows(rig.db)
        waiting = [r for r in rows if reminder_day_of(r) == date(2026, 10, 12)]
        assert [(r.status, r.last_error) for r in waiting] == [("dropped", "visit date moved")]
        new = {r.day: r.offset for r in reminder_days(date(2026, 10, 26), ReminderSettings(), CAL)}
        assert new[date(2026, 10, 12)] == -10 and new[date(2026, 10, 19)] == -5

        # The new schedule applies: its −10 reminder (due since 12/10) goes out the next morning,
        # with the new deadline; then −5 on 19/10, the old deadline, with nothing on 14/10 or 16/10.
        received = []
        for day in days_between(date(2026, 10, 13), date(2026, 10, 27)):
            for moment in MOMENTS:
                received += await rig.step(at(day, moment))
        assert [(d.at.date(), left_of_text(d.text)) for d in received] == [
            (date(2026, 10, 13), "hạn nộp chậm nhất ngày 26/10/2026, còn 9 ngày làm việc"),
            (date(2026, 10, 19), "hạn nộp chậm nhất ngày 26/10/2026, còn 5 ngày làm việc"),
            (date(2026, 10, 21), "hạn nộp chậm nhất ngày 26/10/2026, còn 3 ngày làm việc"),
            (date(2026, 10, 23), "hạn nộp chậm nhất ngày 26/10/2026, còn 1 ngày làm việc"),
            (date(2026, 10, 26), "hạn nộp chậm nhất ngày 26/10/2026, hôm nay là hạn cuối"),
            (date(2026, 10, 27), "hạn nộp chậm nhất ngày 26/10/2026, đã quá hạn 1 ngày làm việc"),
        ]
        assert all(d.chat_id == chat and d.at.time() == OPENING for d in received)
    finally:
        await rig.close()


def left_of_text(text: str) -> str:
    phrase = PHRASE.search(text)
    assert phrase is not None
    return phrase.group(0).rstrip(".")
