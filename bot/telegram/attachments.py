"""Files on Telegram: an officer's document or photo fetched from the Bot API (getFile, then
the file itself) and attached to the question on screen; the VP office's /tailieu sends a unit's
files back. What to say is recorded in `replies`, said after the commit."""

from __future__ import annotations

import io
import logging
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiohttp import ClientError

from bot.config import Settings
from bot.telegram.chat import chat_of, is_admin, is_unit_officer, say_outcome, unregistered
from bot.telegram.render import TelegramMessage, escape, escaped_pieces
from deadlines.workdays import VN_TZ
from handlers.admin_commands import NO_REPORT, report_to_view
from handlers.attachments import Attached, Incoming, Verdict, attach_file, before_download
from handlers.attachments_office import ATTACHMENTS_SYNTAX, office_files
from handlers.registration import HOW_TO_REGISTER
from handlers.report import remember_asked, resume
from handlers.rounds import moved_on
from locales.translation import Translator
from storage.files import FileStore

log = logging.getLogger(__name__)
DOWNLOAD_TIMEOUT = 60  # seconds for one file of up to 20 MB


def _file_of(message: Message) -> tuple[str, str, int | None]:
    """(file id, name, size the update declares) of a document, or of a photo's largest size."""
    if message.document is not None:
        document = message.document
        return document.file_id, document.file_name or "tep", document.file_size
    assert message.photo
    largest = max(message.photo, key=lambda size: (size.width * size.height, size.file_size or 0))
    sent = message.date.astimezone(VN_TZ)
    return largest.file_id, f"anh-{sent:%Y%m%d-%H%M%S}.jpg", largest.file_size


async def _download(bot: Bot, file_id: str, filename: str, size: int | None) -> Incoming | Attached:
    """The file (at most the Bot API's 20 MB: larger ones it refuses), or why not."""
    try:
        buffer = await bot.download(file_id, destination=io.BytesIO(), timeout=DOWNLOAD_TIMEOUT)
    except TelegramBadRequest as error:
        # "file is too big": the Bot API's own limit, for a file whose size the update left out.
        if "too big" in error.message.lower():
            return Attached(Verdict.TOO_BIG, filename, size or 0)
        log.warning("a file could not be fetched from Telegram: %s", type(error).__name__)
        return Attached(Verdict.NOT_FETCHED, filename)
    except (TelegramAPIError, ClientError, TimeoutError) as error:
        log.warning("a file could not be fetched from Telegram: %s", type(error).__name__)
        return Attached(Verdict.NOT_FETCHED, filename)
    assert isinstance(buffer, io.BytesIO)
    return Incoming(filename, buffer.getvalue())


def attachment_router() -> Router:
    router = Router(name="attachments")

    @router.message(is_unit_officer, F.document | F.photo)
    async def file_sent(message: Message, bot: Bot, **data: Any) -> None:
        chat = chat_of(message, data)
        settings: Settings = data["settings"]
        report = await chat.report()
        if report is None:
            chat.say(await chat.no_round())
            return
        closed = moved_on(report, chat.t, typed=True)
        if closed is not None:  # the file was meant for the round the VP office has closed
            chat.say(escape(closed))
            moved = await resume(chat.session, report)
            await remember_asked(chat.session, chat.identity, moved)
            say_outcome(chat, report, moved)
            return
        file_id, filename, size = _file_of(message)
        attached = before_download(filename, size, settings.attachment_max_bytes)
        if attached is None:
            fetched = await _download(bot, file_id, filename, size)
            attached = fetched if isinstance(fetched, Attached) else await attach_file(
                chat.session, FileStore(settings.attachments_dir), report, chat.identity.asked_question,
                Incoming(fetched.filename, fetched.content, message.caption or ""),
                settings.attachment_max_bytes, chat.notify_chats)
        chat.say(escape(attached.text(chat.t, settings.attachment_max_bytes)))
        if attached.answered is not None:
            await remember_asked(chat.session, chat.identity, attached.answered)
            say_outcome(chat, report, attached.answered)

    @router.message(unregistered, F.document | F.photo)
    async def file_before_registering(message: Message, **data: Any) -> None:
        t: Translator = data["t"]
        data["replies"].send(message.chat.id, TelegramMessage(escape(t.gettext(HOW_TO_REGISTER))))

    @router.message(is_admin, Command("tailieu"))
    async def unit_files(message: Message, command: CommandObject, **data: Any) -> None:
        t: Translator = data["t"]
        settings: Settings = data["settings"]
        code = (command.args or "").strip()
        submission_id = await report_to_view(data["session"], code) if code else None
        if submission_id is None:
            text = t.gettext(NO_REPORT).format(code=code) if code else t.gettext(ATTACHMENTS_SYNTAX)
            data["replies"].send(message.chat.id, TelegramMessage(escape(text)))
            return
        summary, files = await office_files(data["session"], FileStore(settings.attachments_dir),
                                            submission_id, t)
        for text in escaped_pieces([summary]):  # fifty files' lines may pass Telegram's 4,096
            data["replies"].send(message.chat.id, TelegramMessage(text))
        for info in files:
            caption = (t.gettext("Câu {number}").format(number=info.number) if info.number
                       else t.gettext("Cả báo cáo"))
            data["replies"].send_stored(message.chat.id, info.filename, info.sha256, caption)

    return router
