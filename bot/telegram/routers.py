"""Telegram updates → the platform-neutral handlers; their outcomes → messages and buttons.

Every handler only records what to say in `replies`: the runner says it after the commit."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.telegram.admin_routes import admin_router
from bot.telegram.attachments import attachment_router
from bot.telegram.chat import (
    CHANNEL,
    STALE,
    Chat,
    chat_of,
    greet_and_resume,
    has_text,
    is_admin,
    is_unit_officer,
    leaving_office,
    names_code,
    run_turn,
    unregistered,
)
from bot.telegram.render import (
    Act,
    Goto,
    Language,
    Pick,
    SectionList,
    TelegramMessage,
    button,
    escape,
    section_questions_keyboard,
)
from bot.telegram.replies import Replies
from engine.commands import parse_text
from engine.views import Action, Turn
from handlers.registration import HOW_TO_REGISTER, LINK_CODE, confirmed_code, named_code, register
from locales.translation import Translator
from storage.models import Identity, Officer, Role
from storage.officers import create_link_code, looks_like_code

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
ADMIN_ONLY = ("tralai", "tiepnhan", "taodot", "lichkiemtra", "ketluan", "hannop", "xembaocao",
              "xuatbaocao", "tailieu")
COMMAND_ACTIONS = {
    "baocao": Action.CONTINUE, "mucluc": Action.CONTENTS, "tiendo": Action.PROGRESS,
    "xem": Action.REVIEW, "nop": Action.SUBMIT, "huongdan": Action.HELP,
}

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

    router.message.register(answer_typed, has_text)

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


async def answer_typed(message: Message, **data: Any) -> None:
    chat = chat_of(message, data)
    # When it was sent: a paste longer than one message arrives as several (see Mode.OVERLONG).
    await run_turn(chat, replace(parse_text(message.text or ""), question=chat.identity.asked_question,
                                 sent_at=message.date))


async def plain_answer(message: Message) -> bool:
    """Text that no handler before the officer's own takes: not a command, not "mã ABCD-EFGH"."""
    text = message.text
    return text is not None and not text.startswith("/") and named_code(text) is None


def answer_router() -> Router:
    """A unit officer's typed answer, the commonest update by far, taken first: it would reach the
    same handler after every other router's filters had said no (a dozen and more checks)."""
    router = Router(name="answers")
    router.message.filter(is_unit_officer)
    router.message.register(answer_typed, plain_answer)
    return router


def build_routers() -> list[Router]:
    """In the order they are tried, for the dispatcher to hold directly (a router holding them all
    cost every update one more level of aiogram's propagation)."""
    # Files before the VP office's catch-all help (its /tailieu is there).
    return [answer_router(), registration_router(), common_router(), attachment_router(),
            admin_router(), officer_router()]
