"""Attachments (issue 17, "Tài liệu kèm theo") end to end: the real `kstthc-bot run` against the
fake Telegram Bot API (documents and photos fetched with getFile and the file download) and the
fake Zalo Bot API (photos by address; files Zalo does not pass on), one SQLite file, a restart."""

from __future__ import annotations

import hashlib
import io
import re
import stat
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from docx import Document as read_docx

from bot.config import Settings
from bot.seed import seed_if_empty
from deadlines.workdays import WorkingCalendar
from engine.outline import Outline
from handlers.admin_commands import report_to_view
from handlers.attachments import list_attachments, open_attachment
from handlers.documents import unit_report_docx
from storage.database import Database
from storage.files import FileStore
from storage.models import Role
from storage.officers import create_invite
from storage.units import unit_by_code
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.telegram_harness import Officer
from tests.zalo_harness import ZaloOfficer, query, running_bot

ADMIN, OFFICER, STRANGER = 1001, 2002, 3003
ZALO_OFFICER = "0f1c2e3r4u5s6e7r"
STARTUP = 30.0
LIMIT = 300_000  # KSTTHC_ATTACHMENT_MAX_BYTES here: the refusal tested without sending 20 MB
PDF = b"%PDF-1.4\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 300 + b"%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
PDF_NAME = "QĐ 12-KH kiểm soát TTHC.pdf"


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Số hồ sơ", 12])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeTelegram, FakeZalo]]:
    async with FakeTelegram() as tg, FakeZalo() as zalo:
        yield tg, zalo


def database_url(workdir: Path) -> str:
    return f"sqlite+aiosqlite:///{workdir / 'bot.sqlite3'}"  # the harness's


async def invites(workdir: Path) -> tuple[str, str]:
    """The database as `kstthc-bot invite` leaves it (migrated, seeded), made in process: an
    invite for the VP office and one for Phường Ninh Kiều."""
    db = Database(database_url(workdir))
    try:
        await db.upgrade()
        async with db.transaction() as session:
            await seed_if_empty(session, Settings(database_url=database_url(workdir)), date.today())
            unit = await unit_by_code(session, "31135")
            admin_code, _ = await create_invite(session, None, Role.ADMIN)
            unit_code, _ = await create_invite(session, unit, Role.OFFICER)
    finally:
        await db.close()
    return admin_code, unit_code


def docx_text(content: bytes) -> str:
    document = read_docx(io.BytesIO(content))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def stored_files(workdir: Path) -> list[Path]:
    return sorted(p for p in (workdir / "kstthc-data" / "attachments").rglob("*") if p.is_file())


async def test_officers_attach_files_on_telegram_and_zalo_and_the_vp_office_downloads_them_after_a_kill(
    fakes: tuple[FakeTelegram, FakeZalo], tmp_path: Path, outline: Outline
) -> None:
    tg, zalo = fakes
    env = {"KSTTHC_ATTACHMENT_MAX_BYTES": str(LIMIT)}
    # cli() of the Zalo harness runs without either fake: invites need none.
    admin_code, unit_code = await invites(tmp_path)
    async with running_bot(tmp_path, zalo, tg, env=env) as bot:
        admin = Officer(tg, ADMIN, outline)
        await admin.says(f"/start {admin_code}", expect="Văn phòng UBND thành phố", timeout=STARTUP)
        officer = Officer(tg, OFFICER, outline)
        await officer.says(f"/start {unit_code}", expect="câu 1/")
        assert officer.question_on_screen().number == "1.1"

        # A PDF for the question on screen: fetched, stored, and said so with its name and size.
        since = len(officer.messages())
        tg.user_sends_document(OFFICER, PDF_NAME, PDF, mime_type="application/pdf")
        saved = await tg.wait_for_message(OFFICER, since=since, contains="Đã lưu tệp")
        assert f"“{PDF_NAME}”" in saved.plain_text and "kèm theo câu 1.1" in saved.plain_text
        assert "KB" in saved.plain_text
        # The same file again: one copy, and the officer is told.
        since = len(officer.messages())
        tg.user_sends_document(OFFICER, PDF_NAME, PDF, mime_type="application/pdf")
        await tg.wait_for_message(OFFICER, since=since, contains="đã được lưu trước đó")
        # A photo "cho cả báo cáo": its largest size is what is kept (not the thumbnail).
        since = len(officer.messages())
        tg.user_sends_photo(OFFICER, JPEG, caption="Ảnh quyết định, cho cả báo cáo")
        photo = await tg.wait_for_message(OFFICER, since=since, contains="Đã lưu tệp")
        assert "chung cho cả báo cáo" in photo.plain_text
        # A spreadsheet without its extension is known by its content.
        since = len(officer.messages())
        tg.user_sends_document(OFFICER, "So lieu", xlsx_bytes())
        sheet = await tg.wait_for_message(OFFICER, since=since, contains="Đã lưu tệp")
        assert "“So lieu.xlsx”" in sheet.plain_text

        # Refusals, each in plain words, and nothing saved is lost.
        answers_before = query(tmp_path, "select question, value from answers order by question")
        downloads_before = tg.request_count("getFile")
        refusals: list[tuple[str, bytes, int | None, str]] = [
            ("chuong-trinh.exe", b"MZ" + bytes(100), None, "Bot chỉ nhận tệp"),
            ("bao-cao-cu.doc", b"\xd0\xcf\x11\xe0" + bytes(100), None, ".doc, .xls cũ"),
            ("to.pdf", PDF, 25 * 1024 * 1024, "Tệp quá lớn (25 MB)"),
        ]
        for name, content, declared, words in refusals:
            since = len(officer.messages())
            tg.user_sends_document(OFFICER, name, content, declared_size=declared)
            refused = await tg.wait_for_message(OFFICER, since=since, contains=words)
            assert "các câu trả lời đã lưu vẫn giữ nguyên" in refused.plain_text
        assert tg.request_count("getFile") == downloads_before  # refused without downloading
        # Over the Bot API's own 20 MB, with no size in the update: getFile refuses, the officer is told.
        since = len(officer.messages())
        tg.user_sends_document(OFFICER, "quet.pdf", PDF, declared_size=25 * 1024 * 1024, with_size=False)
        await tg.wait_for_message(OFFICER, since=since, contains="Tệp quá lớn (hơn 20 MB)")
        # A file that only claims to be a PDF; one larger than the limit once downloaded.
        for name, content, words in (("gia.pdf", b"<html>not a pdf</html>", "Bot chỉ nhận tệp"),
                                     ("lon.pdf", PDF * 40, "Tệp quá lớn")):
            since = len(officer.messages())
            tg.user_sends_document(OFFICER, name, content, declared_size=1000)
            await tg.wait_for_message(OFFICER, since=since, contains=words)
        assert query(tmp_path, "select question, value from answers order by question") == answers_before
        assert officer.question_on_screen().number == "1.1"

        # "Có văn bản": a file sent on a yes/no question answers it "Có", backed by the file.
        while officer.question_on_screen().number != "1.4.b":
            await officer.answer_current()
        since = len(officer.messages())
        tg.user_sends_document(OFFICER, "Bao cao vuong mac.pdf", PDF + b"%1.4.b\n")
        await tg.wait_for_message(OFFICER, since=since, contains="được ghi là “Có”")
        await tg.wait_for(lambda s: officer.question_on_screen().number == "1.4.c", timeout=15,
                          message="the question after 1.4.b")
        yes_no = "select value from answers where question = 'implementation_difficulties_any'"
        assert query(tmp_path, yes_no) == [("yes",)]

        # Zalo: a photo is attached to the question on screen there; a file Zalo cannot pass on
        # gets words on what to do instead.
        zalo_officer = ZaloOfficer(zalo, ZALO_OFFICER, outline, "Lan")
        link = await officer.says("/lienket", expect="mã")
        code = next(word for word in link.plain_text.split() if len(word) == 9 and word[4] == "-")
        await zalo_officer.says(code, expect="câu")
        since = len(zalo_officer.messages())
        zalo.user_sends_image(ZALO_OFFICER, content=PNG)
        reply = await zalo.wait_for_message(ZALO_OFFICER, since=since, contains="Đã lưu tệp")
        assert "kèm theo câu 1.4.c" in reply.text and "câu" in reply.text.split("Đã lưu tệp", 1)[1]
        since = len(zalo_officer.messages())
        zalo.user_sends_unsupported(ZALO_OFFICER)
        told = await zalo.wait_for_message(ZALO_OFFICER, since=since, contains="Zalo chưa chuyển tệp")
        assert "chụp ảnh từng trang" in told.text and "Telegram" in told.text
        since = len(zalo_officer.messages())
        zalo.user_sends_image(ZALO_OFFICER, content=b"GIF89a" + bytes(50))
        await zalo.wait_for_message(ZALO_OFFICER, since=since, contains="Bot chỉ nhận tệp")

        # Someone not registered: how to register, and nothing stored.
        tg.user_sends_document(STRANGER, PDF_NAME, PDF + b"% stranger\n")
        await tg.wait_for_message(STRANGER, contains="mã mời")

        # The officer's review lists the files; the VP office downloads them.
        await officer.says("/xem", expect="Tài liệu kèm theo (5)")
        since = len(admin.messages())
        await admin.says("/tailieu 31135", expect="Tài liệu kèm theo (5)")
        await tg.wait_for(lambda s: len([m for m in s.messages_to(ADMIN)[since:] if m.document]) >= 5,
                          timeout=15, message="the five files")
        sent = {m.document.filename: m.document.content for m in admin.messages()[since:] if m.document}
        assert sent[PDF_NAME] == PDF and JPEG in sent.values() and PNG in sent.values()

        # Stored once per file, checksummed, owner-only, written before "đã lưu" was said.
        rows = query(tmp_path, "select filename, question, media_type, size, sha256, channel "
                               "from attachments order by id")
        assert [(r[0], r[1]) for r in rows[:3]] == [(PDF_NAME, "guidance_documents"), (rows[1][0], None),
                                                    ("So lieu.xlsx", "guidance_documents")]
        assert rows[1][2] == "image/jpeg" and rows[1][3] == len(JPEG)
        assert re.fullmatch(r"anh-\d{8}-\d{6}\.jpg", rows[1][0])  # named by the day it was sent
        assert rows[4][5] == "zalo" and rows[4][2] == "image/png"
        files = stored_files(tmp_path)
        assert len(files) == 5
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
        assert {hashlib.sha256(c).hexdigest() for c in (PDF, JPEG, PNG)} <= {r[4] for r in rows}
        assert stat.S_IMODE((tmp_path / "kstthc-data").stat().st_mode) == 0o700
        bot.kill()  # no cleanup, no grace: what was said saved is on disk

    # The bot killed, the database opened afresh: the rows and files are there, and the service
    # the web desk will call downloads every file again; the unit's report carries the appendix.
    db = Database(database_url(tmp_path))
    try:
        async with db.transaction() as session:
            submission_id = await report_to_view(session, "31135")
            assert submission_id is not None
            listed = await list_attachments(session, submission_id)
            store = FileStore(tmp_path / "kstthc-data" / "attachments")
            opened = [await open_attachment(session, store, info.id, submission_id) for info in listed]
            document = await unit_report_docx(session, submission_id, WorkingCalendar(), date.today())
    finally:
        await db.close()
    assert [info.filename for info in listed] == [row[0] for row in rows]
    assert [hashlib.sha256(pair[1]).hexdigest() for pair in opened if pair] == [row[4] for row in rows]
    assert document is not None
    text = docx_text(document.content)
    assert "TÀI LIỆU KÈM THEO" in text and PDF_NAME in text and "Câu 1.1" in text and "Cả báo cáo" in text
    log = (tmp_path / "bot.log").read_text(errors="replace")
    assert "Traceback" not in log
    # No file name in the log.
    for name in (PDF_NAME, "QĐ 12", "So lieu", "chuong-trinh", "bao-cao-cu", "Bao cao vuong mac"):
        assert name not in log, name
