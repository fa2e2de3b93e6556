"""Telegram updates → the platform-neutral handlers; their outcomes → messages and buttons.

Every handler only records what to say in `replies`: the runner says it after the commit."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.telegram.render import (
    Act,
    Goto,
    Language,
    Pick,
    Review,
    SectionList,
    TelegramMessage,
    ViewSubmission,
    button,
    clipped,
    escape,
    escaped_pieces,
    section_questions_keyboard,
    view_messages,
)
from bot.telegram.replies import Replies
from deadlines.workdays import VN_TZ
from engine.commands import parse_text
from engine.i18n import N_
from engine.views import Action, NoticeKind, Outcome, QuestionView, ReviewView, Turn
from handlers.admin_commands import (
    COMMANDS,
    NO_REPORT,
    VIEW_SYNTAX,
    AdminContext,
    admin_help,
    report_to_view,
    run_admin_command,
)
from handlers.documents import campaign_exports, progress_charts, report_of, unit_report_docx
from handlers.due import campaign_line
from handlers.overview import campaign_overview, overview_texts
from handlers.registration import HOW_TO_REGISTER, LINK_CODE, confirmed_code, named_code, register
from handlers.render import recorded_text, render, render_notices
from handlers.report import Report, open_report, remember_asked, resume, submission_review, take_turn
from handlers.review import ReviewResult, review_submission
from locales.translation import Translator
from storage.campaigns import open_campaigns
from storage.models import Identity, Officer, Role, Submission, Unit
from storage.officers import create_link_code, looks_like_code
from storage.reports import Actor

CHANNEL = "telegram"
STALE = N_("Tin nhắn này đã cũ. Vui lòng dùng tin nhắn mới nhất của bot.")
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
ADMIN_ONLY = ("tralai", "tiepnhan", "taodot", "lichkiemtra", "ketluan", "hannop", "xembaocao",
              "xuatbaocao")
COMMAND_ACTIONS = {
    "baocao": Action.CONTINUE, "mucluc": Action.CONTENTS, "tiendo": Action.PROGRESS,
    "xem": Action.REVIEW, "nop": Action.SUBMIT, "huongdan": Action.HELP,
}


# ----- filters: plain async callables, cheap on the hot path ------------------------------------

async def unregistered(event: TelegramObject, officer: Officer | None) -> bool:
    return officer is None


async def is_admin(event: TelegramObject, officer: Officer | None) -> bool:
    return officer is not None and officer.role == Role.ADMIN


async def is_unit_officer(event: TelegramObject, officer: Officer | None) -> bool:
    return officer is not None and officer.role == Role.OFFICER and officer.unit_id is not None


async def has_text(message: Message) -> bool:
    return message.text is not None


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
        unit = await self.session.get(Unit, self.officer.unit_id)
        if unit is None:
            return None
        return await open_report(self.session, self.officer, unit, CHANNEL)


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


async def run_turn(chat: Chat, turn: Turn, on_question: str | None = None,
                   callback: CallbackQuery | None = None) -> None:
    report = await chat.report()
    if report is None:
        chat.say(escape(chat.t.gettext("Chưa có đợt báo cáo nào đang mở.")))
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
        chat.say(escape(_("Chưa có đợt báo cáo nào đang mở.")))
        return
    line = await campaign_line(chat.session, report.campaign, report.unit, chat.settings.working_calendar(),
                               chat.t)
    hello = _("Xin chào! Anh/chị là cán bộ đầu mối của {unit}.").format(unit=report.unit.name)
    chat.say(escape(" ".join([hello, line, _("Gõ /huongdan để xem cách trả lời.")])))
    outcome = await resume(chat.session, report)
    await remember_asked(chat.session, chat.identity, outcome)
    say_outcome(chat, report, outcome)


# ----- routers -----------------------------------------------------------------------------------

def registration_router() -> Router:
    router = Router(name="registration")

    @router.message(CommandStart(deep_link=True))
    async def start_with_code(message: Message, command: CommandObject, **data: Any) -> None:
        await try_code(message, command.args or "", data)

    @router.message(CommandStart(), unregistered)
    async def start_without_code(message: Message, **data: Any) -> None:
        t: Translator = data["t"]
        data["replies"].send(message.chat.id, TelegramMessage(escape(t.gettext(HOW_TO_REGISTER))))

    @router.message(unregistered, has_text)
    async def code_typed(message: Message, **data: Any) -> None:
        await try_code(message, message.text or "", data)

    @router.message(is_admin, has_text, leaving_office)
    async def leave_office_confirmed(message: Message, **data: Any) -> None:
        await try_code(message, confirmed_code(message.text or "") or "", data, leave_office=True)

    @router.message(has_text, names_code)
    async def code_named(message: Message, **data: Any) -> None:
        await try_code(message, named_code(message.text or "") or "", data)

    @router.callback_query(unregistered)
    async def press_unregistered(callback: CallbackQuery, **data: Any) -> None:
        t: Translator = data["t"]
        data["replies"].answer_callback(callback.id, t.gettext(HOW_TO_REGISTER), alert=True)

    return router


async def try_code(message: Message, code: str, data: dict[str, Any], leave_office: bool = False) -> None:
    t: Translator = data["t"]
    replies: Replies = data["replies"]
    user = message.from_user
    if user is None:
        return
    if not looks_like_code(code):
        replies.send(message.chat.id, TelegramMessage(escape(t.gettext(HOW_TO_REGISTER))))
        return
    outcome = await register(data["session"], CHANNEL, str(user.id), code, user.full_name,
                             chat_id=str(message.chat.id), leave_office=leave_office)
    if outcome.problem is not None:
        replies.send(message.chat.id, TelegramMessage(escape(outcome.problem.render(t))))
        return
    officer = outcome.officer
    assert officer is not None
    replies.set_menu(message.chat.id, office=officer.role == Role.ADMIN, locale=officer.locale)
    identity = await _identity(data["session"], user.id)
    chat = Chat(data["session"], officer, identity, t, replies, message.chat.id,
                data.get("notify_chats", {}), data["settings"])
    if officer.role == Role.ADMIN:
        chat.say(escape(t.gettext("Xin chào! Anh/chị đã đăng ký là cán bộ Văn phòng UBND thành phố. "
                                  "Bot sẽ báo khi đơn vị nộp báo cáo; gõ /tiendo để xem tiến độ.")))
        return
    await greet_and_resume(chat)


async def _identity(session: AsyncSession, user_id: int) -> Identity:
    from sqlalchemy import select

    identity = await session.scalar(select(Identity).where(
        Identity.channel == CHANNEL, Identity.external_id == str(user_id)))
    assert identity is not None
    return identity


def common_router() -> Router:
    """Commands every registered person has."""
    router = Router(name="common")

    @router.message(Command("ngonngu", "language"))
    async def choose_language(message: Message, **data: Any) -> None:
        t: Translator = data["t"]
        keyboard = [[button(name, Language(code=code)) for code, name in LANGUAGE_NAMES.items()]]
        data["replies"].send(message.chat.id, TelegramMessage(
            escape(t.gettext("Chọn ngôn ngữ:")), InlineKeyboardMarkup(inline_keyboard=keyboard)))

    @router.message(Command("lienket", "link"))
    async def link(message: Message, **data: Any) -> None:
        t: Translator = data["t"]
        code = await create_link_code(data["session"], data["officer"])
        data["replies"].send(message.chat.id, TelegramMessage(escape(t.gettext(LINK_CODE).format(code=code))))

    @router.callback_query(Language.filter())
    async def set_language(callback: CallbackQuery, callback_data: Language, **data: Any) -> None:
        from locales.translation import translator

        officer: Officer = data["officer"]
        officer.locale = callback_data.code if callback_data.code in LANGUAGE_NAMES else "vi"
        t = translator(officer.locale)
        data["replies"].answer_callback(callback.id)
        data["replies"].send(callback.from_user.id, TelegramMessage(
            escape(t.gettext("Đã chuyển ngôn ngữ sang tiếng Việt."))))

    return router


def admin_router() -> Router:
    router = Router(name="admin")
    router.message.filter(is_admin)
    router.callback_query.filter(is_admin)

    @router.message(Command("tiendo", "progress"))
    async def progress(message: Message, **data: Any) -> None:
        t: Translator = data["t"]
        campaigns = await open_campaigns(data["session"])
        if not campaigns:
            data["replies"].send(message.chat.id, TelegramMessage(escape(t.gettext(
                "Chưa có đợt báo cáo nào đang mở."))))
            return
        overview = await campaign_overview(data["session"], campaigns[0])
        settings: Settings = data["settings"]
        today = settings.today()
        for index, (_data, png) in enumerate(await progress_charts(
                data["session"], campaigns[0], settings.working_calendar(), today), start=1):
            data["replies"].send_file(message.chat.id, f"tien-do-{index}.png", png)
        for text in escaped_pieces(overview_texts(overview, t, settings.working_calendar())):
            data["replies"].send(message.chat.id, TelegramMessage(text))

    @router.message(Command("xuatbaocao", "export"))
    async def export(message: Message, command: CommandObject, **data: Any) -> None:
        t: Translator = data["t"]
        settings: Settings = data["settings"]
        campaigns = await open_campaigns(data["session"])
        wanted = (command.args or "").strip()
        chosen = [c for c in campaigns if c.code == wanted] if wanted else campaigns[:1]
        if not chosen:
            data["replies"].send(message.chat.id, TelegramMessage(escape(t.gettext(
                "Chưa có đợt báo cáo nào đang mở."))))
            return
        today = settings.today()
        calendar = settings.working_calendar()
        for document in await campaign_exports(data["session"], chosen[0], calendar, today):
            data["replies"].send_file(message.chat.id, document.filename, document.content)

    @router.callback_query(ViewSubmission.filter())
    async def view_submission(callback: CallbackQuery, callback_data: ViewSubmission,
                              **data: Any) -> None:
        data["replies"].answer_callback(callback.id)
        await show_submission(callback.from_user.id, callback_data.submission, data)

    @router.message(Command("xembaocao"))
    async def view_report(message: Message, command: CommandObject, **data: Any) -> None:
        t: Translator = data["t"]
        code = (command.args or "").strip()
        submission_id = await report_to_view(data["session"], code) if code else None
        if submission_id is None:
            text = t.gettext(NO_REPORT).format(code=code) if code else t.gettext(VIEW_SYNTAX)
            data["replies"].send(message.chat.id, TelegramMessage(escape(text)))
            return
        await show_submission(message.chat.id, submission_id, data)

    @router.callback_query(Review.filter())
    async def review_pressed(callback: CallbackQuery, callback_data: Review, **data: Any) -> None:
        t: Translator = data["t"]
        session: AsyncSession = data["session"]
        data["replies"].answer_callback(callback.id)
        submission = await session.get(Submission, callback_data.submission)
        if submission is None:
            return
        unit = await session.get(Unit, submission.unit_id)
        if unit is None:
            return
        if not callback_data.accept:
            data["replies"].send(callback.from_user.id, TelegramMessage(escape(t.gettext(
                "Để trả lại, gõ: /tralai {code} LÝ DO (lý do sẽ được gửi cho đơn vị).").format(
                code=unit.code))))
            return
        result = await review_submission(session, submission, Actor(data["officer"].id, CHANNEL), True)
        text = (t.gettext("Đã tiếp nhận báo cáo của {unit}; đơn vị đã được thông báo.")
                if result is ReviewResult.DONE else
                t.gettext("Báo cáo này không ở trạng thái chờ tiếp nhận."))
        data["replies"].send(callback.from_user.id, TelegramMessage(escape(text.format(unit=unit.name))))

    @router.message(Command(*COMMANDS))
    async def campaign_command(message: Message, command: CommandObject, **data: Any) -> None:
        settings: Settings = data["settings"]
        now = settings.clock()().astimezone(VN_TZ)
        ctx = AdminContext(data["session"], data["t"], settings.working_calendar(), now.date(),
                           settings.outline_file, Actor(data["officer"].id, CHANNEL))
        texts = await run_admin_command(ctx, command.command, command.args or "")
        for text in escaped_pieces(texts):
            data["replies"].send(message.chat.id, TelegramMessage(text))

    @router.message()
    async def office_help(message: Message, **data: Any) -> None:
        t: Translator = data["t"]
        data["replies"].send(message.chat.id, TelegramMessage(escape(admin_help(t, files=True))))
        data["replies"].set_menu(message.chat.id, office=True, locale=t.locale)  # its own menu

    return router


async def show_submission(chat_id: int, submission_id: int, data: dict[str, Any]) -> None:
    """A unit's report for the VP office: its answers, the .docx, and accept or return."""
    t: Translator = data["t"]
    review = await submission_review(data["session"], submission_id)
    if review is None:
        data["replies"].send(chat_id, TelegramMessage(escape(t.gettext("Không tìm thấy báo cáo."))))
        return
    heading, view = review
    for text in escaped_pieces([heading, *render(view, t, words=False)]):
        data["replies"].send(chat_id, TelegramMessage(text))
    settings: Settings = data["settings"]
    document = await unit_report_docx(data["session"], submission_id, settings.working_calendar(),
                                      settings.today(), t.locale)
    if document:
        data["replies"].send_file(chat_id, document.filename, document.content)
    buttons = InlineKeyboardMarkup(inline_keyboard=[[
        button(t.gettext("✅ Tiếp nhận"), Review(submission=submission_id, accept=True)),
        button(t.gettext("↩️ Trả lại"), Review(submission=submission_id, accept=False)),
    ]])
    data["replies"].send(chat_id, TelegramMessage(
        escape(t.gettext("Tiếp nhận hay trả lại báo cáo này để đơn vị chỉnh sửa?")), buttons))


def officer_router() -> Router:
    router = Router(name="officer")
    router.message.filter(is_unit_officer)
    router.callback_query.filter(is_unit_officer)

    @router.message(CommandStart())
    async def start(message: Message, **data: Any) -> None:
        await greet_and_resume(chat_of(message, data))

    @router.message(Command(*COMMAND_ACTIONS))
    async def command(message: Message, command: CommandObject, **data: Any) -> None:
        await run_turn(chat_of(message, data), Turn(COMMAND_ACTIONS[command.command]))

    @router.message(Command(*ADMIN_ONLY))
    async def admin_only(message: Message, **data: Any) -> None:
        t: Translator = data["t"]
        data["replies"].send(message.chat.id, TelegramMessage(escape(t.gettext(
            "Chỉ cán bộ Văn phòng UBND thành phố mới dùng được lệnh này."))))

    @router.message(has_text)
    async def text(message: Message, **data: Any) -> None:
        chat = chat_of(message, data)
        # When it was sent: a paste longer than one message arrives as several (see Mode.OVERLONG).
        await run_turn(chat, replace(parse_text(message.text or ""), question=chat.identity.asked_question,
                                     sent_at=message.date))

    @router.callback_query(Pick.filter())
    async def pick(callback: CallbackQuery, callback_data: Pick, **data: Any) -> None:
        # The choice is checked against the question (a forged button may carry any number).
        await run_turn(chat_of(callback, data),
                       Turn(Action.ANSWER, text=str(callback_data.n), choice=callback_data.n),
                       on_question=callback_data.q, callback=callback)

    @router.callback_query(Act.filter())
    async def act(callback: CallbackQuery, callback_data: Act, **data: Any) -> None:
        try:
            action = Action(callback_data.act)
        except ValueError:
            action = Action.HELP
        if action is Action.ANSWER:
            action = Action.HELP  # answers come with a choice (Pick) or as text, never bare
        await run_turn(chat_of(callback, data), Turn(action), on_question=callback_data.q or None,
                       callback=callback)

    @router.callback_query(Goto.filter())
    async def goto(callback: CallbackQuery, callback_data: Goto, **data: Any) -> None:
        await run_turn(chat_of(callback, data), Turn(Action.JUMP, target=callback_data.target),
                       callback=callback)

    @router.callback_query(SectionList.filter())
    async def section_list(callback: CallbackQuery, callback_data: SectionList, **data: Any) -> None:
        chat = chat_of(callback, data)
        chat.replies.answer_callback(callback.id)
        report = await chat.report()
        if report is None:
            return
        try:
            section = report.outline.section(callback_data.section)
        except KeyError:
            return
        chat.replies.send(chat.chat_id, TelegramMessage(
            escape(chat.t.gettext("Chọn câu cần sửa:")),
            section_questions_keyboard(report.outline, section, chat.t)))

    @router.callback_query()
    async def unknown_button(callback: CallbackQuery, **data: Any) -> None:
        t: Translator = data["t"]
        data["replies"].answer_callback(callback.id, t.gettext(STALE), alert=True)

    return router


def build_router() -> Router:
    root = Router(name="kstthc")
    root.include_routers(registration_router(), common_router(), admin_router(), officer_router())
    return root
