"""Files officers attach to a question or to the whole report (tài liệu kèm theo): accepted by
kind and size, stored (storage.files) before their row is written, listed for the review, the
report's appendix and the VP office, and read back for download. Every channel calls these; the
web desk can too (list_attachments, open_attachment)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from engine.commands import parse_text
from engine.i18n import N_, Translator
from engine.outline import Outline
from engine.text import fold
from engine.views import Outcome
from handlers.file_kinds import (
    MAX_BYTES,
    MAX_FILES_PER_REPORT,
    PLATFORM_MAX_BYTES,
    human_size,
    named_for,
    plausible_name,
    sniff,
)
from handlers.outline_versions import outline_of
from handlers.report import Report, load_state, submission_parts, take_turn
from storage.attachments import NewAttachment, attachment_count, attachments_of, record_attachment
from storage.files import FileStore, StoredFileMissing
from storage.models import Attachment, SubmissionStatus, as_utc
from storage.reports import submission_for

# A caption with these words files the attachment with the report as a whole.
WHOLE_REPORT_WORDS = ("ca bao cao", "toan bo bao cao", "chung cho bao cao", "whole report")
KINDS_TEXT = N_("ảnh (JPG, PNG), PDF, Word (.docx) hoặc Excel (.xlsx)")
WRONG_KIND = N_("Bot chỉ nhận tệp {kinds}. Tệp này chưa được lưu; các câu trả lời đã lưu vẫn giữ nguyên. "
                "Với tệp .doc, .xls cũ, anh/chị mở tệp và lưu lại thành .docx, .xlsx hoặc PDF rồi gửi lại.")
TOO_BIG = N_("Tệp quá lớn ({size}): bot nhận tệp đến {limit}. Tệp này chưa được lưu; các câu trả lời đã lưu "
             "vẫn giữ nguyên. Anh/chị có thể tách thành nhiều tệp, hoặc quét (scan) lại với độ phân giải "
             "thấp hơn, rồi gửi lại.")
TOO_MANY = N_("Báo cáo đã có {count} tệp kèm theo, là số tệp tối đa. Tệp này chưa được lưu. Nếu cần gửi "
              "thêm, anh/chị gộp các trang vào một tệp PDF rồi gửi lại.")
CLOSED = N_("Báo cáo đã nộp nên không nhận thêm tệp kèm theo. Nếu cần bổ sung, anh/chị đề nghị Văn phòng "
            "UBND thành phố trả lại báo cáo để chỉnh sửa.")
NOT_FETCHED = N_("Bot chưa tải được tệp này từ máy chủ tin nhắn. Tệp chưa được lưu; anh/chị vui lòng gửi "
                 "lại sau ít phút.")


class Verdict(StrEnum):
    SAVED = "saved"
    AGAIN = "again"  # the same file for the same place, sent before
    TOO_BIG = "too_big"
    WRONG_KIND = "wrong_kind"
    TOO_MANY = "too_many"
    CLOSED = "closed"
    NOT_FETCHED = "not_fetched"  # the channel could not download it


@dataclass(frozen=True)
class Incoming:
    filename: str
    content: bytes
    caption: str = ""


@dataclass(frozen=True)
class Attached:
    """What became of a file: stored (where), or refused (why); and, when it answered its yes/no
    question ("có văn bản"), the turn that recorded the answer."""

    verdict: Verdict
    filename: str = ""
    size: int = 0
    number: str | None = None  # the question's number; None: the report as a whole
    answered: Outcome | None = None

    def text(self, t: Translator, max_bytes: int = MAX_BYTES) -> str:
        _ = t.gettext
        if self.verdict in (Verdict.SAVED, Verdict.AGAIN):
            where = (_("kèm theo câu {number}").format(number=self.number) if self.number
                     else _("kèm theo báo cáo (chung cho cả báo cáo)"))
            said = (_("📎 Đã lưu tệp “{name}” ({size}), {where}.") if self.verdict is Verdict.SAVED
                    else _("📎 Tệp “{name}” đã được lưu trước đó, {where}; không lưu thêm bản nữa."))
            text = said.format(name=self.filename, size=human_size(self.size), where=where)
            if self.answered is not None:
                text += " " + _("Câu {number} được ghi là “Có”, có tệp này làm căn cứ.").format(
                    number=self.number)
            return text
        if self.verdict is Verdict.TOO_BIG:
            # Size 0: the platform refused the download as too big without saying how big.
            size = human_size(self.size) if self.size else _("hơn {size}").format(
                size=human_size(PLATFORM_MAX_BYTES))
            return "⚠️ " + _(TOO_BIG).format(size=size, limit=human_size(max_bytes))
        if self.verdict is Verdict.WRONG_KIND:
            return "⚠️ " + _(WRONG_KIND).format(kinds=_(KINDS_TEXT))
        if self.verdict is Verdict.TOO_MANY:
            return "⚠️ " + _(TOO_MANY).format(count=MAX_FILES_PER_REPORT)
        if self.verdict is Verdict.CLOSED:
            return "⚠️ " + _(CLOSED)
        return "⚠️ " + _(NOT_FETCHED)


def before_download(filename: str, declared_size: int | None, max_bytes: int = MAX_BYTES) -> Attached | None:
    """A refusal that needs no download (the size or the name the platform gives), if any."""
    if declared_size is not None and declared_size > max_bytes:
        return Attached(Verdict.TOO_BIG, filename, declared_size)
    if not plausible_name(filename):
        return Attached(Verdict.WRONG_KIND, filename, declared_size or 0)
    return None


def _target(report: Report, asked: str | None, caption: str) -> str | None:
    """The question the file goes with: the one on the officer's screen, unless the caption
    says the whole report (or nothing is on screen)."""
    folded = fold(caption)
    if any(word in folded for word in WHOLE_REPORT_WORDS):
        return None
    return asked if asked and report.outline.has_question(asked) else None


async def attach_file(session: AsyncSession, store: FileStore, report: Report, asked: str | None,
                      incoming: Incoming, max_bytes: int = MAX_BYTES,
                      notify_chats: dict[str, list[str]] | None = None) -> Attached:
    """Check, store and record one file in the event's transaction, for `asked` (the question
    on the officer's screen). The bytes are on disk (fsynced) before the row is written, and the
    caller commits before telling the officer; when the file answered its question, the caller
    remembers the question the outcome shows (remember_asked)."""
    content = incoming.content
    if len(content) > max_bytes:
        return Attached(Verdict.TOO_BIG, incoming.filename, len(content))
    kind = sniff(content)
    if kind is None:
        return Attached(Verdict.WRONG_KIND, incoming.filename, len(content))
    submission = await submission_for(session, report.campaign, report.unit.id)
    if not SubmissionStatus(submission.status).editable:
        return Attached(Verdict.CLOSED, incoming.filename, len(content))
    name = named_for(incoming.filename, kind)
    if await attachment_count(session, submission.id) >= MAX_FILES_PER_REPORT:
        return Attached(Verdict.TOO_MANY, name, len(content))
    question_name = _target(report, asked, incoming.caption)
    digest = await asyncio.to_thread(store.put, content)  # the fsync waits off the event loop
    row, new = await record_attachment(session, NewAttachment(
        submission.id, question_name, name, kind.media_type, len(content), digest, report.officer.id,
        report.channel))
    question = report.outline.question(question_name) if question_name else None
    answered = None
    if new and question is not None and question.type == "yes_no":
        state, _conversation = await load_state(session, report, submission)
        if state.answers.get(question.name) is None and report.engine.is_current(state, question.name):
            # "Có văn bản": the file itself is the document the question asks about.
            answered = await take_turn(session, report, replace(parse_text("có"), question=question.name),
                                       None, notify_chats)
    return Attached(Verdict.SAVED if new else Verdict.AGAIN, row.filename, row.size,
                    question.number if question else None, answered)


# ----- listing and download (the review, the appendix, the VP office, the web desk) --------------

@dataclass(frozen=True)
class AttachmentInfo:
    id: int
    submission_id: int
    filename: str
    media_type: str
    size: int
    sha256: str
    question: str | None
    number: str | None  # the question's number in the outline; None: the whole report
    officer_id: int
    channel: str
    created_at: datetime

    @property
    def size_text(self) -> str:
        return human_size(self.size)


def _info(row: Attachment, outline: Outline) -> AttachmentInfo:
    number = None
    if row.question and outline.has_question(row.question):
        number = outline.question(row.question).number
    return AttachmentInfo(row.id, row.submission_id, row.filename, row.media_type, row.size, row.sha256,
                          row.question, number, row.officer_id, row.channel, as_utc(row.created_at))


async def list_attachments(session: AsyncSession, submission_id: int) -> list[AttachmentInfo]:
    """A report's attachments in the order they were sent, each with its question's number."""
    parts = await submission_parts(session, submission_id)
    if parts is None:
        return []
    outline = (await outline_of(session, parts[2], parts[1])).outline  # the campaign's own version
    return [_info(row, outline) for row in await attachments_of(session, submission_id)]


async def open_attachment(session: AsyncSession, store: FileStore, attachment_id: int,
                          submission_id: int | None = None) -> tuple[AttachmentInfo, bytes] | None:
    """One attachment and its bytes (checked against the checksum); None when there is no such
    attachment (in that submission, if given) or its file is missing or damaged."""
    row = await session.get(Attachment, attachment_id)
    if row is None or (submission_id is not None and row.submission_id != submission_id):
        return None
    try:
        content = store.read(row.sha256)
    except StoredFileMissing:
        return None
    infos = [info for info in await list_attachments(session, row.submission_id) if info.id == row.id]
    return (infos[0], content) if infos else None


def attachment_lines(infos: list[AttachmentInfo], t: Translator) -> str | None:
    """The review's list: "📎 Tài liệu kèm theo (2):" and a line per file; None without files."""
    if not infos:
        return None
    lines = [t.gettext("📎 Tài liệu kèm theo ({count}):").format(count=len(infos))]
    for info in infos:
        where = (t.gettext("câu {number}").format(number=info.number) if info.number
                 else t.gettext("cả báo cáo"))
        lines.append(f"• {info.filename} ({info.size_text}) — {where}")
    return "\n".join(lines)

