"""Storage on the real engines: a SQLite file always, PostgreSQL when KSTTHC_TEST_POSTGRES_URL
is set (each test in a fresh schema). What is asserted is what an officer or the VP office
would notice: answers that survive a restart, a history of who changed what, no "database is
locked" when many units report at once, one-time invite codes, the province's real units."""

from __future__ import annotations

import asyncio
import hashlib
import re
import sys
import textwrap
from collections.abc import AsyncIterator, Coroutine
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from alembic.script import ScriptDirectory
from openpyxl import Workbook
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.seed import seed_if_empty
from engine.answers import Answer, AnswerKind
from engine.commands import parse_text
from engine.outline import Outline
from engine.views import (
    ClosedView,
    CompletedView,
    ConfirmSubmitView,
    NoticeKind,
    Outcome,
    QuestionView,
    SubmittedView,
)
from handlers.report import Report, open_report, outline_engine, take_turn
from storage.campaigns import ensure_campaign, open_campaigns
from storage.database import Database
from storage.migrate import alembic_config, current
from storage.models import (
    AnswerRow,
    Base,
    Campaign,
    HistoryEntry,
    Invite,
    Role,
    Submission,
    SubmissionStatus,
    Unit,
    UnitLevel,
    as_utc,
    utcnow,
)
from storage.officers import RedeemResult, bind_identity, create_invite, officer_by_identity, redeem_invite
from storage.outbox import Outgoing, enqueue, wrote_outbox
from storage.reports import (
    Actor,
    count_answers,
    history,
    load_answers,
    mark_submitted,
    save_answer,
    submission_for,
)
from storage.schema_version import head_revision
from storage.units import (
    SAMPLE_DEPARTMENTS_FILE,
    UnitFileError,
    UnitRecord,
    first_commune,
    import_units,
    list_units,
    province_units,
    read_unit_file,
    unit_by_code,
)
from tests.conftest import REPO

SEED_DAY = date(2021, 3, 1)
DatabaseUrl = tuple[str, str | None]  # (url, schema): the database_url fixture of conftest.py


async def open_database(url: str, schema: str | None) -> Database:
    db = Database(url, schema=schema)
    await db.upgrade()
    return db


@pytest.fixture
async def db(database_url: DatabaseUrl) -> AsyncIterator[Database]:
    database = await open_database(*database_url)
    yield database
    await database.close()


@pytest.fixture
async def seeded(db: Database) -> Database:
    """The first-run database: Cần Thơ's units and the 2021 self-inspection campaign."""
    async with db.transaction() as session:
        await seed_if_empty(session, Settings(_env_file=None), SEED_DAY)  # type: ignore[call-arg]
    return db


async def the_campaign(session: AsyncSession) -> Campaign:
    return (await open_campaigns(session))[0]


async def communes(session: AsyncSession, count: int) -> list[Unit]:
    units = await list_units(session, UnitLevel.COMMUNE)
    return sorted(units, key=lambda unit: int(unit.code))[:count]


def text_questions(outline: Outline, count: int) -> list[str]:
    names = [q.name for q in outline.asked_questions if q.type == "text" and q.relevant is None]
    assert len(names) >= count
    return names[:count]


async def officer_report(db: Database, unit_code: str, channel: str, external_id: str) -> Report:
    async with db.transaction() as session:
        unit = await unit_by_code(session, unit_code)
        assert unit is not None
        officer = await bind_identity(session, unit, channel, external_id)
        report = await open_report(session, officer, unit, channel)
    assert report is not None
    return report


async def say(db: Database, report: Report, line: str) -> Outcome:
    """One line typed by the officer, in its own transaction (as each channel event is)."""
    async with db.transaction() as session:
        outcome = await take_turn(session, report, parse_text(line))
    assert outcome is not None
    return outcome


def asking(outcome: Outcome) -> str:
    """The question the bot asks next."""
    assert isinstance(outcome.view, QuestionView), outcome.view
    return outcome.view.question.name


async def stored_answers(db: Database, report: Report) -> dict[str, Answer]:
    async with db.transaction() as session:
        submission = await submission_for(session, report.campaign, report.unit.id)
        return await load_answers(session, submission, report.outline)


async def history_of(db: Database, report: Report) -> list[HistoryEntry]:
    async with db.transaction() as session:
        submission = await submission_for(session, report.campaign, report.unit.id)
        return await history(session, submission)


# ----- schema ------------------------------------------------------------------------------


async def test_migrations_create_the_schema_and_upgrading_again_is_harmless(
        database_url: DatabaseUrl) -> None:
    url, schema = database_url
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head_revision() == head  # what a restart compares the database with, alembic unloaded
    db = Database(url, schema=schema)
    try:
        async with db.engine.connect() as connection:
            assert await connection.run_sync(lambda c: inspect(c).get_table_names()) == []
        await db.upgrade()
        async with db.engine.connect() as connection:
            tables = set(await connection.run_sync(lambda c: inspect(c).get_table_names()))
            assert tables == {*Base.metadata.tables, "alembic_version"}
            assert {"units", "answers", "history", "invites", "submissions"} <= tables
            versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
            assert versions == [(head,)]
            assert await connection.run_sync(current) == head
            if schema:  # the tables went into the test's own schema, not public
                assert await connection.scalar(text("SELECT current_schema()")) == schema
        async with db.transaction() as session:
            await import_units(session, [UnitRecord("92", "Thành phố Cần Thơ", UnitLevel.PROVINCE)])

        await db.upgrade()

        async with db.engine.connect() as connection:
            assert await connection.run_sync(current) == head
            versions = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
            assert versions == [(head,)]
        async with db.transaction() as session:
            assert [u.code for u in await list_units(session)] == ["92"]
    finally:
        await db.close()


# ----- answers survive a restart -----------------------------------------------------------

ALL_TYPES_OUTLINE = """\
outline:
  id: all-types
  version: "1"
  title: {vi: "Mọi loại câu hỏi", en: "Every question type"}
parts:
  - number: "I"
    title: {vi: "Phần I", en: "Part I"}
sections:
  - number: "I.1"
    part: "I"
    title: {vi: "Mục 1", en: "Section 1"}
    short: {vi: "Mục 1", en: "Section 1"}
    questions:
      - {name: note, number: "1.1", type: text, label: {vi: "Ghi chú", en: "Note"}}
      - {name: dossiers, number: "1.2", type: integer, label: {vi: "Số hồ sơ", en: "Dossiers"}}
      - {name: amount, number: "1.3", type: decimal, label: {vi: "Kinh phí", en: "Funding"}}
      - {name: rate, number: "1.4", type: percent, label: {vi: "Tỷ lệ", en: "Rate"}}
      - {name: has_plan, number: "1.5", type: yes_no, label: {vi: "Có kế hoạch", en: "Has a plan"}}
      - name: level
        number: "1.6"
        type: select_one
        label: {vi: "Mức độ", en: "Level"}
        choices:
          - {value: completed_well, label: {vi: "Hoàn thành tốt", en: "Completed well"}}
          - {value: completed, label: {vi: "Hoàn thành", en: "Completed"}}
      - {name: issued, number: "1.7", type: date, label: {vi: "Ngày ban hành", en: "Issued on"}}
      - {name: nothing_text, number: "1.8", type: text, label: {vi: "Không có chữ", en: "No text"}}
      - {name: nothing_count, number: "1.9", type: integer, label: {vi: "Không có số", en: "No count"}}
      - {name: zero_count, number: "1.10", type: integer, label: {vi: "Số không", en: "Zero"}}
      - {name: later, number: "1.11", type: text, label: {vi: "Để sau", en: "Later"}}
      - {name: empty_note, number: "1.12", type: text, label: {vi: "Rỗng", en: "Empty"}}
      - {name: never, number: "1.13", type: text, label: {vi: "Chưa trả lời", en: "Never"}}
"""
TRICKY_TEXT = "Kế hoạch <số 15/KH-UBND> & phụ lục 📎 — “đã gửi” 'ok'"
# What the officer types, question by question, and what must come back after a restart.
TYPED = [
    ("note", TRICKY_TEXT, Answer.of(TRICKY_TEXT)),
    ("dossiers", "1.234", Answer.of(1234)),
    ("amount", "1.234,56", Answer.of(Decimal("1234.56"))),
    ("rate", "12,5%", Answer.of(Decimal("12.5"))),
    ("has_plan", "có", Answer.of("yes")),
    ("level", "2", Answer.of("completed")),
    ("issued", "29/10/2021", Answer.of(date(2021, 10, 29))),
    ("nothing_text", "không có", Answer(AnswerKind.NONE)),
    ("nothing_count", "Không có", Answer(AnswerKind.NONE)),
    ("zero_count", "0", Answer.of(0)),
    ("later", "để sau", Answer(AnswerKind.SKIPPED)),
]


async def test_answers_of_every_kind_survive_closing_and_reopening(database_url: DatabaseUrl,
                                                                   tmp_path: Path) -> None:
    url, schema = database_url
    outline_file = tmp_path / "all-types.yaml"
    outline_file.write_text(ALL_TYPES_OUTLINE, encoding="utf-8")
    db = await open_database(url, schema)
    async with db.transaction() as session:
        await import_units(session, [UnitRecord("92", "Thành phố Cần Thơ", UnitLevel.PROVINCE),
                                     UnitRecord("31135", "Phường Ninh Kiều", UnitLevel.COMMUNE, "92")])
        await ensure_campaign(session, "all-types", "Mọi loại", outline_engine(str(outline_file)).outline,
                              str(outline_file), date(2021, 10, 29))
    report = await officer_report(db, "31135", "telegram", "1001")

    for name, line, _ in TYPED:
        outcome = await say(db, report, line)
        assert list(outcome.saved) == [name], (line, outcome.notices)
    async with db.transaction() as session:  # a value the chat cannot produce: empty text
        submission = await submission_for(session, report.campaign, report.unit.id)
        await save_answer(session, submission, report.outline, "empty_note", Answer.of(""), report.actor)
    await db.close()

    reopened = await open_database(url, schema)
    try:
        answers = await stored_answers(reopened, report)
    finally:
        await reopened.close()

    expected = {name: answer for name, _, answer in TYPED} | {"empty_note": Answer.of("")}
    assert answers == expected
    assert type(answers["dossiers"].value) is int
    assert type(answers["zero_count"].value) is int
    assert isinstance(answers["amount"].value, Decimal) and isinstance(answers["rate"].value, Decimal)
    assert type(answers["issued"].value) is date
    assert answers["note"].value == TRICKY_TEXT
    # "không có" is an answer of its own: not 0, not empty text, not missing
    assert answers["nothing_count"] != answers["zero_count"]
    assert answers["nothing_count"].value is None and answers["nothing_count"].given
    assert answers["nothing_text"] != answers["empty_note"]
    assert "never" not in answers
    assert not answers["later"].given


# ----- history -----------------------------------------------------------------------------


async def test_history_records_every_change_with_who_and_which_channel(seeded: Database) -> None:
    db = seeded
    async with db.transaction() as session:
        unit = await first_commune(session)
        assert unit is not None
    console = await officer_report(db, unit.code, "console", "local")
    telegram = await officer_report(db, unit.code, "telegram", "424242")
    assert console.officer.id != telegram.officer.id

    assert (await say(db, console, "Bản 1")).saved
    assert asking(await say(db, telegram, "mục lục 1.1")) == "guidance_documents"
    assert (await say(db, telegram, "Bản 2 <sửa> & bổ sung")).saved
    assert asking(await say(db, console, "mục lục 1.1")) == "guidance_documents"
    assert (await say(db, console, "Bản 3")).saved

    async with db.transaction() as session:
        rows = (await session.scalars(select(AnswerRow))).all()
        assert [(r.question, r.value, r.officer_id, r.channel) for r in rows] == [
            ("guidance_documents", "Bản 3", console.officer.id, "console")]
        submission = await submission_for(session, console.campaign, unit.id)
        await mark_submitted(session, submission, telegram.actor)

    entries = await history_of(db, console)
    assert [(e.event, e.question, e.value, e.officer_id, e.channel) for e in entries] == [
        ("answer", "guidance_documents", "Bản 1", console.officer.id, "console"),
        ("answer", "guidance_documents", "Bản 2 <sửa> & bổ sung", telegram.officer.id, "telegram"),
        ("answer", "guidance_documents", "Bản 3", console.officer.id, "console"),
        # The submitted version of the report is kept with the submission.
        ("submit", None, '{"guidance_documents": {"kind": "value", "value": "Bản 3"}}',
         telegram.officer.id, "telegram"),
    ]
    times = [e.at for e in entries]
    assert times == sorted(times)
    async with db.transaction() as session:
        submission = await submission_for(session, console.campaign, unit.id)
        assert submission.status == SubmissionStatus.SUBMITTED
        assert submission.submitted_by == telegram.officer.id


async def test_an_answer_is_stored_with_the_moment_it_was_given(seeded: Database) -> None:
    """The answer, its history entry and the submission's last change carry the same moment,
    read back as a UTC time (the answer path writes them past the ORM on SQLite)."""
    db = seeded
    async with db.transaction() as session:
        unit = await first_commune(session)
        assert unit is not None
    report = await officer_report(db, unit.code, "telegram", "515151")
    before = utcnow()
    assert (await say(db, report, "Bản hướng dẫn số 5")).saved
    after = utcnow()
    async with db.transaction() as session:
        submission = await submission_for(session, report.campaign, unit.id)
        (row,) = (await session.scalars(select(AnswerRow).where(AnswerRow.submission_id == submission.id)))
        (entry,) = await history(session, submission)
        moments = {as_utc(row.answered_at), as_utc(entry.at), as_utc(submission.updated_at)}
    assert len(moments) == 1
    (moment,) = moments
    assert moment is not None and before <= moment <= after
    assert (row.value, entry.value, entry.officer_id) == (
        "Bản hướng dẫn số 5", "Bản hướng dẫn số 5", report.officer.id)


async def test_the_sender_hears_at_once_of_a_committed_outbox_message_and_only_then(db: Database) -> None:
    """What wakes the outbox sender (a VP office notice goes out at once, not at its next
    round): a transaction that committed a new message; not a duplicate, not a rollback."""
    heard: list[bool] = []
    db.after_commit(lambda session: heard.append(wrote_outbox(session)))
    notice = Outgoing("Xã A đã nộp báo cáo")
    async with db.transaction() as session:
        assert await enqueue(session, "submitted:1", "telegram", "42", "submitted", notice)
    async with db.transaction() as session:
        assert not await enqueue(session, "submitted:1", "telegram", "42", "submitted", notice)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await enqueue(session, "submitted:2", "telegram", "42", "submitted", notice)
            raise RuntimeError("the event failed")
    async with db.transaction() as session:
        await session.execute(text("select 1"))
    assert heard == [True, False, False]


# ----- concurrency -------------------------------------------------------------------------

UNITS_IN_PROCESS = 20
UNITS_IN_SECOND_PROCESS = 5
ANSWERS_PER_UNIT = 30

# A second process writing answers for other units into the same database at the same time.
SECOND_PROCESS = textwrap.dedent("""
    import asyncio, sys
    from engine.answers import Answer
    from handlers.report import outline_engine
    from storage.campaigns import open_campaigns
    from storage.database import Database
    from storage.officers import bind_identity
    from storage.reports import Actor, save_answer, submission_for
    from storage.units import unit_by_code

    async def main(url, schema, codes, questions):
        db = Database(url, schema=schema or None)
        async with db.transaction() as session:
            campaign = (await open_campaigns(session))[0]
            units = [await unit_by_code(session, code) for code in codes]
            officers = [await bind_identity(session, u, "zalo", "zalo-" + u.code) for u in units]
        outline = outline_engine(campaign.outline_file).outline
        print("ready", flush=True)
        sys.stdin.readline()

        async def write(unit, officer):
            for number, question in enumerate(questions):
                async with db.transaction() as session:
                    submission = await submission_for(session, campaign, unit.id)
                    await save_answer(session, submission, outline, question,
                                      Answer.of(f"{unit.code}/{number}"), Actor(officer.id, "zalo"))

        await asyncio.gather(*(write(u, o) for u, o in zip(units, officers)))
        await db.close()
        print("done", flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3].split(","), sys.argv[4].split(",")))
""")


async def together(*coroutines: Coroutine[Any, Any, None]) -> None:
    """Run concurrently; on failure, let the others finish (and release their connections)
    before raising the first error."""
    for result in await asyncio.gather(*coroutines, return_exceptions=True):
        if isinstance(result, BaseException):
            raise result


async def write_answers(
    db: Database, campaign: Campaign, outline: Outline, unit: Unit, actor: Actor, questions: list[str]
) -> None:
    """One officer answering question after question, each answer its own transaction."""
    for number, question in enumerate(questions):
        async with db.transaction() as session:
            submission = await submission_for(session, campaign, unit.id)
            await save_answer(session, submission, outline, question, Answer.of(f"{unit.code}/{number}"),
                              actor)


async def test_units_reporting_at_once_do_not_lock_each_other_out(seeded: Database,
                                                                  database_url: DatabaseUrl) -> None:
    url, schema = database_url
    db = seeded
    second = Database(url, schema=schema)  # a second pool on the same database
    async with db.transaction() as session:
        campaign = await the_campaign(session)
        units = await communes(session, UNITS_IN_PROCESS + UNITS_IN_SECOND_PROCESS)
        actors = []
        for index, unit in enumerate(units[:UNITS_IN_PROCESS]):
            channel = "console" if index % 2 else "telegram"
            officer = await bind_identity(session, unit, channel, f"{channel}-{unit.code}")
            actors.append(Actor(officer.id, channel))
    outline = outline_engine(campaign.outline_file).outline
    questions = text_questions(outline, ANSWERS_PER_UNIT)

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SECOND_PROCESS, url, schema or "",
        ",".join(u.code for u in units[UNITS_IN_PROCESS:]), ",".join(questions),
        cwd=REPO, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None and process.stdin is not None
        ready = await asyncio.wait_for(process.stdout.readline(), 30)
        if ready != b"ready\n":
            _, err = await process.communicate()
            pytest.fail(f"the second process did not start: {ready!r} {err.decode()}")
        process.stdin.write(b"go\n")
        await process.stdin.drain()
        await together(*(
            write_answers(db if index < UNITS_IN_PROCESS // 2 else second, campaign, outline, unit,
                          actor, questions)
            for index, (unit, actor) in enumerate(zip(units[:UNITS_IN_PROCESS], actors, strict=True))
        ))
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await second.close()
    assert process.returncode == 0, err.decode()
    assert out == b"done\n"

    async with db.transaction() as session:
        submissions = (await session.scalars(select(Submission))).all()
        assert sorted(s.unit_id for s in submissions) == sorted(u.id for u in units)
        for submission in submissions:
            unit = next(u for u in units if u.id == submission.unit_id)
            answers = await load_answers(session, submission, outline)
            assert answers == {q: Answer.of(f"{unit.code}/{n}") for n, q in enumerate(questions)}
            assert await count_answers(session, submission) == ANSWERS_PER_UNIT
            assert len(await history(session, submission)) == ANSWERS_PER_UNIT
        total = await session.scalar(select(func.count()).select_from(AnswerRow))
        assert total == (UNITS_IN_PROCESS + UNITS_IN_SECOND_PROCESS) * ANSWERS_PER_UNIT

    if db.engine.dialect.name == "postgresql":
        # Row locks, not a table's: while one unit's answer is being saved (its submission
        # locked, its answer written, not yet committed), another connection saves another
        # unit's answer. (Whether the two processes above happened to overlap in time depends
        # on the machine's scheduling, so it is not what this checks.) SQLite has one writer:
        # there, what matters is that every write landed, checked above.
        first, other = units[0], units[1]
        another = Database(url, schema=schema)
        try:
            async with db.transaction() as holding:
                submission = await submission_for(holding, campaign, first.id)
                await save_answer(holding, submission, outline, questions[0], Answer.of("đang lưu"),
                                  actors[0])
                await asyncio.wait_for(
                    write_answers(another, campaign, outline, other, actors[1], questions[:1]), 10)
        finally:
            await another.close()


class EventFailed(Exception):
    pass


async def test_a_transaction_that_fails_midway_leaves_nothing_and_the_next_event_goes_on(
        db: Database, database_url: DatabaseUrl) -> None:
    """What a failed event wrote is gone and holds no lock: this process's next event commits,
    and so does another process's at once (on SQLite every write transaction of a process shares
    one connection, replaced after a failure)."""

    def unit(code: str) -> Unit:
        return Unit(code=code, name=f"Xã {code}", level=UnitLevel.COMMUNE)

    with pytest.raises(IntegrityError):  # the database itself refuses, midway
        async with db.transaction() as session:
            session.add(unit("T2"))
            await session.flush()
            session.add(unit("T2"))
            await session.flush()
    with pytest.raises(EventFailed):
        async with db.transaction() as session:
            session.add(unit("T1"))
            await session.flush()
            raise EventFailed
    async with db.transaction() as session:
        session.add(unit("T3"))
    url, schema = database_url
    another = Database(url, schema=schema)  # as another process would
    try:
        async def write_elsewhere() -> None:
            async with another.transaction() as other:
                other.add(unit("T4"))
        await asyncio.wait_for(write_elsewhere(), 10)
    finally:
        await another.close()
    async with db.transaction() as session:
        codes = set(await session.scalars(select(Unit.code).where(Unit.code.in_(["T1", "T2", "T3", "T4"]))))
    assert codes == {"T3", "T4"}


async def test_officers_of_one_unit_answering_at_once_share_one_submission(seeded: Database) -> None:
    db = seeded
    async with db.transaction() as session:
        campaign = await the_campaign(session)
        units = await communes(session, 5)
        pairs = []
        for unit in units:
            for number, channel in enumerate(("console", "telegram", "zalo", "telegram")):
                officer = await bind_identity(session, unit, channel, f"{unit.code}-{number}")
                pairs.append((unit, Actor(officer.id, channel)))
    outline = outline_engine(campaign.outline_file).outline
    questions = text_questions(outline, 4)
    start = asyncio.Barrier(len(pairs))

    # PostgreSQL runs the transactions side by side; SQLite admits one writer at a time and this
    # process queues its transactions, so there they are released at the same moment instead.
    sqlite = db.engine.dialect.name == "sqlite"

    async def answer(unit: Unit, actor: Actor, question: str) -> None:
        if sqlite:
            await start.wait()
        async with db.transaction() as session:
            if not sqlite:
                await start.wait()  # every officer's first answer at the same moment
            submission = await submission_for(session, campaign, unit.id)
            value = Answer.of(f"officer {actor.officer_id}")
            await save_answer(session, submission, outline, question, value, actor)

    await together(*(answer(unit, actor, questions[index % 4])
                           for index, (unit, actor) in enumerate(pairs)))

    async with db.transaction() as session:
        submissions = (await session.scalars(select(Submission))).all()
        assert sorted(s.unit_id for s in submissions) == sorted(u.id for u in units)
        for submission in submissions:
            rows = (await session.scalars(
                select(AnswerRow).where(AnswerRow.submission_id == submission.id))).all()
            given = {(r.question, r.value, r.officer_id, r.channel) for r in rows}
            assert given == {
                (questions[index % 4], f"officer {actor.officer_id}", actor.officer_id, actor.channel)
                for index, (unit, actor) in enumerate(pairs) if unit.id == submission.unit_id
            }


# ----- invites -----------------------------------------------------------------------------


async def test_invite_codes_are_shown_once_stored_hashed_and_redeemed_once(seeded: Database) -> None:
    db = seeded
    async with db.transaction() as session:
        unit = await first_commune(session)
        assert unit is not None
        codes = [(await create_invite(session, unit))[0] for _ in range(3)]
        admin_code, _ = await create_invite(session, None, Role.ADMIN)
        expired_code, _ = await create_invite(session, unit, ttl=timedelta(seconds=-1))
        later_code, _ = await create_invite(session, unit)

    for code in [*codes, admin_code]:
        assert re.fullmatch(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}", code), code
    assert len(set(codes)) == 3

    async with db.transaction() as session:
        stored = (await session.execute(select(Invite.__table__))).all()
        assert len(stored) == 6
        dump = repr(stored)
        for code in [*codes, admin_code, expired_code, later_code]:
            plain = code.replace("-", "")
            assert code not in dump and plain not in dump
        hashes = {row.code_hash for row in stored}
        assert hashlib.sha256(codes[0].replace("-", "").encode()).hexdigest() in hashes

    typed = [codes[0].lower(), " ".join(codes[1]), codes[2].replace("-", "")]
    async with db.transaction() as session:
        for number, variant in enumerate(typed):
            redeemed = await redeem_invite(session, variant, "telegram", f"tg-{number}",
                                           name=f"Cán bộ {number}")
            assert redeemed.result is RedeemResult.OK, variant
            assert redeemed.officer is not None and redeemed.officer.unit_id == unit.id
        admin = await redeem_invite(session, admin_code, "zalo", "z-admin")
        assert admin.result is RedeemResult.OK and admin.officer is not None
        assert (admin.officer.role, admin.officer.unit_id) == (Role.ADMIN, None)

    async with db.transaction() as session:
        again = await redeem_invite(session, codes[0], "telegram", "someone-else")
        assert again.result is RedeemResult.USED and again.officer is None
        assert await officer_by_identity(session, "telegram", "someone-else") is None
        found = await officer_by_identity(session, "telegram", "tg-0")
        assert found is not None and found.unit_id == unit.id and found.name == "Cán bộ 0"
        assert (await redeem_invite(session, "ZZZZ-ZZZZ", "telegram", "x")).result is RedeemResult.UNKNOWN
        assert (await redeem_invite(session, expired_code, "telegram", "x")).result is RedeemResult.EXPIRED
        with time_machine.travel(utcnow() + timedelta(days=15), tick=False):
            late = await redeem_invite(session, later_code, "telegram", "x")
        assert late.result is RedeemResult.EXPIRED
        assert await officer_by_identity(session, "telegram", "x") is None
        assert (await redeem_invite(session, later_code, "telegram", "x")).result is RedeemResult.OK


# ----- units -------------------------------------------------------------------------------


def test_province_units_are_can_tho_wards_and_communes_with_official_codes() -> None:
    records = province_units(92)
    province, *wards = records
    assert (province.code, province.name, province.level) == ("92", "Thành phố Cần Thơ", UnitLevel.PROVINCE)
    assert len(wards) > 100
    assert all(r.level == UnitLevel.COMMUNE and r.parent_code == "92" and r.code.isdigit() for r in wards)
    assert len({r.code for r in wards}) == len(wards)
    by_name = {r.name: r.code for r in wards}
    assert "Phường Ninh Kiều" in by_name and "Phường Cái Khế" in by_name
    assert any(name.startswith("Xã ") for name in by_name)


async def test_importing_units_is_idempotent_and_the_2021_structure_imports(db: Database,
                                                                            tmp_path: Path) -> None:
    records = province_units(92)
    async with db.transaction() as session:
        assert await import_units(session, records) == (len(records), 0)
    async with db.transaction() as session:
        assert await import_units(session, records) == (0, 0)
        communes_now = await list_units(session, UnitLevel.COMMUNE)
        ninh_kieu = next(u for u in communes_now if u.name == "Phường Ninh Kiều")
        province = await unit_by_code(session, "92")
        assert province is not None and ninh_kieu.parent_id == province.id

    sample = read_unit_file(SAMPLE_DEPARTMENTS_FILE)
    async with db.transaction() as session:
        assert await import_units(session, sample) == (len(sample) - 1, 0)  # the province is known
    async with db.transaction() as session:
        assert await import_units(session, sample) == (0, 0)
        districts = await list_units(session, UnitLevel.DISTRICT)
        departments = await list_units(session, UnitLevel.DEPARTMENT)
        assert {d.name for d in districts} >= {"Quận Ninh Kiều", "Huyện Phong Điền", "Quận Thốt Nốt"}
        assert len(districts) == 9
        assert len(departments) == sum(r.level == UnitLevel.DEPARTMENT for r in sample) == 19
        assert {u.parent_id for u in districts + departments} == {province.id}
        names = {d.code: d.name for d in districts}
        assert (names["916"], names["926"]) == ("Quận Ninh Kiều", "Huyện Phong Điền")

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Code", "Name", "Level", "Parent"])
    sheet.append(["PNV", "Phòng Nội vụ quận Ninh Kiều", "Department", 916])
    sheet.append([91601, "Tổ công tác một cửa", "commune", "PNV"])
    workbook.save(tmp_path / "phong-ban.xlsx")
    records = read_unit_file(tmp_path / "phong-ban.xlsx")
    assert records == [UnitRecord("PNV", "Phòng Nội vụ quận Ninh Kiều", "department", "916"),
                       UnitRecord("91601", "Tổ công tác một cửa", "commune", "PNV")]
    async with db.transaction() as session:
        assert await import_units(session, records) == (2, 0)
        office = await unit_by_code(session, "PNV")
        team = await unit_by_code(session, "91601")
        district = await unit_by_code(session, "916")
        assert office is not None and team is not None and district is not None
        assert (office.parent_id, team.parent_id) == (district.id, office.id)


def test_a_unit_file_with_a_bad_level_names_the_file_and_the_row(tmp_path: Path) -> None:
    path = tmp_path / "don-vi.csv"
    path.write_text("code,name,level,parent\n92,Thành phố Cần Thơ,province,\n"
                    "31135,Phường Ninh Kiều,phuong,92\n", encoding="utf-8")
    with pytest.raises(UnitFileError, match=rf"^{re.escape(str(path))}:3: level 'phuong'"):
        read_unit_file(path)
    missing = tmp_path / "thieu.csv"
    missing.write_text("code,name\n92,Cần Thơ\n", encoding="utf-8")
    with pytest.raises(UnitFileError, match=rf"^{re.escape(str(missing))}:1: missing column\(s\) level"):
        read_unit_file(missing)


# ----- the engine over storage -------------------------------------------------------------


async def test_the_chat_saves_answers_and_a_rejected_answer_changes_nothing(seeded: Database) -> None:
    db = seeded
    async with db.transaction() as session:
        unit = await first_commune(session)
        assert unit is not None
    report = await officer_report(db, unit.code, "console", "local")

    outcome = await say(db, report, "Đã ban hành Kế hoạch số 15/KH-UBND")
    assert outcome.saved == {"guidance_documents": Answer.of("Đã ban hành Kế hoạch số 15/KH-UBND")}
    assert asking(await say(db, report, "mục lục 4.3.a")) == "dossiers_total"
    assert (await say(db, report, "1.234")).saved == {"dossiers_total": Answer.of(1234)}

    for line in ("abc", "-5", "2.000"):  # not a number, negative, more than the total
        outcome = await say(db, report, line)
        assert outcome.saved == {}, line
        assert [n.kind for n in outcome.notices] == [NoticeKind.ERROR]
        assert asking(outcome) == "dossiers_new"
    assert "dossiers_new" not in await stored_answers(db, report)
    assert (await say(db, report, "1.000")).saved == {"dossiers_new": Answer.of(1000)}

    assert asking(await say(db, report, "mục lục 4.3.a")) == "dossiers_total"
    assert (await say(db, report, "abc")).saved == {}
    answers = await stored_answers(db, report)
    assert (answers["dossiers_total"], answers["dossiers_new"]) == (Answer.of(1234), Answer.of(1000))
    assert len(await history_of(db, report)) == 3

    # A corrected total below the 1.000 new dossiers is kept; the figure it contradicts is
    # withdrawn (the history keeps it) and asked again.
    outcome = await say(db, report, "900")
    assert (outcome.saved, outcome.cleared) == ({"dossiers_total": Answer.of(900)}, ("dossiers_new",))
    assert asking(outcome) == "dossiers_new"
    answers = await stored_answers(db, report)
    assert answers["dossiers_total"] == Answer.of(900) and "dossiers_new" not in answers
    assert [(e.event, e.question, e.value) for e in await history_of(db, report)] == [
        ("answer", "guidance_documents", "Đã ban hành Kế hoạch số 15/KH-UBND"),
        ("answer", "dossiers_total", "1234"),
        ("answer", "dossiers_new", "1000"),
        ("answer", "dossiers_total", "900"),
        ("clear", "dossiers_new", None),
    ]
    outcome = await say(db, report, "666")
    assert outcome.saved == {"dossiers_new": Answer.of(666)}

    # the rest of the report: "không có" to everything, then submit
    for _ in range(200):
        if not isinstance(outcome.view, QuestionView):
            break
        name = asking(outcome)
        outcome = await say(db, report, "234" if name == "dossiers_carried_over" else "không có")
        assert name in outcome.saved, (name, outcome.notices)
    assert isinstance(outcome.view, CompletedView)
    assert isinstance((await say(db, report, "nộp")).view, ConfirmSubmitView)
    assert isinstance((await say(db, report, "xác nhận")).view, SubmittedView)
    answers = await stored_answers(db, report)
    assert answers["dossiers_carried_over"] == Answer.of(234)
    assert answers["control_urging"] == Answer(AnswerKind.NONE)

    entries = await history_of(db, report)
    assert entries[-1].event == "submit" and entries[-1].channel == "console"
    closed = await say(db, report, "5")
    assert isinstance(closed.view, ClosedView) and closed.saved == {}
    assert [e.id for e in await history_of(db, report)] == [e.id for e in entries]
    async with db.transaction() as session:
        submission = await submission_for(session, report.campaign, unit.id)
        assert submission.status == SubmissionStatus.SUBMITTED
        assert submission.submitted_by == report.officer.id
