"""What an officer is told when the VP office has closed their round (đợt báo cáo): nothing more
is taken for it, what was saved stays, and which round is open now, if any."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.workdays import VN_TZ
from engine.i18n import N_, Translator
from handlers.report import Report, unit_rounds
from storage.models import Campaign, Unit, as_utc

NO_ROUND = N_("Chưa có đợt báo cáo nào đang mở.")
CLOSED = N_("Đợt báo cáo “{campaign}” đã được Văn phòng UBND thành phố đóng ngày {day}: bot không nhận "
            "thêm câu trả lời hoặc tệp cho đợt này; các nội dung đã lưu vẫn được giữ nguyên.")
NONE_OPEN = N_("Hiện chưa có đợt báo cáo nào đang mở cho đơn vị.")
NEXT_OPEN = N_("Đợt đang mở: “{campaign}”.")
MOVING = N_("Bot chuyển sang đợt này.")
RESTART = N_("Mở lại phiên (kstthc-bot chat) để làm báo cáo của đợt đang mở.")
TYPED_NOT_SAVED = N_("Câu trả lời vừa gửi chưa được lưu.")
NOT_SAVED = N_("Tin nhắn vừa gửi chưa được lưu; anh/chị vui lòng trả lời câu hỏi của đợt mới dưới đây.")


def _closed(campaign: Campaign, t: Translator) -> str:
    closed_at = campaign.closed_at or campaign.created_at
    return t.gettext(CLOSED).format(campaign=campaign.title,
                                    day=f"{as_utc(closed_at).astimezone(VN_TZ):%d/%m/%Y}")


async def no_open_round(session: AsyncSession, unit: Unit | None, t: Translator) -> str:
    """Why there is nothing to fill: the unit's round closed last (if any) and that none is open."""
    rounds = await unit_rounds(session, unit) if unit is not None else None
    if rounds is None or not rounds.closed:
        return t.gettext(NO_ROUND)
    return f"{_closed(rounds.closed[0][0], t)} {t.gettext(NONE_OPEN)}"


def moved_on(report: Report, t: Translator, typed: bool = False) -> str | None:
    """Said once, before the next round's question, to an officer whose unfinished round was
    closed; `typed`: what they sent was meant for the closed round and was not saved."""
    if report.closed_round is None:
        return None
    said = [_closed(report.closed_round, t), t.gettext(NEXT_OPEN).format(campaign=report.campaign.title),
            t.gettext(MOVING)]
    return " ".join([*said, t.gettext(NOT_SAVED)] if typed else said)


async def closed_meanwhile(session: AsyncSession, report: Report, t: Translator) -> str | None:
    """For a report held open across turns (the terminal chat): if the VP office has closed its
    round since, what the officer is told instead of saving (the round open now, if any)."""
    campaign = await session.get(Campaign, report.campaign.id, populate_existing=True)
    if campaign is None or campaign.closed_at is None:
        return None
    current = (await unit_rounds(session, report.unit)).current
    now_open = ([t.gettext(NEXT_OPEN).format(campaign=current.title), t.gettext(RESTART)]
                if current is not None else [t.gettext(NONE_OPEN)])
    return " ".join([_closed(campaign, t), t.gettext(TYPED_NOT_SAVED), *now_open])
