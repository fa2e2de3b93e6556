"""The chat as officers and the VP office meet it (issue 17): every admin command answers in every
state of a report; every command the help lists works; a registered officer's answer is an answer
even when it looks like a code; every reply that is not a question ends where the officer is.
In process, on a SQLite file, through the text path Zalo and the console share (and Telegram's
dispatcher where the Telegram channel is what is tested)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from deadlines.workdays import WorkingCalendar
from engine.conversation import ReportEngine
from handlers.text_chat import TextContext, handle_text
from storage.campaigns import ensure_campaign
from storage.database import Database
from storage.models import (
    AnswerRow,
    Campaign,
    Conversation,
    HistoryEntry,
    Officer,
    RegistrationAttempt,
    Role,
    Submission,
    SubmissionStatus,
    Unit,
)
from storage.officers import create_invite

UNIT = "31150"
TODAY = date(2027, 3, 1)
# Every state of a unit's report as the VP office sees it: (status, with an answer); None: no report.
STATES: list[tuple[SubmissionStatus | None, bool]] = [
    (None, False), (SubmissionStatus.DRAFT, False), (SubmissionStatus.DRAFT, True),
    (SubmissionStatus.SUBMITTED, True), (SubmissionStatus.RETURNED, True),
    (SubmissionStatus.RESUBMITTED, True), (SubmissionStatus.ACCEPTED, True),
]


@dataclass
class Chats:
    db: Database
    engine: ReportEngine

    async def says(self, user: str, text: str, channel: str = "zalo") -> str:
        async with self.db.transaction() as session:
            ctx = TextContext(session, channel, user, user, "Cán bộ", WorkingCalendar(), TODAY,
                              "ke-hoach-20-2021.yaml")
            return "\n".join(await handle_text(ctx, text))

    async def invite(self, role: Role = Role.OFFICER) -> str:
        async with self.db.transaction() as session:
            unit = None if role is Role.ADMIN else await session.scalar(select(Unit))
            return (await create_invite(session, unit, role))[0]

    async def answers(self) -> dict[str, str | None]:
        async with self.db.transaction() as session:
            return {row.question: row.value for row in await session.scalars(select(AnswerRow))}

    async def tries(self) -> int:
        async with self.db.transaction() as session:
            return int(await session.scalar(select(func.count()).select_from(RegistrationAttempt)) or 0)

    async def set_state(self, status: SubmissionStatus | None, answered: bool) -> None:
        """The unit's report put in this state directly (what the officer and office did before)."""
        async with self.db.transaction() as session:
            for table in (AnswerRow, HistoryEntry, Conversation, Submission):
                await session.execute(delete(table))
            if status is None:
                return
            campaign = await session.scalar(select(Campaign))
            unit = await session.scalar(select(Unit))
            assert campaign is not None and unit is not None
            submission = Submission(campaign_id=campaign.id, unit_id=unit.id, status=status)
            session.add(submission)
            await session.flush()
            if answered:
                first = self.engine.outline.questions[0]
                officer = await session.scalar(select(Officer))
                assert officer is not None
                session.add(AnswerRow(submission_id=submission.id, question=first.name, kind="none",
                                      value=None, officer_id=officer.id, channel="zalo"))


@pytest.fixture
async def chats(tmp_path: Path, engine: ReportEngine) -> AsyncIterator[Chats]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    await db.upgrade()
    async with db.transaction() as session:
        session.add(Unit(code=UNIT, name="Phường Tân An", level="commune"))
        await ensure_campaign(session, "tu-kiem-tra-2027", "Tự kiểm tra", engine.outline,
                              "ke-hoach-20-2021.yaml", date(2027, 10, 31))
    yield Chats(db, engine)
    await db.close()


ADMIN_COMMANDS = [
    "/tiendo", "/hannop", "/hannop tu-kiem-tra-2027", f"/xembaocao {UNIT}", f"/tiepnhan {UNIT}",
    f"/tralai {UNIT} Bổ sung số liệu mục 4", f"/lichkiemtra tu-kiem-tra-2027 {UNIT} 15/04/2027",
    f"/ketluan tu-kiem-tra-2027 {UNIT} 15/04/2027",
    "/taodot dot-moi codinh 31/10/2027 Báo cáo mới",
]


async def test_every_admin_command_answers_for_every_state_of_a_report(chats: Chats) -> None:
    await chats.says("office", await chats.invite(Role.ADMIN))
    for status, answered in STATES:
        for command in ADMIN_COMMANDS:
            await chats.set_state(status, answered)
            reply = await chats.says("office", command)
            assert reply.strip(), (status, command)
            assert "Các lệnh:" not in reply, (status, command, reply)  # not the help: understood


def admin_help_commands(text: str) -> list[str]:
    return sorted(set(re.findall(r"/([a-z]+)", text)))


# ----- every command the help and the menus list works where they list it -----------------------

def listed_commands(text: str) -> list[str]:
    return sorted(set(re.findall(r"(?<![\w/])/([a-z]+)", text)))


ARGUMENTS = {"xembaocao": UNIT, "tailieu": UNIT, "tiepnhan": UNIT, "tralai": f"{UNIT} Bổ sung số liệu",
             "lichkiemtra": f"tu-kiem-tra-2027 {UNIT} 15/04/2027",
             "ketluan": f"tu-kiem-tra-2027 {UNIT} 15/04/2027",
             "taodot": "dot-moi codinh 31/10/2027 Báo cáo mới"}


async def test_every_command_the_zalo_help_lists_works_there(chats: Chats) -> None:
    help_text = await chats.says("office", await chats.invite(Role.ADMIN))
    help_text = await chats.says("office", "giúp tôi")
    commands = listed_commands(help_text)
    assert {"tiendo", "hannop", "xembaocao", "tralai", "tiepnhan"} <= set(commands)
    await chats.set_state(SubmissionStatus.SUBMITTED, True)
    for command in commands:
        reply = await chats.says("office", f"/{command} {ARGUMENTS.get(command, '')}".strip())
        assert "Các lệnh:" not in reply, (command, reply)
        assert "Không tìm thấy" not in reply and "Cú pháp" not in reply, (command, reply)


class TelegramChats:
    """Updates fed to the real Telegram channel's `process` (its dispatcher and routers) in the
    inbox worker's way; what it would say is read from its replies instead of being sent."""

    def __init__(self, chats: Chats) -> None:
        from bot.config import Settings
        from bot.telegram.runner import TelegramChannel

        settings = Settings(database_url=chats.db.url, telegram_token="123456:TEST",  # type: ignore[call-arg]
                            telegram_api_base="http://127.0.0.1:9", _env_file=None)
        self.channel = TelegramChannel(settings, chats.db)
        self.db = chats.db
        self.update_id = 0
        self.buttons: list[str] = []  # of the last update's replies

    async def says(self, user: int, text: str) -> list[str]:
        """The texts and file names the bot would send in answer."""
        from bot.telegram.replies import Send, SendDocument
        from storage.inbox import TakenEvent

        self.update_id += 1
        message = {"message_id": self.update_id, "date": 1_800_000_000, "text": text,
                   "chat": {"id": user, "type": "private"},
                   "from": {"id": user, "is_bot": False, "first_name": "Cán bộ"}}
        update = {"update_id": self.update_id, "message": message}
        async with self.db.transaction() as session:
            after = await self.channel.process(session, TakenEvent(self.update_id, str(self.update_id),
                                                                   json.dumps(update)))
        replies = after.args[0]  # type: ignore[union-attr]
        self.buttons = [button.text for reply in replies.items if isinstance(reply, Send)
                        and reply.message.keyboard for row in reply.message.keyboard.inline_keyboard
                        for button in row]
        return [reply.message.text if isinstance(reply, Send) else reply.filename
                for reply in replies.items if isinstance(reply, Send | SendDocument)]

    async def close(self) -> None:
        await self.channel.bot.session.close()


async def test_every_command_the_telegram_help_and_menu_list_works_there(chats: Chats) -> None:
    from bot.telegram.runner import COMMANDS as MENU

    telegram = TelegramChats(chats)
    try:
        await telegram.says(1, f"/start {await chats.invite(Role.ADMIN)}")
        help_text = "\n".join(await telegram.says(1, "giúp tôi"))
        commands = listed_commands(help_text)
        assert {"tiendo", "hannop", "xembaocao", "xuatbaocao", "tralai", "tiepnhan"} <= set(commands)
        await chats.set_state(SubmissionStatus.SUBMITTED, True)
        for command in commands:
            reply = "\n".join(await telegram.says(1, f"/{command} {ARGUMENTS.get(command, '')}".strip()))
            assert reply and "Các lệnh:" not in reply, (command, reply)
            assert "Không tìm thấy" not in reply and "Cú pháp" not in reply, (command, reply)

        await telegram.says(2, f"/start {await chats.invite()}")
        for command in MENU:
            reply = "\n".join(await telegram.says(2, f"/{command}"))
            assert reply and ("HƯỚNG DẪN" not in reply or command == "huongdan"), (command, reply)
    finally:
        await telegram.close()


# ----- a registered officer's answer is an answer, whatever it looks like ------------------------

async def test_a_registered_officers_answer_that_looks_like_a_code_is_an_answer(chats: Chats) -> None:
    await chats.says("officer", await chats.invite())
    for answer in ("abcdefgh", "1234 5678"):  # 1.1 and 1.2 are text questions
        reply = await chats.says("officer", answer)
        assert "Đã lưu" in reply and "Mã mời" not in reply, reply
    assert set((await chats.answers()).values()) == {"abcdefgh", "1234 5678"}
    await chats.says("officer", "mục lục 3.1.b")  # a figure
    reply = await chats.says("officer", "12000000")
    assert "Mã mời" not in reply, reply
    assert await chats.tries() == 0

    # Named, it is a code: redeemed (here a wrong one, so a try is spent).
    assert "Mã mời không đúng" in await chats.says("officer", "mã ABCD-EFGH")
    assert await chats.tries() == 1


async def test_a_reused_link_code_has_its_own_words_before_registration(chats: Chats) -> None:
    await chats.says("officer", await chats.invite())
    link = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}", await chats.says("officer", "liên kết"))
    assert link is not None
    assert "cán bộ đầu mối" in await chats.says("officer-tg", link.group(0), channel="telegram")
    reply = await chats.says("stranger", link.group(0))
    assert "Mã liên kết này đã được sử dụng" in reply and "Mã mời" not in reply, reply


# ----- every reply that is not a question ends where the officer is ------------------------------

async def test_every_reply_that_is_not_a_question_ends_with_the_open_question(chats: Chats) -> None:
    await chats.says("officer", await chats.invite())
    await chats.says("officer", "Hướng dẫn số 1")  # 1.1 answered: 1.2 is open
    open_question = f"{chats.engine.outline.questions[1].number}. "
    for text in ("tiến độ", "hướng dẫn", "xem", "mã ABCD-EFGH", "/tralai 31150 x", "liên kết", "/start",
                 "/lenhla"):
        reply = await chats.says("officer", text)
        last = reply.rsplit("câu 2/", 1)
        assert len(last) == 2 and open_question in last[1], (text, reply[-300:])
    # and what is typed next answers that question
    assert "Đã lưu" in await chats.says("officer", "Đôn đốc hằng tháng")
    assert len(await chats.answers()) == 2

    telegram = TelegramChats(chats)
    try:
        await telegram.says(7, f"/start {await chats.invite()}")
        for command in ("/tiendo", "/huongdan", "/xem"):
            texts = [text for text in await telegram.says(7, command) if not text.endswith(".docx")]
            third = f"{chats.engine.outline.questions[2].number}. "  # the unit's report is shared
            assert "câu 3/" in texts[-1] and third in texts[-1], (command, texts[-1][:300])
    finally:
        await telegram.close()


# ----- each state of a report has its own look and what it allows ------------------------------

async def test_a_handed_in_report_reads_without_edit_buttons_and_a_skipped_question_is_not_ticked(
    chats: Chats,
) -> None:
    from engine.answers import SKIPPED_ANSWER
    from handlers.render import recorded_text
    from storage.models import Identity

    telegram = TelegramChats(chats)
    try:
        await telegram.says(7, f"/start {await chats.invite()}")
        await telegram.says(7, "/xem")
        assert "📤 Nộp báo cáo" in telegram.buttons  # a draft: sections to edit, and submit
        async with chats.db.transaction() as session:  # the same officer's later states
            officer = await session.scalar(select(Officer).join(Identity).where(Identity.external_id == "7"))
            assert officer is not None
        for status in (SubmissionStatus.SUBMITTED, SubmissionStatus.RESUBMITTED, SubmissionStatus.ACCEPTED):
            async with chats.db.transaction() as session:
                submission = await session.scalar(select(Submission))
                assert submission is not None
                submission.status = status
            texts = [text for text in await telegram.says(7, "/xem") if not text.endswith(".docx")]
            assert telegram.buttons == [], (status, telegram.buttons)
            assert "không sửa được" in texts[-1], (status, texts[-1])
    finally:
        await telegram.close()

    question = chats.engine.outline.questions[0]
    section = chats.engine.outline.section_of(question.name)
    from locales.translation import translator

    record = recorded_text(question, section, SKIPPED_ANSWER, translator("vi"))
    assert "✅" not in record and "(để sau)" in record


# ----- words: "mục" a section, "câu" a question; one "tỷ lệ"; unit names clean and in order -----

def test_counts_of_questions_say_cau_and_rates_say_ty_le() -> None:
    from tests.conftest import REPO

    catalog = (REPO / "locales" / "messages.pot").read_text(encoding="utf-8")
    outline = (REPO / "outlines" / "ke-hoach-20-2021.yaml").read_text(encoding="utf-8")
    counted_sections = re.findall(r"\{\w+\}(?:/\{\w+\})? mục", catalog.replace('"\n"', ""))
    assert counted_sections == [], "a count of questions is “câu”, not “mục”"
    assert "tỉ lệ" not in catalog.lower() and "tỉ lệ" not in outline.lower()


async def test_unit_names_are_clean_and_listed_in_vietnamese_order(chats: Chats) -> None:
    from handlers.overview import campaign_overview, overview_texts
    from locales.translation import translator
    from storage.units import UnitRecord, import_units

    names = ["Xã Phú Hữu", "Xã  Đại Hải", "Xã Ô Môn", "Xã Dương Minh", "Xã Ơn Thành", "Xã Ốc Eo"]
    async with chats.db.transaction() as session:
        await import_units(session, [UnitRecord(str(900 + n), name, "commune")
                                     for n, name in enumerate(names)])
        campaign = await session.scalar(select(Campaign))
        assert campaign is not None
        overview = await campaign_overview(session, campaign)
    listed = "\n".join(overview_texts(overview, translator("vi")))
    order = ["Phường Tân An", "Xã Dương Minh", "Xã Đại Hải", "Xã Ô Môn", "Xã Ốc Eo", "Xã Ơn Thành",
             "Xã Phú Hữu"]
    positions = [listed.find(f"• {name} (") for name in order]
    assert -1 not in positions and positions == sorted(positions), listed
    assert "  Đại" not in listed


def test_nothing_to_report_is_set_apart_from_no_on_every_channel(engine: ReportEngine) -> None:
    from bot.telegram.render import question_keyboard
    from engine.views import QuestionView, State
    from handlers.render import question_text
    from locales.translation import translator

    t = translator("vi")
    state = State(answers={}, cursor="implementation_difficulties_any")  # a yes/no question
    view = engine.view_at(state, "implementation_difficulties_any")
    assert isinstance(view, QuestionView)
    text = question_text(view, t)  # Zalo and the console
    assert "1. Có\n2. Không\n\n0. Không có nội dung để báo cáo" in text, text
    rows = [[button.text for button in row] for row in question_keyboard(view, t).inline_keyboard]
    assert rows[0] == ["Có", "Không"]
    assert rows[1] == ["∅ Không có nội dung để báo cáo"]  # a row of its own, in words of its own


async def test_the_contents_on_telegram_list_the_sections_once(chats: Chats) -> None:
    telegram = TelegramChats(chats)
    try:
        await telegram.says(7, f"/start {await chats.invite()}")
        texts = await telegram.says(7, "/mucluc")
    finally:
        await telegram.close()
    heading = "Mục 4 · "
    in_text = sum(text.count(heading) for text in texts)
    in_buttons = sum(button.count(heading) for button in telegram.buttons)
    assert (in_text, in_buttons) == (0, 1), (texts, telegram.buttons)


def test_every_prompt_says_what_kind_of_answer_it_expects(engine: ReportEngine) -> None:
    from engine.views import QuestionView, State
    from handlers.render import question_text
    from locales.translation import translator

    t = translator("vi")
    expected = {"text": "Gõ nội dung trả lời.", "integer": "ví dụ: 25 hoặc 1.234", "decimal": "ví dụ: 12,5",
                "percent": "ví dụ: 12,5%", "date": "ngày/tháng/năm", "yes_no": "phương án",
                "select_one": "phương án"}
    for question in engine.outline.questions:
        if not question.asked:
            continue
        view = engine.view_at(State(answers={}), question.name)
        assert isinstance(view, QuestionView)
        for words in (True, False):  # Zalo and the console; Telegram
            text = question_text(view, t, words=words)
            assert expected[question.type] in text, (question.number, words, text[-200:])


async def test_the_greeting_says_the_period_and_the_legal_basis(chats: Chats) -> None:
    greeting = await chats.says("officer", await chats.invite())
    assert "Kỳ báo cáo: từ ngày" in greeting
    assert "Căn cứ: Đề cương kèm theo Kế hoạch số 20/KH-UBND ngày 21/01/2021" in greeting


async def test_the_review_is_one_short_summary_with_each_section_in_reach(chats: Chats) -> None:
    from bot.zalo.client import MAX_TEXT_LENGTH
    from handlers.render import pack_texts

    await chats.says("officer", await chats.invite())
    for answer in ("Hướng dẫn số 1", "Đôn đốc hằng tháng", "Hai công chức kiêm nhiệm"):
        await chats.says("officer", answer)
    async with chats.db.transaction() as session:
        ctx = TextContext(session, "zalo", "officer", "officer", "Cán bộ", WorkingCalendar(), TODAY,
                          "ke-hoach-20-2021.yaml")
        texts = await handle_text(ctx, "xem")
    summary = texts[0]
    assert "XEM LẠI BÁO CÁO: đã trả lời 3/" in summary and "xem 4" in summary
    assert "Hướng dẫn số 1" not in summary  # answers are read section by section
    assert len(pack_texts(texts, MAX_TEXT_LENGTH)) <= 2  # Zalo: the summary and the open question
    section = await chats.says("officer", "xem 1")
    assert "Hướng dẫn số 1" in section and "Đôn đốc hằng tháng" in section
    assert "3.1.b" not in section  # only that section

    telegram = TelegramChats(chats)
    try:
        await telegram.says(7, f"/start {await chats.invite()}")
        sent = await telegram.says(7, "/xem")
    finally:
        await telegram.close()
    documents = [name for name in sent if name.endswith(".docx")]
    messages = [text for text in sent if not text.endswith(".docx")]
    summary_messages = messages[:-1]  # then the open question
    assert documents and 1 <= len(summary_messages) <= 2, sent
    assert sum(len(text) for text in summary_messages) <= 4096
    assert any(button.startswith("✏️") for button in telegram.buttons)


# ----- kstthc-bot invite ------------------------------------------------------------------------

def test_invite_prints_how_to_use_the_code_and_refuses_a_code_that_could_not_work(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main
    from bot.config import get_settings

    env = {"KSTTHC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"}
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["invite", "31120"], env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        code = result.stdout.strip()
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code), result.stdout  # alone, for scripts
        assert f"Telegram: send “/start {code}” to the bot" in result.stderr
        assert f"Zalo: send “{code}”" in result.stderr
        get_settings.cache_clear()
        linked = CliRunner().invoke(main, ["invite", "31120"], env={**env, "KSTTHC_TELEGRAM_BOT_USERNAME":
                                                                     "kstthc_bot"})
        code = linked.stdout.strip()
        assert f"Telegram: https://t.me/kstthc_bot?start={code}" in linked.stderr
        for wrong in (["--days", "0"], ["--until", "01/01/2020"], ["--until", "31/02/2030"]):
            get_settings.cache_clear()
            refused = CliRunner().invoke(main, ["invite", "31120", *wrong], env=env)
            assert refused.exit_code == 2, (wrong, refused.output)
        get_settings.cache_clear()
        until = CliRunner().invoke(main, ["invite", "--admin", "--until", "31/12/2099"], env=env)
        assert until.exit_code == 0, until.output
    finally:
        get_settings.cache_clear()


# ----- the README's quick start; webhook mode said, never silently skipped ---------------------

def test_the_quick_start_installs_into_a_virtual_environment_not_the_system_python() -> None:
    from tests.conftest import REPO

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in block.splitlines() if line.strip()]
    assert len(commands) == 2
    for line in commands:  # PEP 668: a stock Debian/Ubuntu python3 refuses a bare pip install
        assert line.startswith("python3 -m venv .venv && .venv/bin/pip install"), line
        assert "python3 -m pip" not in line


def test_a_webhook_address_without_webhook_mode_is_said_not_silently_polled_past() -> None:
    from bot.cli import receiving
    from bot.config import Settings

    settings = Settings(zalo_token="1:x", zalo_webhook_url="https://example.invalid/zalo/webhook",  # type: ignore[call-arg]
                        zalo_webhook_secret="s3cret-for-tests", _env_file=None)
    polled, notes = receiving(settings, webhook=False)
    assert polled.zalo_webhook_url is None
    assert len(notes) == 1 and "KSTTHC_ZALO_WEBHOOK_URL" in notes[0] and "--webhook" in notes[0]
    served, notes = receiving(settings, webhook=True)
    assert served.zalo_webhook_url == settings.zalo_webhook_url and notes == []


def test_every_word_the_officers_help_lists_is_understood() -> None:
    from engine.commands import parse_text
    from engine.views import Action, HelpView
    from handlers.render import help_text
    from locales.translation import translator

    shown = help_text(HelpView(), translator("vi"))
    words = re.findall(r"“([^”]+)”", shown)
    assert {"không có", "lại", "sau", "mục lục", "tiến độ", "xem", "nộp"} <= set(words)
    for word in words:
        assert parse_text(word, fuzzy=True).action is not Action.ANSWER, word
