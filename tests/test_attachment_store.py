"""Attachments without a chat: the file store (owner-only, atomic, checksummed), the unique key
between two processes given the same file, the kinds of file told by their content, and the
VP office's /tailieu on a channel that cannot send files. In process, on the real databases."""

from __future__ import annotations

import asyncio
import io
import os
import stat
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from hashlib import sha256
from pathlib import Path

import pytest
from docx import Document as new_docx
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.config import Settings
from bot.console import ConsoleIO, run_chat
from deadlines.workdays import WorkingCalendar
from engine.outline import Outline
from handlers.attachments import Incoming, Verdict, attach_file, list_attachments, open_attachment
from handlers.file_kinds import human_size, named_for, safe_name, sniff
from handlers.report import open_report
from handlers.text_chat import TextContext, handle_text
from locales.translation import translator
from storage.attachments import NewAttachment, record_attachment
from storage.campaigns import ensure_campaign
from storage.database import Database
from storage.files import FileStore
from storage.models import Attachment, Officer, Role, Submission, SubmissionStatus, Unit
from storage.officers import create_invite

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 4 + b"%%EOF\n"


def office_bytes(kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "docx":
        new_docx().save(out)
    else:
        Workbook().save(out)
    return out.getvalue()


def test_the_kind_of_a_file_is_told_by_its_content_not_its_name() -> None:
    assert sniff(PDF) and sniff(PDF).extension == ".pdf"  # type: ignore[union-attr]
    assert sniff(office_bytes("docx")).extension == ".docx"  # type: ignore[union-attr]
    assert sniff(office_bytes("xlsx")).extension == ".xlsx"  # type: ignore[union-attr]
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as package:
        package.writestr("word/document.xml", "<not office/>")  # no [Content_Types].xml
    for refused in (other_zip.getvalue(), b"PK\x03\x04broken", b"GIF89a", b"MZ\x90", b"", b"<html>"):
        assert sniff(refused) is None, refused[:10]
    # Names: no folders, the extension of what the file is, sizes in Vietnamese style.
    assert safe_name("../../etc/passwd") == "passwd" and safe_name("C:\\Temp\\QĐ 1.pdf") == "QĐ 1.pdf"
    assert named_for("So lieu", sniff(office_bytes("xlsx"))) == "So lieu.xlsx"  # type: ignore[arg-type]
    assert named_for("anh.JPEG", sniff(b"\xff\xd8\xff\xe0")) == "anh.JPEG"  # type: ignore[arg-type]
    assert [human_size(n) for n in (900, 840_000, 1_572_864, 20 * 1024 * 1024)] == \
        ["900 B", "820 KB", "1,5 MB", "20 MB"]


def test_the_store_writes_owner_only_whole_files_and_checks_them_on_reading(tmp_path: Path) -> None:
    old = os.umask(0)  # a careless service file: the store's modes must not depend on it
    try:
        store = FileStore(tmp_path / "data" / "attachments")
        digest = store.put(PDF)
        assert store.put(PDF) == digest  # the same bytes: stored once
    finally:
        os.umask(old)
    path = store.path_for(digest)
    assert path.read_bytes() == PDF and stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (path.parent, store.root, tmp_path / "data"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert [p.name for p in path.parent.iterdir()] == [digest]  # no temporary file left behind
    assert store.read(digest) == PDF
    path.write_bytes(PDF[:-1] + b"!")  # damaged on disk: never handed out as the file
    with pytest.raises(Exception, match=digest):
        store.read(digest)
    with pytest.raises(ValueError):
        store.path_for("../../etc/passwd")
    # Many writers of the same new bytes at once (threads here, processes alike): one whole file.
    other = PDF + b"% other\n"
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(store.put, [bytes(other) for _ in range(16)])) == {sha256(other).hexdigest()}
    assert store.read(sha256(other).hexdigest()) == other
    assert not [p for p in store.root.rglob("*.tmp")]


async def _setup(db: Database, outline: Outline) -> tuple[int, int]:
    async with db.transaction() as session:
        unit = Unit(code="31135", name="Phường Ninh Kiều", level="commune")
        session.add(unit)
        campaign = await ensure_campaign(session, "tu-kiem-tra-2027", "Tự kiểm tra", outline,
                                         "ke-hoach-20-2021.yaml", date(2027, 10, 31))
        await session.flush()
        officer = Officer(unit_id=unit.id, name="Lan")
        submission = Submission(campaign_id=campaign.id, unit_id=unit.id)
        session.add_all([officer, submission])
        await session.flush()
        return submission.id, officer.id


async def test_two_processes_given_the_same_file_keep_one_row_and_one_file(
    database_url: tuple[str, str | None], tmp_path: Path, outline: Outline
) -> None:
    url, schema = database_url
    first, second = Database(url, schema=schema), Database(url, schema=schema)
    await first.upgrade()
    store = FileStore(tmp_path / "attachments")
    try:
        submission_id, officer_id = await _setup(first, outline)
        new = NewAttachment(submission_id, "guidance_documents", "QĐ 12.pdf", "application/pdf", len(PDF),
                            store.put(PDF), officer_id, "telegram")

        async def receive(db: Database) -> bool:
            async with db.transaction() as session:
                store.put(PDF)
                _row, inserted = await record_attachment(session, new)
                await asyncio.sleep(0.05)  # both inside their transactions at once
                return inserted

        if schema is None:
            # SQLite: one writer at a time (BEGIN IMMEDIATE), and this process's driver waits for
            # the lock on the event loop: the second comes after the first has committed.
            received = [await receive(first), await receive(second)]
        else:
            received = list(await asyncio.gather(receive(first), receive(second)))
        assert sorted(received) == [False, True]
        async with first.transaction() as session:
            assert await session.scalar(select(func.count()).select_from(Attachment)) == 1
            # For the report as a whole the same file is a second attachment; again, still one.
            whole = NewAttachment(**{**new.__dict__, "question": None})
            assert (await record_attachment(session, whole))[1] is True
            assert (await record_attachment(session, whole))[1] is False
            [info_q, info_whole] = await list_attachments(session, submission_id)
            assert (info_q.number, info_whole.number) == ("1.1", None)
            opened = await open_attachment(session, store, info_q.id, submission_id)
            assert opened is not None and opened[1] == PDF
            assert await open_attachment(session, store, info_q.id, submission_id + 1) is None
        assert len([p for p in store.root.rglob("*") if p.is_file()]) == 1
    finally:
        await first.close()
        await second.close()


async def test_the_vp_office_on_zalo_gets_the_list_and_where_to_download(
    db: Database, tmp_path: Path, outline: Outline
) -> None:
    submission_id, officer_id = await _setup(db, outline)
    store = FileStore(tmp_path / "attachments")
    async with db.transaction() as session:
        await record_attachment(session, NewAttachment(submission_id, None, "Bien ban.pdf", "application/pdf",
                                                       len(PDF), store.put(PDF), officer_id, "telegram"))
        code, _ = await create_invite(session, None, Role.ADMIN)

    async def says(text: str) -> str:
        async with db.transaction() as session:
            ctx = TextContext(session, "zalo", "office", "office", "Văn phòng", WorkingCalendar(),
                              date(2027, 3, 1), "ke-hoach-20-2021.yaml")
            return "\n".join(await handle_text(ctx, text))

    await says(code)
    listed = await says("/tailieu 31135")
    assert "Tài liệu kèm theo (1)" in listed and "Bien ban.pdf" in listed and "cả báo cáo" in listed
    assert "/tailieu trên Telegram" in listed
    assert "Cú pháp: /tailieu" in await says("/tailieu")
    assert "Tài liệu kèm theo (1)" in await says("/xembaocao 31135")


async def test_the_console_attaches_a_file_on_this_machine_with_dinhkem(tmp_path: Path) -> None:
    """/dinhkem PATH, to the question on screen or ("cả báo cáo") to the whole report; a path that
    names no file gets the syntax, not an answer. The console's own loop, in process."""
    scan = tmp_path / "quyết định 12.pdf"
    scan.write_bytes(PDF)
    lines = iter([f"/dinhkem {scan}", "/dinhkem khong-co-tep.pdf", f"/dinhkem {scan} cả báo cáo", None])
    said: list[str] = []
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}",
                        data_dir=tmp_path / "data")
    assert await run_chat(settings, ConsoleIO(lambda: next(lines), said.append)) == 0
    out = "\n".join(said)
    assert "Đã lưu tệp “quyết định 12.pdf”" in out and "kèm theo câu 1.1" in out
    assert "Cú pháp: /dinhkem" in out and "chung cho cả báo cáo" in out
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            rows = (await session.execute(select(Attachment.filename, Attachment.question)
                                          .order_by(Attachment.id))).all()
    finally:
        await db.close()
    assert [tuple(row) for row in rows] == [("quyết định 12.pdf", "guidance_documents"),
                                            ("quyết định 12.pdf", None)]


async def test_a_handed_in_report_takes_no_file_and_keeps_what_it_had(
    db: Database, tmp_path: Path, outline: Outline
) -> None:
    submission_id, officer_id = await _setup(db, outline)
    store = FileStore(tmp_path / "attachments")
    async with db.transaction() as session:
        officer = await session.get(Officer, officer_id)
        submission = await session.get(Submission, submission_id)
        assert officer is not None and submission is not None
        unit = await session.get(Unit, officer.unit_id)
        assert unit is not None
        report = await open_report(session, officer, unit, "telegram")
        assert report is not None
        saved = await attach_file(session, store, report, "guidance_documents", Incoming("a.pdf", PDF))
        submission.status = SubmissionStatus.SUBMITTED
    assert saved.verdict is Verdict.SAVED
    async with db.transaction() as session:
        refused = await attach_file(session, store, report, "guidance_documents",
                                    Incoming("b.pdf", PDF + b"% another\n"))
        assert refused.verdict is Verdict.CLOSED and "trả lại báo cáo" in refused.text(translator("vi"))
        assert [info.filename for info in await list_attachments(session, submission_id)] == ["a.pdf"]
    assert len([p for p in store.root.rglob("*") if p.is_file()]) == 1  # nothing stored for it
