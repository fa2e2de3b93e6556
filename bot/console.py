"""The console channel: a unit officer's chat in the terminal, typed or piped line by line."""

from __future__ import annotations

import asyncio
import getpass
import io
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from bot.config import Settings
from bot.seed import seed_if_empty
from engine.commands import parse_text
from engine.views import Outcome, QuestionView
from handlers.attachments import Attached, Incoming, Verdict, attach_file
from handlers.due import campaign_line
from handlers.registration import REDEEM_PROBLEMS
from handlers.render import outcome_texts
from handlers.report import Report, open_report, resume, take_turn
from handlers.rounds import closed_meanwhile, moved_on, no_open_round
from locales.translation import Translator, translator
from storage.database import Database
from storage.files import FileStore
from storage.models import Officer, Unit
from storage.officers import bind_identity, officer_by_identity, redeem_invite
from storage.units import first_commune, unit_by_code

CHANNEL = "console"
ATTACH_WORDS = ("/dinhkem", "/attach")

class ChatStop(Exception):
    """The chat cannot start; the message says why, in the officer's language."""


@dataclass(frozen=True)
class ConsoleIO:
    read_line: Callable[[], str | None]
    write: Callable[[str], None]


def terminal_io(stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> ConsoleIO:
    interactive = stdin.isatty()
    # A file piped in may hold bytes that are not UTF-8 (a file saved in another encoding, or
    # cut mid-character): they are read as "�", which the officer sees echoed, never a crash.
    # Output likewise never fails on a character the terminal cannot show.
    for stream in (stdin, stdout):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")

    def read_line() -> str | None:
        try:
            if interactive:
                return input("> ")
            line = stdin.readline()
            return line.rstrip("\r\n") if line else None
        except EOFError:
            return None

    def write(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    return ConsoleIO(read_line, write)


async def _officer_and_unit(
    db: Database, settings: Settings, t: Translator, io: ConsoleIO,
    unit_code: str | None, invite: str | None,
) -> tuple[Officer, Unit]:
    _ = t.gettext
    user = getpass.getuser()
    async with db.transaction() as session:
        if invite:
            # The person at the server's keyboard chose the code explicitly: no question asked.
            redeemed = await redeem_invite(session, invite, CHANNEL, user, name=user, leave_office=True)
            if redeemed.officer is None:
                raise ChatStop(_(REDEEM_PROBLEMS[redeemed.result]).format(left=0))
            officer = redeemed.officer
        elif unit_code:
            unit = await unit_by_code(session, unit_code)
            if unit is None:
                raise ChatStop(_("Không tìm thấy đơn vị có mã {code}. Xem danh sách bằng lệnh: "
                                 "kstthc-bot units list").format(code=unit_code))
            officer = await bind_identity(session, unit, CHANNEL, f"{user}@{unit.code}", user)
        else:
            found = await officer_by_identity(session, CHANNEL, user)
            if found is None:
                demo = await first_commune(session)
                if demo is None:
                    raise ChatStop(_("Chưa có đơn vị nào. Hãy nhập danh sách đơn vị: "
                                     "kstthc-bot units import"))
                io.write(_("Anh/chị đang dùng thử với tư cách cán bộ đầu mối của {unit} (mã {code}). "
                           "Để báo cáo cho đơn vị khác: kstthc-bot chat --unit MÃ_ĐƠN_VỊ "
                           "(xem mã bằng: kstthc-bot units list).").format(
                    unit=demo.name, code=demo.code))
                found = await bind_identity(session, demo, CHANNEL, f"{user}@{demo.code}", user)
            officer = found
        if officer.unit_id is None:
            raise ChatStop(_("Tài khoản Văn phòng UBND thành phố không có báo cáo để điền trên console."))
        unit = await session.get(Unit, officer.unit_id)
        assert unit is not None
        return officer, unit


def _show(io: ConsoleIO, outcome: Outcome, t: Translator) -> None:
    for text in outcome_texts(outcome, t):
        io.write(text)
    io.write("")


async def run_chat(
    settings: Settings, io: ConsoleIO, unit_code: str | None = None, invite: str | None = None,
) -> int:
    """Run one officer's chat until the input ends; every answer is committed as it is given."""
    t = translator(settings.locale)
    _ = t.gettext
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        await db.upgrade()
        async with db.transaction() as session:
            await seed_if_empty(session, settings, settings.today())
        try:
            officer, unit = await _officer_and_unit(db, settings, t, io, unit_code, invite)
        except ChatStop as stop:
            io.write(str(stop))
            return 2
        async with db.transaction() as session:
            report = await open_report(session, officer, unit, CHANNEL)
            if report is None:
                io.write(await no_open_round(session, unit, t))
                return 2
            closed = moved_on(report, t)
            if closed is not None:
                io.write(closed)
            io.write(f"{unit.name} — " + await campaign_line(session, report.campaign, unit,
                                                             settings.working_calendar(), t))
            outcome = await resume(session, report)
        _show(io, outcome, t)
        # The question this terminal showed last: what a line typed here answers, even when
        # another terminal or channel of the same officer has moved the report on since.
        asked = asked_question(outcome)
        lines = _read_lines_in_background(io)
        while (line := await lines.get()) is not None:
            if not line.strip():
                continue
            if line.split(maxsplit=1)[0].lower() in ATTACH_WORDS:
                answered = await _attach(db, settings, report, line.split(maxsplit=1)[1:], asked, io, t)
                if answered is not None:
                    _show(io, answered, t)
                    asked = asked_question(answered) or asked
                continue
            turned = await _turn(db, report, line, asked, t)
            if isinstance(turned, str):  # the VP office closed this round meanwhile
                io.write(turned)
                return 2
            outcome = turned
            _show(io, outcome, t)
            asked = asked_question(outcome) or asked
        return 0
    finally:
        await db.close()


def _read_lines_in_background(io: ConsoleIO) -> asyncio.Queue[str | None]:
    """Read input in a daemon thread: Ctrl-C or the end of a pipe never waits on a blocked read."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        while True:
            line = io.read_line()
            try:
                loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the chat has ended and its loop is closed
                return
            if line is None:
                return

    threading.Thread(target=pump, name="console-input", daemon=True).start()
    return queue


def asked_question(outcome: Outcome) -> str | None:
    return outcome.view.question.name if isinstance(outcome.view, QuestionView) else None


async def _turn(db: Database, report: Report, line: str, asked: str | None, t: Translator) -> Outcome | str:
    """The line's outcome; or, when the VP office has closed the round since the chat began,
    what the officer is told instead (nothing saved): the chat ends, and opening it again
    finds the round open now, if any."""
    # The transaction commits when the block ends: only then is "Đã lưu" shown.
    async with db.transaction() as session:
        closed = await closed_meanwhile(session, report, t)
        if closed is not None:
            return closed
        outcome = await take_turn(session, report, replace(parse_text(line), question=asked))
    assert outcome is not None  # typed lines are never stale
    return outcome


async def _attach(db: Database, settings: Settings, report: Report, path_words: list[str], asked: str | None,
                  io: ConsoleIO, t: Translator) -> Outcome | None:
    """/dinhkem ĐƯỜNG_DẪN: a file on this machine attached to the question on screen (committed
    before it is said); the outcome when the file answered its yes/no question."""
    path, caption = _path_and_caption(path_words[0] if path_words else "")
    if path is None:
        io.write(t.gettext("Cú pháp: /dinhkem ĐƯỜNG_DẪN_TỆP (ví dụ: /dinhkem ~/quyet-dinh.pdf): đính kèm tệp "
                           "vào câu đang hỏi; thêm “cả báo cáo” sau đường dẫn để đính kèm chung."))
        return None
    limit = settings.attachment_max_bytes
    size = path.stat().st_size
    if size > limit:
        attached = Attached(Verdict.TOO_BIG, path.name, size)
    else:
        async with db.transaction() as session:
            attached = await attach_file(session, FileStore(settings.attachments_dir), report, asked,
                                         Incoming(path.name, path.read_bytes(), caption), limit)
    io.write(attached.text(t, limit))
    return attached.answered


def _path_and_caption(rest: str) -> tuple[Path | None, str]:
    """The longest start of `rest` naming a file (a path may hold spaces), and the words after."""
    words = rest.strip().split(" ")
    for end in range(len(words), 0, -1):
        candidate = Path(" ".join(words[:end]).strip("\"'")).expanduser()
        if candidate.is_file():
            return candidate, " ".join(words[end:])
    return None, ""
