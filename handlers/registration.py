"""Registration with a one-time invite code, with a limit on wrong guesses per chat."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.i18n import N_, Message
from engine.text import fold
from storage.models import Officer, RegistrationAttempt, Unit, utcnow
from storage.officers import RedeemResult, format_code, looks_like_code, normalise_code, redeem_invite

MAX_WRONG_CODES = 5
WRONG_CODE_WINDOW = timedelta(hours=1)

REDEEM_PROBLEMS = {
    RedeemResult.UNKNOWN: N_("Mã mời không đúng. Vui lòng kiểm tra lại mã do Văn phòng UBND thành phố "
                             "cung cấp (còn {left} lần thử trong giờ này)."),
    RedeemResult.USED: N_("Mã mời này đã được sử dụng. Vui lòng liên hệ Văn phòng UBND thành phố để "
                          "được cấp mã mới."),
    RedeemResult.EXPIRED: N_("Mã mời đã hết hạn. Vui lòng liên hệ Văn phòng UBND thành phố để được "
                             "cấp mã mới."),
    RedeemResult.LINK_USED: N_("Mã liên kết này đã được sử dụng. Trên kênh đang dùng (Telegram hoặc Zalo), "
                               "gõ “liên kết” để lấy mã mới."),
    RedeemResult.LINK_EXPIRED: N_("Mã liên kết đã hết hạn (mỗi mã có hiệu lực 30 phút). Trên kênh đang "
                                  "dùng (Telegram hoặc Zalo), gõ “liên kết” để lấy mã mới."),
}
LEAVE_OFFICE = N_("Tài khoản này đang là tài khoản của Văn phòng UBND thành phố. Mã vừa gửi là mã của cán "
                  "bộ đầu mối {unit}: nếu dùng, tài khoản sẽ chuyển sang báo cáo cho đơn vị đó và không "
                  "còn các quyền của Văn phòng. Nếu đúng như vậy, vui lòng gửi: xác nhận {code}")
LINK_CODE = N_("Mã liên kết: {code} (dùng một lần, hiệu lực 30 phút). Gửi mã này cho bot trên kênh kia "
               "(Telegram hoặc Zalo) để tiếp tục cùng một báo cáo ở đó; nếu đã dùng bot ở kênh đó, "
               "gõ: mã {code}")
TOO_MANY_TRIES = N_("Anh/chị đã nhập sai mã mời {limit} lần trong một giờ. Vui lòng thử lại sau "
                    "{minutes} phút hoặc liên hệ Văn phòng UBND thành phố.")
HOW_TO_REGISTER = N_("Xin chào! Đây là bot báo cáo công tác kiểm soát thủ tục hành chính của UBND "
                     "thành phố. Để bắt đầu, vui lòng gửi mã mời do Văn phòng UBND thành phố cấp cho "
                     "đơn vị (ví dụ: ABCD-EFGH).")


ZALO_HOW_TO = N_("Zalo: tìm bot của Văn phòng UBND thành phố, gửi mã {code} thành một tin nhắn riêng.")


def telegram_start_link(bot_username: str, code: str) -> str:
    """The t.me deep link that starts the bot with the invite code (the officer taps, no typing)."""
    return f"https://t.me/{bot_username}?start={code}"


CONFIRM_WORD = "xac nhan"
# Folded words before a code that make it one for a registered person ("mã ABCD-EFGH"): without
# them, what a registered officer types is an answer, even if it looks like a code.
CODE_WORDS = ("ma", "ma moi", "ma lien ket", "code")


def named_code(text: str) -> str | None:
    """The code in "mã ABCD-EFGH" (or "mã mời …", "mã liên kết …")."""
    words = text.split()
    for size in (3, 2, 1):  # the longest naming first: "mã liên kết ABCD-EFGH"
        code = " ".join(words[size:])
        if fold(" ".join(words[:size])) in CODE_WORDS and looks_like_code(code):
            return code
    return None


def confirmed_code(text: str) -> str | None:
    """The code in "xác nhận ABCD-EFGH": a VP office account agreeing to become a unit's officer."""
    words = text.split()
    if len(words) >= 3 and fold(" ".join(words[:2])) == CONFIRM_WORD:
        code = " ".join(words[2:])
        return code if looks_like_code(code) else None
    return None


@dataclass(frozen=True)
class Registration:
    officer: Officer | None
    unit: Unit | None = None
    problem: Message | None = None


async def register(
    session: AsyncSession, channel: str, external_id: str, code: str, name: str = "",
    chat_id: str | None = None, leave_office: bool = False,
) -> Registration:
    """Redeem `code` for this chat's user, unless the chat has guessed wrong too often. A VP
    office account is asked before a unit's code makes it that unit's officer (`leave_office`
    once it has confirmed)."""
    since = utcnow() - WRONG_CODE_WINDOW
    wrong = int(await session.scalar(
        select(func.count()).select_from(RegistrationAttempt).where(
            RegistrationAttempt.channel == channel, RegistrationAttempt.external_id == external_id,
            RegistrationAttempt.at >= since)
    ) or 0)
    if wrong >= MAX_WRONG_CODES:
        minutes = int(WRONG_CODE_WINDOW.total_seconds() // 60)
        return Registration(None, problem=Message(TOO_MANY_TRIES,
                                                  {"limit": MAX_WRONG_CODES, "minutes": minutes}))
    redeemed = await redeem_invite(session, code, channel, external_id, name=name, chat_id=chat_id,
                                   leave_office=leave_office)
    if redeemed.result is RedeemResult.WOULD_LEAVE_OFFICE and redeemed.unit is not None:
        # A question, not a wrong guess: nothing counted, nothing spent.
        return Registration(None, problem=Message(LEAVE_OFFICE, {"unit": redeemed.unit.name,
                                                                 "code": format_code(normalise_code(code))}))
    if redeemed.officer is None:
        session.add(RegistrationAttempt(channel=channel, external_id=external_id))
        left = MAX_WRONG_CODES - wrong - 1
        return Registration(None, problem=Message(REDEEM_PROBLEMS[redeemed.result], {"left": left}))
    unit = await session.get(Unit, redeemed.officer.unit_id) if redeemed.officer.unit_id else None
    return Registration(redeemed.officer, unit)
