"""The VP office and a unit's attachments: /tailieu MÃ_ĐƠN_VỊ lists them and, where the channel
can send files, sends them; the review (/xem, /xembaocao) lists them under the answers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from documents.model import ListedFile
from engine.i18n import N_, Translator
from handlers.attachments import AttachmentInfo, attachment_lines, list_attachments
from handlers.report import Report, submission_parts
from storage.files import FileStore
from storage.models import Submission

ATTACHMENTS_SYNTAX = N_("Cú pháp: /tailieu MÃ_ĐƠN_VỊ (ví dụ: /tailieu 31135): tải các tài liệu đơn vị "
                        "gửi kèm báo cáo. Gõ /tiendo để xem mã các đơn vị.")
FILES_ONLY_ON_TELEGRAM = N_("Kênh này không gửi được tệp: để tải các tệp, vui lòng dùng lệnh /tailieu trên "
                            "Telegram.")


async def office_files(session: AsyncSession, store: FileStore, submission_id: int, t: Translator
                       ) -> tuple[str, list[AttachmentInfo]]:
    """What the VP office reads first (whose files, how many, which are missing on the server)
    and the files there are to send (each read from the store, checksum checked, as it is sent)."""
    parts = await submission_parts(session, submission_id)
    if parts is None:
        return t.gettext("Không tìm thấy báo cáo."), []
    _submission, unit, campaign = parts
    infos = await list_attachments(session, submission_id)
    heading = f"{unit.name} ({unit.code}) — {campaign.title}"
    listed = attachment_lines(infos, t)
    if listed is None:
        return heading + "\n" + t.gettext("Đơn vị chưa gửi tài liệu kèm theo."), []
    present = [info for info in infos if store.path_for(info.sha256).is_file()]
    text = f"{heading}\n{listed}"
    if len(present) < len(infos):
        text += "\n⚠️ " + t.gettext("{count} tệp không đọc được trên máy chủ (thiếu hoặc hỏng); vui lòng báo "
                                    "cán bộ kỹ thuật.").format(count=len(infos) - len(present))
    return text, present


async def review_attachments(session: AsyncSession, submission_id: int, t: Translator) -> list[str]:
    """The review's list of attachments: one text, or none without files."""
    listed = attachment_lines(await list_attachments(session, submission_id), t)
    return [] if listed is None else [listed]


async def report_attachments(session: AsyncSession, report: Report, t: Translator) -> list[str]:
    """The officer's own review (/xem): the list of their unit's attachments, if any."""
    submission_id = await session.scalar(select(Submission.id).where(
        Submission.campaign_id == report.campaign.id, Submission.unit_id == report.unit.id))
    return [] if submission_id is None else await review_attachments(session, submission_id, t)


async def appendix_files(session: AsyncSession, submission_id: int) -> list[ListedFile]:
    """The rows of the report's appendix "Tài liệu kèm theo" (in the document's Vietnamese)."""
    return [ListedFile(info.filename, info.size_text, f"Câu {info.number}" if info.number else "Cả báo cáo")
            for info in await list_attachments(session, submission_id)]
