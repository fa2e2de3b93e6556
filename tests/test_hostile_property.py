"""Generated input, thousands of lines of it, through every question type: the engine and the
views every channel renders (the bulk), the Zalo text handler on a real database, the console
process reading a file of it, and the real Zalo bot. Nothing crashes; every refusal is a
sentence in the officer's language; nothing refused changes what was saved; nothing saved is
cut or unstorable.

Cost on this project's 2-core machine, measured while other test suites ran on it (load 4):
the engine test 4-8 s for 10,000 inputs, the database test 1-3.5 s for 315 on SQLite (6 s on
PostgreSQL, which refuses NUL in text: none reaches it), the console test
2-3.5 s for 302 lines, the documents test 2.5 s, the real Zalo bot 9 s for 100 lines (6 s of
it the bot starting)."""

from __future__ import annotations

import os
import random
import re
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy import text as sql

from bot.config import Settings
from bot.seed import seed_if_empty
from bot.telegram.render import escape, view_messages
from deadlines.workdays import WorkingCalendar
from engine.answers import AnswerKind, deserialise, serialise
from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.i18n import Message
from engine.outline import Outline, load_outline
from engine.text import clean
from engine.views import FigureMessage, Mode, Notice, NoticeKind, Outcome, ReviewView, State, Turn
from handlers.documents import campaign_exports, unit_report_docx
from handlers.render import outcome_texts, recorded_text, render, render_notices
from handlers.text_chat import TextContext, handle_text
from locales.translation import translator
from storage.campaigns import open_campaigns
from storage.database import Database
from storage.models import Role, Submission, Unit
from storage.officers import create_invite, redeem_invite
from tests.commands import command
from tests.fake_zalo import FakeZalo
from tests.test_hostile_input import SMALL
from tests.zalo_harness import ZaloOfficer
from tests.zalo_harness import cli as zalo_cli
from tests.zalo_harness import query as zalo_query
from tests.zalo_harness import running_bot as zalo_bot
from tests.zalo_harness import scalar as zalo_scalar

VI = translator("vi")
EN = translator("en")
# Letters only Vietnamese writes: a refusal in Vietnamese has some, one in English none.
VIETNAMESE = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")
QUOTED = re.compile(r"“[^”]*”")
SURROGATE = re.compile("[\ud800-\udfff]")
DEADLINE = date(2026, 10, 31)
SENT = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)

# ----- what officers (and worse) type ----------------------------------------------------------

OFFICER_WORDS = [
    "không có", "Không có.", "ko có", "khong co", "0 (không)", "KHÔNG CÓ!", "có", "Có", "không",
    "k", "1", "2", "3", "0", "00", "lại", "sau", "xem", "tiến độ", "mục lục", "mục lục 4.3.a",
    "mục lục 99", "nộp", "xác nhận", "hướng dẫn", "/start", "/xem", "/unknown", "?", "42 hồ sơ",
    "1.234", "1 234", "12,5%", "12,5", "-3", "−3", "100%", "101%", "29/10/2021", "2021-10-29",
    "31/12/1999", "01/01/2030", "31/02/2021", "00/00/0000", "Thành phố", "xã", "city",
    "10.000.000", "10.000.001", "1" + "0" * 30, "0,00001", "1e10", "NaN", "Infinity", "∞",
    # Digits that are not 0-9: superscripts, Arabic-Indic, mathematical; and more digits than
    # Python turns into an int from text (4,300).
    "²", "¹²", "١٢", "٣", "𝟙", "①", "9" * 4301, "1." + "000." * 1500 + "000",
]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\x00", "\x1b", "\r", "\u202e",
             "\ud800", "\udfff", "\ufffe", "\u00ad", "\u00a0", "\u202f"]

any_character = st.characters(exclude_categories=())  # surrogates and controls included
words = st.sampled_from(OFFICER_WORDS)
noise = st.text(st.sampled_from(INVISIBLE), max_size=3)
# Each drawn from one or two choices: generating is most of this test's cost.
SUFFIXES = ["", "%", " %", " hồ sơ", " cuộc.", " (văn bản)", " hồ sơ, 3 trễ hạn", "e5", ",", ".", "đ"]
figure = st.builds(
    lambda n, layout, suffix: (
        str(n), f"{n:,}".replace(",", "."), f"{n:,}".replace(",", " "), f"-{n}", f"−{n}",
        f"{n // 1000},{n % 1000:03d}", f"{n / 7:.6f}".replace(".", ","), "9" * (n % 200),
        f"{n}.{n}", f"{n}\u00a0{n % 1000:03d}",
    )[layout] + suffix,
    st.integers(0, 10**40), st.integers(0, 9), st.sampled_from(SUFFIXES),
)
day = st.builds(lambda n, sep: sep.join((str(n % 41), str(n // 41 % 15), str(n // 615 % 100_000))),
                st.integers(0, 10**9), st.sampled_from(["/", "-", ".", " / "]))
long_paste = st.builds(lambda piece, times: piece * times,
                       st.text(any_character, min_size=1, max_size=8), st.integers(300, 1300))
typed = st.one_of(
    st.text(any_character, max_size=40),
    st.builds(lambda a, w, b: a + w + b, noise, words, noise),
    st.builds(lambda a, f, b: a + f + b, noise, figure, noise),
    day,
    long_paste,
)



def hostile(rng: random.Random) -> str:
    """One more line of the same kinds, drawn from a seed hypothesis gives: hypothesis repeats
    list elements on purpose (most of 10,000 drawn lines would be duplicates), this does not."""
    kind = rng.randrange(6)
    if kind == 0:  # any code point at all, surrogates and controls included
        return "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(1, 30)))
    if kind == 1:
        return rng.choice(INVISIBLE) * rng.randrange(3) + rng.choice(OFFICER_WORDS) + rng.choice(INVISIBLE)
    if kind == 2:
        if rng.randrange(10) == 0:
            return rng.choice("9²١") * rng.randrange(1, 10_000)
        n = rng.randrange(10 ** rng.randrange(1, 40))
        return rng.choice([str(n), f"{n:,}".replace(",", "."), f"{n:,}".replace(",", " "), f"-{n}",
                           f"{n / 7:.{rng.randrange(8)}f}".replace(".", ",")]) + rng.choice(SUFFIXES)
    if kind == 3:
        return rng.choice("/-.").join(str(rng.randrange(limit)) for limit in (40, 15, 100_000))
    if kind == 4:
        piece = "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(1, 6)))
        return piece * rng.randrange(300, 1300)
    return " ".join(rng.choice(OFFICER_WORDS) for _ in range(rng.randrange(1, 5)))



def generated_batches(examples: int, size: int) -> list[list[str]]:
    """Lines drawn as the engine test draws them (a quarter by hypothesis, the rest seeded)."""
    batches: list[list[str]] = []

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(typed, min_size=size // 4, max_size=size // 4), st.integers(0, 10**6))
    def collect(drawn: list[str], seed: int) -> None:
        rng = random.Random(repr((drawn, seed)))
        batches.append([*drawn, *(hostile(rng) for _ in range(size - len(drawn)))])

    collect()
    return batches


def assert_in_language(notice: Notice) -> None:
    """A refusal reads as a sentence in Vietnamese for vi and in English for en."""
    vi, en = notice.message.render(VI), notice.message.render(EN)
    assert vi.strip() and en.strip()
    message = notice.message
    if isinstance(message, Message):
        template = EN.gettext(message.msgid)
        assert template != message.msgid, f"no English for {message.msgid!r}"
        assert not VIETNAMESE & set(template.lower()), template
        assert VIETNAMESE & set(VI.gettext(message.msgid).lower()), message.msgid
    else:
        assert isinstance(message, FigureMessage)
        assert not VIETNAMESE & set(message.text.en.lower())
        assert VIETNAMESE & set(vi.lower())


def check_outcome(engine: ReportEngine, state: State, outcome: Outcome) -> None:
    errors = [n for n in outcome.notices if n.kind is NoticeKind.ERROR]
    for notice in errors:
        assert_in_language(notice)
    if errors and not outcome.saved:
        assert outcome.state.answers == state.answers  # a refusal loses nothing
    for name, answer in outcome.saved.items():
        question = engine.outline.question(name)
        stored = serialise(question, answer)
        if stored is not None:
            stored.encode("utf-8")  # storable: no lone surrogate
            assert "\x00" not in stored
            assert deserialise(question, answer.kind.value, stored) == answer
        if answer.kind is AnswerKind.VALUE and question.type == "text":
            assert answer.value == clean(answer.value).strip()
            assert 0 < len(answer.value) <= question.max_length  # never cut: refused instead
    for t in (VI, EN):
        texts = outcome_texts(outcome, t)  # console and Zalo
        assert all(isinstance(text, str) for text in texts)
        messages = view_messages(outcome.view, t)  # Telegram: view, notices, the edited prompt
        assert all(len(m.text) <= 4096 * 2 for m in messages)
        escape("\n".join(render_notices(outcome.notices, t)))
        for name, answer in outcome.saved.items():
            question = engine.outline.question(name)
            recorded_text(question, engine.outline.section_of(name), answer, t)


# ----- the engine and every channel's views: the bulk ---------------------------------------------

MODES = [Mode.ANSWERING, Mode.CONTENTS, Mode.CONFIRMING, Mode.OVERLONG, Mode.LONG_SAVED]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> ReportEngine:
    path = tmp_path_factory.mktemp("outline") / "hostile.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return ReportEngine(load_outline(path))


# Every generated line is also typed the ways officers' phones and copies mangle it: so each
# draw (the costly part) gives five inputs.
VARIANTS: list[Callable[[str], str]] = [
    lambda text: text,
    lambda text: "\u200b" + text + "\ufeff",
    lambda text: text.upper() + ".",
    lambda text: text + " hồ sơ",
    lambda text: "  " + text.replace(" ", "\u00a0") + "\x00",
]


def test_ten_thousand_generated_inputs_through_every_question_type(
    small: ReportEngine, engine: ReportEngine, outline: Outline,
) -> None:
    engines = [small, engine]
    inputs: list[str] = []
    counted = {"refused": 0, "saved": 0}
    types: set[str] = set()

    @settings(max_examples=100, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(typed, min_size=5, max_size=5), st.integers(0, 10**6))
    def run(drawn: list[str], seed: int) -> None:
        rng = random.Random(repr((drawn, seed)))  # seeded by the draw: replayed, it is the same
        drawn = [*drawn, *(hostile(rng) for _ in range(15))]
        chosen = engines[seed % 2]
        asked = chosen.outline.asked_questions
        state = State(answers={}, deadline=DEADLINE)
        for index, text in enumerate(variant(line) for line in drawn for variant in VARIANTS):
            pick = seed + index * 7919
            question = asked[pick % len(asked)]
            types.add(question.type)
            mode = MODES[pick % len(MODES)]
            state = replace(state, cursor=question.name, mode=mode, mode_since=SENT)
            turn = replace(parse_text(text, fuzzy=pick % 2 == 0),
                           sent_at=SENT + timedelta(seconds=pick % 11))
            if pick % 13 == 0:  # a button press, forged or not: a choice for whatever is asked
                turn = Turn(turn.action, text=str(pick % 5 - 1), choice=pick % 5 - 1)
            outcome = chosen.step(state, turn)
            check_outcome(chosen, state, outcome)
            inputs.append(text)
            counted["refused"] += any(n.kind is NoticeKind.ERROR for n in outcome.notices)
            counted["saved"] += bool(outcome.saved)
            state = outcome.state
        review = chosen.review(state)
        for t in (VI, EN):
            render(review, t, words=True)
            view_messages(ReviewView(review.sections, review.warnings), t)

    run()
    print(f"engine: {len(inputs)} inputs ({len(set(inputs))} distinct), {counted['refused']} refused, "
          f"{counted['saved']} saved, 0 crashes")
    assert len(inputs) >= 10_000 and len(set(inputs)) >= 5_000, (len(inputs), len(set(inputs)))
    assert types == {"text", "integer", "decimal", "percent", "yes_no", "select_one", "date"}
    assert counted["refused"] > 1000 and counted["saved"] > 1000, counted  # both paths taken


# ----- the report handler on a real database: what Telegram and Zalo share --------------------------

TODAY = date(2026, 10, 1)


@pytest.fixture
async def db(database_url: tuple[str, str | None]) -> AsyncIterator[Database]:
    """An empty database of each kind the machine has (PostgreSQL refuses NUL in text)."""
    url, schema = database_url
    database = Database(url, schema=schema)
    await database.upgrade()
    async with database.transaction() as session:
        await seed_if_empty(session, Settings(database_url=database.url), TODAY)
    yield database
    await database.close()


async def zalo_officer(db: Database, external_id: str, locale: str) -> None:
    async with db.transaction() as session:
        unit = await session.scalar(select(Unit).where(Unit.code == "31135"))
        code, _ = await create_invite(session, unit, Role.OFFICER)
        redeemed = await redeem_invite(session, code, "zalo", external_id, chat_id=external_id)
        assert redeemed.officer is not None
        redeemed.officer.locale = locale


async def test_generated_inputs_through_the_text_channel_on_a_real_database(db: Database) -> None:
    await zalo_officer(db, "z-vi", "vi")
    await zalo_officer(db, "z-en", "en")
    batches = generated_batches(15, 20)
    said = 0
    for number, batch in enumerate(batches):
        user = "z-vi" if number % 2 == 0 else "z-en"
        for text in ["mục lục " + ("4.3.a", "1.1.a", "5.1.b", "2.1", "4.1")[number % 5], *batch]:
            async with db.transaction() as session:
                ctx = TextContext(session, "zalo", user, user, "", WorkingCalendar(), TODAY,
                                  "ke-hoach-20-2021.yaml")
                replies = await handle_text(ctx, text)
            assert replies and all(reply.strip() for reply in replies)
            for reply in replies:
                reply.encode("utf-8")  # sendable
                for line in reply.splitlines():
                    if line.startswith("⚠️"):  # a refusal: in the officer's language
                        own_words = QUOTED.sub("", line).lower()  # what it quotes of the input aside
                        assert bool(VIETNAMESE & set(own_words)) == (user == "z-vi"), line
            said += 1
    assert said >= 300
    async with db.transaction() as session:  # everything stored reads back and shows
        ctx = TextContext(session, "zalo", "z-vi", "z-vi", "", WorkingCalendar(), TODAY,
                          "ke-hoach-20-2021.yaml")
        review = await handle_text(ctx, "xem 4")  # section 4 in full (/xem alone: a summary)
    assert any("4.3.a." in part for part in review)


# ----- the console process, a file of generated lines -------------------------------------------------

def test_a_file_of_generated_lines_through_the_console(tmp_path: Path) -> None:
    lines = [text.replace("\n", " ").replace("\r", " ")
             for batch in generated_batches(15, 20) for text in batch]
    data = b"".join(line.encode("utf-8", "surrogatepass") + b"\n" for line in lines)
    data += b"\xff\xfe\xc3\n" + b"\x00" * 10 + b"\n"  # bytes no editor would write
    env = {k: v for k, v in os.environ.items() if not k.startswith("KSTTHC_")}
    env["KSTTHC_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}"
    result = subprocess.run([*command(), "chat"], input=data + b"xem\n", capture_output=True,
                            cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    assert b"Traceback" not in result.stderr
    assert len(lines) >= 300
    out = result.stdout.decode("utf-8")  # what the console wrote is text
    assert "4.3.a." in out
    with sqlite3.connect(tmp_path / "chat.sqlite3") as connection:
        stored = [row[0] for row in connection.execute("select value from answers where value is not null")]
    assert all("\x00" not in value for value in stored)


async def test_documents_of_the_longest_and_oddest_answers_and_of_a_figure_from_before_the_bounds(
    db: Database, outline: Outline,
) -> None:
    """The .docx and .xlsx hold every answer the bot can take, at its limits, and a 5,000-digit
    figure a console saved before figures had bounds (shown, not refused: it is on record)."""
    await zalo_officer(db, "z-vi", "vi")
    odd = "Kế hoạch 👨\u200d👩\u200d👧 <b>&amp;</b> \ufffd\t" * 200
    for question in outline.asked_questions:
        typed = {"text": (odd * 10)[: question.max_length].strip(), "integer": "10.000.000",
                 "decimal": "999.999.999,9999", "percent": "99,9999%", "yes_no": "có",
                 "select_one": "1", "date": "01/01/2000"}[question.type]
        async with db.transaction() as session:
            ctx = TextContext(session, "zalo", "z-vi", "z-vi", "", WorkingCalendar(), TODAY,
                              "ke-hoach-20-2021.yaml")
            await handle_text(ctx, f"mục lục {question.number}")
            replies = await handle_text(ctx, typed)
        assert any("Đã lưu" in reply or "⚠️" in reply for reply in replies)
    async with db.transaction() as session:
        await session.execute(sql("update answers set value = :huge where question = 'dossiers_total'"),
                              {"huge": "9" * 5000})
    async with db.transaction() as session:
        submission_id = await session.scalar(select(Submission.id))
        assert submission_id is not None
        campaign = (await open_campaigns(session))[0]
        document = await unit_report_docx(session, submission_id, WorkingCalendar(), TODAY, "vi")
        exports = await campaign_exports(session, campaign, WorkingCalendar(), TODAY)
        ctx = TextContext(session, "zalo", "z-vi", "z-vi", "", WorkingCalendar(), TODAY,
                          "ke-hoach-20-2021.yaml")
        review = "\n".join(await handle_text(ctx, "xem 4"))  # section 4 in full
    assert document is not None and document.content.startswith(b"PK")
    assert {export.filename.rsplit(".", 1)[-1] for export in exports} >= {"xlsx"}
    assert "999.999.999" in review


# ----- a few through the real Zalo bot ---------------------------------------------------------------

@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(strict_chats=True) as fake:
        yield fake


async def test_generated_lines_through_the_real_zalo_bot(zalo: FakeZalo, tmp_path: Path,
                                                         outline: Outline) -> None:
    # Texts only a sender that stores nothing first can carry (an unpaired surrogate) are left
    # to the tests above: the inbox stores each raw event before the bot reads it.
    lines = [SURROGATE.sub("?", line)[:2000] for batch in generated_batches(5, 20) for line in batch]
    code = zalo_cli(tmp_path, "invite", "31135")
    async with zalo_bot(tmp_path, zalo):
        officer = ZaloOfficer(zalo, "z-1", outline, "Lan")
        await officer.says(code, expect="câu 1/")
        await officer.says("mục lục 4.3.a", expect="4.3.a.")
        since = len(officer.messages())
        for line in lines:  # sent as fast as a phone can: each gets its answer, in order
            officer.sends(line)
        await zalo.wait_for(lambda state: len(officer.messages()) >= since + len(lines),
                            timeout=60, message="a reply to every line")
        assert len(lines) == 100
        await zalo.wait_for(lambda state: zalo_scalar(
            tmp_path, "select count(*) from inbox where processed_at is null") == 0,
            timeout=30, message="every event processed")
        assert all(message.text.strip() for message in officer.messages()[since:])
    assert zalo_scalar(tmp_path, "select count(*) from inbox where processed_at is null") == 0
    for (value,) in zalo_query(tmp_path, "select value from answers where value is not null"):
        assert "\x00" not in value
