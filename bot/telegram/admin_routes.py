"""The VP office's Telegram commands and buttons: progress, exports, a unit's report, review
and campaigns (bot.telegram.routers puts them before the officers')."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.telegram.chat import CHANNEL, is_admin
from bot.telegram.render import (
    Review,
    TelegramMessage,
    ViewSubmission,
    button,
    escape,
    escaped_pieces,
)
from deadlines.workdays import VN_TZ
from handlers.admin_commands import (
    COMMANDS,
    VIEW_SYNTAX,
    AdminContext,
    admin_help,
    named_report,
    run_admin_command,
    web_link,
)
from handlers.attachments_office import review_attachments
from handlers.documents import campaign_exports, progress_charts, unit_report_docx
from handlers.overview import campaign_overview, overview_texts
from handlers.render import render
from handlers.report import submission_review
from handlers.review import ReviewResult, review_submission
from locales.translation import Translator
from storage.campaigns import open_campaigns
from storage.models import Submission, Unit
from storage.reports import Actor


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
        named = await named_report(data["session"], command.args or "", t, VIEW_SYNTAX)
        if isinstance(named, str):
            data["replies"].send(message.chat.id, TelegramMessage(escape(named)))
            return
        await show_submission(message.chat.id, named, data)

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
                           settings.outline_file, Actor(data["officer"].id, CHANNEL), settings.web_base_url)
        texts = await run_admin_command(ctx, command.command, command.args or "")
        for text in escaped_pieces(texts):
            data["replies"].send(message.chat.id, TelegramMessage(text))

    @router.message(Command("web"))
    async def desk_link(message: Message, **data: Any) -> None:
        settings: Settings = data["settings"]
        ctx = AdminContext(data["session"], data["t"], settings.working_calendar(), settings.today(),
                           settings.outline_file, Actor(data["officer"].id, CHANNEL), settings.web_base_url)
        for text in escaped_pieces(await web_link(ctx)):
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
    listed = await review_attachments(data["session"], submission_id, t)
    for text in escaped_pieces([heading, *render(view, t, words=False), *listed]):
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
