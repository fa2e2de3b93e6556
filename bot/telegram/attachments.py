"""Files on Telegram: an officer's document or photo fetched from the Bot API (getFile, then
the file itself) and attached to the question on screen; the VP office's /tailieu sends a unit's
files back. What to say is recorded in `replies`, said after the commit."""

from __future__ import annotations

import io
import json
import logging
from functools import partial
from typing import Any

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiohttp import ClientError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.inbox_workers import Download
from bot.prefetched_files import PrefetchedFiles
from bot.telegram.chat import (
    carries_file,
    chat_of,
    is_admin,
    is_unit_officer,
    report_for_turn,
    say_outcome,
    unregistered,
)
from bot.telegram.middleware import CHANNEL
from bot.telegram.render import TelegramMessage, escape, escaped_pieces
from deadlines.workdays import VN_TZ
from handlers.admin_commands import named_report
from handlers.attachments import Attached, Incoming, Verdict, attach_file, before_download
from handlers.attachments_office import ATTACHMENTS_SYNTAX, office_files
from handlers.registration import HOW_TO_REGISTER
from handlers.report import remember_asked
from locales.translation import Translator
from storage.files import FileStore
from storage.inbox import TakenEvent
from storage.models import Role
from storage.officers import officer_by_identity

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


def may_carry_file(payload: str) -> bool:
    """A stored update (JSON) that may carry a document or a photo: a key of that name. Text
    cannot look like one (its quotes are escaped); a reply quoting a photo costs only a look."""
    return '"document":' in payload or '"photo":' in payload


def _file_in(update: dict[str, Any]) -> tuple[str, str, str, int | None] | None:
    """(sender, file id, name, declared size) of the file a stored update carries, if any: the
    same file `_file_of` picks, read from the update as stored (no date: a photo's name is only
    needed to refuse by name, and a photo is never refused so)."""
    message = update.get("message")
    if not isinstance(message, dict) or not isinstance(message.get("from"), dict):
        return None
    sender = str(message["from"].get("id"))
    document, photo = message.get("document"), message.get("photo")
    if isinstance(document, dict) and document.get("file_id"):
        return sender, document["file_id"], document.get("file_name") or "tep", document.get("file_size")
    if isinstance(photo, list) and photo:
        largest = max(photo, key=lambda size: (size.get("width", 0) * size.get("height", 0),
                                               size.get("file_size") or 0))
        return sender, largest["file_id"], "anh.jpg", largest.get("file_size")
    return None


async def file_to_prefetch(session: AsyncSession, event: TakenEvent, bot: Bot, files: PrefetchedFiles,
                           max_bytes: int) -> Download | None:
    """The download of the file the event carries, to run before its transaction: only a
    unit officer's file, and only one the handler will fetch (not refused by size or name)."""
    found = _file_in(json.loads(event.payload))
    if found is None:
        return None
    sender, file_id, filename, size = found
    if files.has(file_id) or before_download(filename, size, max_bytes) is not None:
        return None
    officer = await officer_by_identity(session, CHANNEL, sender)
    if officer is None or officer.role != Role.OFFICER or officer.unit_id is None:
        return None
    return partial(files.prefetch, file_id, partial(_download, bot, file_id, filename, size))


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

    @router.message(is_unit_officer, carries_file)
    async def file_sent(message: Message, bot: Bot, **data: Any) -> None:
        chat = chat_of(message, data)
        settings: Settings = data["settings"]
        report = await report_for_turn(chat)
        if report is None:
            return
        file_id, filename, size = _file_of(message)
        attached = before_download(filename, size, settings.attachment_max_bytes)
        if attached is None:
            prefetched: PrefetchedFiles = data["prefetched"]
            fetched = await prefetched.fetch(file_id, partial(_download, bot, file_id, filename, size))
            # Named here, not by the prefetch: only the message tells a photo's date.
            attached = fetched if isinstance(fetched, Attached) else await attach_file(
                chat.session, FileStore(settings.attachments_dir), report, chat.identity.asked_question,
                Incoming(filename, fetched.content, message.caption or ""),
                settings.attachment_max_bytes, chat.notify_chats)
        chat.say(escape(attached.text(chat.t, settings.attachment_max_bytes)))
        if attached.answered is not None:
            await remember_asked(chat.session, chat.identity, attached.answered)
            say_outcome(chat, report, attached.answered)

    @router.message(unregistered, carries_file)
    async def file_before_registering(message: Message, **data: Any) -> None:
        t: Translator = data["t"]
        data["replies"].send(message.chat.id, TelegramMessage(escape(t.gettext(HOW_TO_REGISTER))))

    @router.message(is_admin, Command("tailieu"))
    async def unit_files(message: Message, command: CommandObject, **data: Any) -> None:
        t: Translator = data["t"]
        settings: Settings = data["settings"]
        named = await named_report(data["session"], command.args or "", t, ATTACHMENTS_SYNTAX)
        if isinstance(named, str):
            data["replies"].send(message.chat.id, TelegramMessage(escape(named)))
            return
        summary, files = await office_files(data["session"], FileStore(settings.attachments_dir), named, t)
        for text in escaped_pieces([summary]):  # fifty files' lines may pass Telegram's 4,096
            data["replies"].send(message.chat.id, TelegramMessage(text))
        for info in files:
            caption = (t.gettext("Câu {number}").format(number=info.number) if info.number
                       else t.gettext("Cả báo cáo"))
            data["replies"].send_stored(message.chat.id, info.filename, info.sha256, caption)

    return router
