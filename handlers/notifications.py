"""Telling the VP office: messages written to the outbox in the transaction that caused them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.workdays import VN_TZ
from locales.translation import translator
from storage.models import (
    Campaign,
    Identity,
    Officer,
    OutboxMessage,
    Role,
    Submission,
    SubmissionStatus,
    Unit,
    as_utc,
)
from storage.outbox import Outgoing, enqueue


async def admin_recipients(session: AsyncSession) -> list[tuple[Identity, Officer]]:
    """Every channel identity of every VP office member that has a chat to write to."""
    rows = await session.execute(
        select(Identity, Officer).join(Officer, Officer.id == Identity.officer_id)
        .where(Officer.role == Role.ADMIN, Identity.chat_id.is_not(None))
    )
    return [(row[0], row[1]) for row in rows]


async def notify_submitted(
    session: AsyncSession, submission: Submission, unit: Unit, campaign: Campaign,
    given: int, none_count: int, total: int, extra_chats: dict[str, list[str]] | None = None,
) -> int:
    """Queue "unit X has submitted" for each VP office member and each configured group chat."""
    assert submission.submitted_at is not None
    moment = as_utc(submission.submitted_at).astimezone(VN_TZ)
    recipients = [(identity.channel, identity.chat_id or "", officer.locale)
                  for identity, officer in await admin_recipients(session)]
    for channel, chats in (extra_chats or {}).items():
        recipients.extend((channel, chat, "vi") for chat in chats)
    queued = 0
    again = submission.status == SubmissionStatus.RESUBMITTED
    for channel, chat_id, locale in recipients:
        _ = translator(locale).gettext
        text = (_("📥 {unit} đã nộp lại báo cáo “{campaign}” (sau khi chỉnh sửa) lúc {time}: trả lời "
                  "{given}/{total} câu, trong đó {none} câu “Không có”.") if again else
                _("📥 {unit} đã nộp báo cáo “{campaign}” lúc {time}: trả lời {given}/{total} câu, "
                  "trong đó {none} câu “Không có”.")).format(
            unit=unit.name, campaign=campaign.title, time=moment.strftime("%H:%M %d/%m/%Y"),
            given=given, total=total, none=none_count)
        buttons = [[{"text": _("Xem báo cáo"), "data": f"v:{submission.id}",
                     "word": f"/xembaocao {unit.code}"}]]
        key = f"submitted:{submission.id}:{moment.isoformat()}:{channel}:{chat_id}"
        report = [{"kind": "report", "submission": submission.id}]
        if await enqueue(session, key, channel, chat_id, "submitted", Outgoing(text, buttons, report)):
            queued += 1
    return queued


async def notify_failed_delivery(session: AsyncSession, row: OutboxMessage) -> None:
    """A message that could not be delivered after every retry: the VP office hears of it."""
    if row.kind == "delivery_failed":
        return
    for identity, officer in await admin_recipients(session):
        _ = translator(officer.locale).gettext
        text = _("⚠️ Không gửi được tin nhắn ({kind}) tới cuộc trò chuyện {chat} qua {channel}: "
                 "{error}.").format(kind=row.kind, chat=row.chat_id, channel=row.channel,
                                    error=row.last_error or "?")
        await enqueue(session, f"failed:{row.id}:{identity.channel}:{identity.chat_id}",
                      identity.channel, identity.chat_id or "", "delivery_failed", Outgoing(text))
