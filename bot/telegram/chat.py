"""One Telegram chat as the handlers see it: who is writing (the routers' filters), where to
answer (Chat), and how an outcome of the report is said there; recorded in `replies`, said by the
runner after the commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from aiogram.types import CallbackQuery, Message, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.telegram.render import TelegramMessage, clipped, escape, escaped_pieces, view_messages
from bot.telegram.replies import Replies
from engine.i18n import N_
from engine.views import NoticeKind, Outcome, QuestionView, ReviewView, Turn
from handlers.attachments_office import report_attachments
from handlers.documents import report_of, unit_report_docx
from handlers.due import campaign_line
from handlers.registration import confirmed_code, named_code
from handlers.render import recorded_text, render_notices
from handlers.report import Report, open_report, remember_asked, resume, take_turn
from handlers.rounds import moved_on, no_open_round
from locales.translation import Translator
from storage.direct_sql import held_or_get
from storage.models import Identity, Officer, Role, Unit

CHANNEL = "telegram"
STALE = N_("Tin nhắn này đã cũ. Vui lòng dùng tin nhắn mới nhất của bot.")


# ----- filters: plain async callables, cheap on the hot path ------------------------------------

async def unregistered(event: TelegramObject, officer: Officer | None) -> bool:
    return officer is None


async def is_admin(event: TelegramObject, officer: Officer | None) -> bool:
    return officer is not None and officer.role == Role.ADMIN


async def is_unit_officer(event: TelegramObject, officer: Officer | None) -> bool:
    return officer is not None and officer.role == Role.OFFICER and officer.unit_id is not None


async def has_text(message: Message) -> bool:
    return message.text is not None


async def carries_file(message: Message) -> bool:
    """A document or a photo. Filters are coroutines here: aiogram runs a plain function (a magic
    filter such as `F.photo` included) in a thread, a hand-over on every message it checks."""
    return message.document is not None or message.photo is not None


async def leaving_office(message: Message) -> bool:
    """"xác nhận ABCD-EFGH": a VP office account agreeing to become a unit's officer."""
    return confirmed_code(message.text or "") is not None


async def names_code(message: Message, officer: Officer | None) -> bool:
    """"mã ABCD-EFGH" from a registered person: a code, where a bare one would be an answer."""
    return officer is not None and named_code(message.text or "") is not None


@dataclass
class Chat:
    """What every handler works with: the event's session, who is writing, where to answer."""

    session: AsyncSession
    officer: Officer
    identity: Identity
    t: Translator
    replies: Replies
    chat_id: int
    notify_chats: dict[str, list[str]]
    settings: Settings

    @property
    def today(self) -> date:
        return self.settings.today()

    def say(self, text: str) -> None:
        self.replies.send(self.chat_id, TelegramMessage(text))

    async def report(self) -> Report | None:
        unit = await held_or_get(self.session, Unit, self.officer.unit_id)
        if unit is None:
            return None
        return await open_report(self.session, self.officer, unit, CHANNEL)

    async def no_round(self) -> str:
        """Why there is nothing to fill (the unit's round closed, none open)."""
        unit = await self.session.get(Unit, self.officer.unit_id) if self.officer.unit_id else None
        return escape(await no_open_round(self.session, unit, self.t))


def chat_of(event: Message | CallbackQuery, data: dict[str, Any]) -> Chat:
    if isinstance(event, Message):
        chat_id = event.chat.id
    else:
        chat_id = event.message.chat.id if event.message is not None else event.from_user.id
    return Chat(data["session"], data["officer"], data["identity"], data["t"], data["replies"],
                chat_id, data.get("notify_chats", {}), data["settings"])


# ----- saying an outcome ---------------------------------------------------------------------------

def say_outcome(chat: Chat, report: Report, outcome: Outcome) -> None:
    t = chat.t
    identity = chat.identity
    edited = False
    if identity.prompt_message_id and identity.prompt_question in outcome.saved:
        question = report.outline.question(identity.prompt_question)
        text = recorded_text(question, report.outline.section_of(question.name),
                             outcome.saved[question.name], t)
        chat.replies.edit(chat.chat_id, identity.prompt_message_id, escape(clipped(text)))
        edited = True
    notices = tuple(n for n in outcome.notices if not (edited and n.kind is NoticeKind.SAVED))
    refused = any(n.kind is NoticeKind.ERROR for n in notices) and not outcome.saved
    if refused and isinstance(outcome.view, QuestionView) and identity.prompt_question == \
            outcome.view.question.name:
        chat.say(escape("\n".join(render_notices(notices, t))))  # the question stays open above
        return
    messages = view_messages(outcome.view, t)
    if notices:
        lead = escape("\n".join(render_notices(notices, t)))
        messages.insert(0, TelegramMessage(lead))
    if outcome.then is not None:
        messages.extend(view_messages(outcome.then, t))
    shown = outcome.question_shown
    chat.replies.send_all(chat.chat_id, messages,
                          None if shown is None else (identity.id, shown.question.name))


async def report_for_turn(chat: Chat, callback: CallbackQuery | None = None) -> Report | None:
    """The report what the officer sent applies to; else None, once they have been told why: no
    round open, or the round it was meant for closed by the VP office (then they are shown where
    they are in the next one)."""
    report = await chat.report()
    if report is None:
        chat.say(await chat.no_round())
        return None
    closed = moved_on(report, chat.t, typed=True)
    if closed is None:
        return report
    if callback is not None:
        chat.replies.answer_callback(callback.id)
    chat.say(escape(closed))
    moved = await resume(chat.session, report)
    await remember_asked(chat.session, chat.identity, moved)
    say_outcome(chat, report, moved)
    return None


async def run_turn(chat: Chat, turn: Turn, on_question: str | None = None,
                   callback: CallbackQuery | None = None) -> None:
    report = await report_for_turn(chat, callback)
    if report is None:
        return
    outcome = await take_turn(chat.session, report, turn, on_question, chat.notify_chats)
    if outcome is not None:
        await remember_asked(chat.session, chat.identity, outcome)
    if callback is not None:
        if outcome is None:
            chat.replies.answer_callback(callback.id, chat.t.gettext(STALE), alert=True)
            return
        chat.replies.answer_callback(callback.id)
    if outcome is not None:
        say_outcome(chat, report, outcome)
    if outcome is not None and isinstance(outcome.view, ReviewView):
        for text in escaped_pieces(await report_attachments(chat.session, report, chat.t)):
            chat.say(text)  # in pieces: fifty long names pass Telegram's 4,096
    if outcome is not None and outcome.submit:
        await send_report_document(chat, report.campaign.id, report.unit.id)
    elif outcome is not None and isinstance(outcome.view, ReviewView) and outcome.view.summary:
        # /xem: the summary above, the whole text here.
        await send_report_document(chat, report.campaign.id, report.unit.id, chat.t.gettext(
            "Toàn văn báo cáo của đơn vị (.docx), theo các câu trả lời đến lúc này."))


async def send_report_document(chat: Chat, campaign_id: int, unit_id: int, caption: str = "") -> None:
    """The finished report, ready to print, sign and stamp (or, with /xem, the report so far)."""
    submission_id = await report_of(chat.session, campaign_id, unit_id)
    if submission_id is None:
        return
    document = await unit_report_docx(chat.session, submission_id, chat.settings.working_calendar(),
                                      chat.today, chat.t.locale)
    if document is not None:
        chat.replies.send_file(chat.chat_id, document.filename, document.content, caption or chat.t.gettext(
            "Báo cáo của đơn vị (.docx), sẵn sàng để in, ký và đóng dấu."))


async def greet_and_resume(chat: Chat) -> None:
    _ = chat.t.gettext
    report = await chat.report()
    if report is None:
        chat.say(await chat.no_round())
        return
    line = await campaign_line(chat.session, report.campaign, report.unit, chat.settings.working_calendar(),
                               chat.t)
    hello = _("Xin chào! Anh/chị là cán bộ đầu mối của {unit}.").format(unit=report.unit.name)
    said = [hello, moved_on(report, chat.t), line, _("Gõ /huongdan để xem cách trả lời.")]
    chat.say(escape(" ".join(part for part in said if part)))
    outcome = await resume(chat.session, report)
    await remember_asked(chat.session, chat.identity, outcome)
    say_outcome(chat, report, outcome)
