"""The Telegram channel at run time: updates stored before they are acknowledged (polling or
webhook), processed in order per chat by a bounded set of workers, replies said after commit,
and the outbox delivered."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from functools import partial
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
)
from aiogram.methods import EditMessageText, GetUpdates, SendMessage
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BotCommandScopeDefault,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channel_run import Receiving, run_until_stopped
from bot.config import Settings
from bot.inbox_workers import NOT_PROCESSED, AfterCommit, Download, InboxWorkers
from bot.outbox import DeliveryFailed, DeliveryRefused, DeliveryUnknown, OutboxSender
from bot.prefetched_files import PrefetchedFiles
from bot.telegram.api_session import BotApiSession
from bot.telegram.attachments import file_to_prefetch, may_carry_file
from bot.telegram.middleware import CHANNEL, EventContext
from bot.telegram.prompts import PromptIds, Waiting
from bot.telegram.render import escape
from bot.telegram.replies import AnswerCallback, Edit, Replies, Reply, Send, SendStoredFile, SetMenu
from bot.telegram.routers import build_routers
from bot.telegram.session import RetryRequests, is_timeout, repeat_after_timeout
from bot.webhook_guard import MAX_UPDATE_ID, Refused, json_body, secret_matches, storable_key
from engine.i18n import N_
from handlers.admin_commands import admin_menu
from handlers.documents import Document, attachment_files
from locales.translation import translator
from storage.database import Database
from storage.files import FileStore
from storage.inbox import IncomingEvent, TakenEvent, as_payload
from storage.outbox import Outgoing

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
COMMANDS = {
    "baocao": N_("Tiếp tục báo cáo"),
    "mucluc": N_("Mục lục: chuyển đến mục hoặc câu"),
    "tiendo": N_("Tiến độ báo cáo"),
    "xem": N_("Xem lại toàn bộ câu trả lời"),
    "nop": N_("Nộp báo cáo"),
    "huongdan": N_("Hướng dẫn"),
    "ngonngu": N_("Đổi ngôn ngữ"),
    "lienket": N_("Liên kết với Zalo"),
}


def chat_key(update: dict[str, Any]) -> str:
    """Updates of one chat share a key, so one worker handles them in order."""
    for kind in ("message", "edited_message", "callback_query"):
        event = update.get(kind)
        if isinstance(event, dict):
            source = event.get("from") or event.get("chat") or {}
            return str(source.get("id", "0"))
    return "0"


def update_id(update: object) -> int | None:
    """An update's id, if it has one the inbox can order by."""
    found = update.get("update_id") if isinstance(update, dict) else None
    if not isinstance(found, int) or isinstance(found, bool) or not 0 <= found <= MAX_UPDATE_ID:
        return None
    return found


def reply_chat_id(update: dict[str, Any]) -> int | None:
    """Where an answer to the update goes: its chat (a button's message's chat)."""
    event = update.get("message") or update.get("edited_message") or update.get("callback_query")
    if not isinstance(event, dict):
        return None
    chat = event.get("chat") or (event.get("message") or {}).get("chat") or event.get("from") or {}
    chat_id = chat.get("id")
    return chat_id if isinstance(chat_id, int) else None


class TelegramChannel:
    def __init__(self, settings: Settings, db: Database) -> None:
        assert settings.telegram_token, "KSTTHC_TELEGRAM_TOKEN is not set"
        self.settings = settings
        self.db = db
        self.stopping = asyncio.Event()
        self.session = BotApiSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
        self.session.middleware(RetryRequests(stopping=self.stopping))
        self.bot = Bot(settings.telegram_token, session=self.session,
                       default=DefaultBotProperties(parse_mode="HTML"))
        # No aiogram FSM: where an officer is in the report lives in the database.
        self.dispatcher = Dispatcher(disable_fsm=True)
        self.dispatcher.update.outer_middleware(EventContext(settings.locale))
        self.dispatcher.include_routers(*build_routers())
        # Files are downloaded before their event's transaction (bot.prefetched_files).
        self.files = PrefetchedFiles(FileStore(settings.attachments_dir), settings.attachment_max_bytes)
        self.prompts = PromptIds(db)
        self.inbox = InboxWorkers(db, CHANNEL, settings.telegram_workers, self.process, self.apologise,
                                  prefetch=self.prefetch, carries_file=may_carry_file)
        self.notify_chats = {CHANNEL: settings.telegram_notify_chat_list}
        self.outbox = OutboxSender(db, CHANNEL, self.deliver_outgoing, settings,
                                   settings.working_calendar(), settings.clock())

    # ----- receiving -------------------------------------------------------------------------

    async def receive(self, updates: list[dict[str, Any]]) -> None:
        """Store updates (committed) and hand them to the workers."""
        await self.inbox.receive([IncomingEvent(str(u["update_id"]), chat_key(u),
                                                as_payload(u), seq=u["update_id"])
                                  for u in updates])

    async def poll(self) -> None:
        offset: int | None = None
        timeout = self.settings.telegram_poll_timeout
        while not self.stopping.is_set():
            try:
                received = await self.session.updates_as_received(self.bot, GetUpdates(
                    offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES))
            except (TelegramAPIError, ClientDecodeError) as error:
                log.warning("getUpdates failed: %s", type(error).__name__)
                await asyncio.sleep(1)
                continue
            updates = [u for u in received if update_id(u) is not None]
            if len(updates) < len(received):
                log.warning("skipped %d updates without an update id", len(received) - len(updates))
            if not updates:
                continue
            try:
                await self.receive(updates)
            except Exception:
                # Not stored, so not acknowledged: the next call gets the same updates again.
                # (Left to propagate, it would end polling for good while the process runs on.)
                log.exception("storing %d updates failed", len(updates))
                await asyncio.sleep(1)
                continue
            # Only now, with the updates committed, does the next call acknowledge them.
            offset = max(u["update_id"] for u in updates) + 1

    # ----- processing ------------------------------------------------------------------------

    async def process(self, session: AsyncSession, event: TakenEvent) -> AfterCommit:
        """Apply the update in the inbox worker's transaction; what to say comes after commit."""
        stored = json.loads(event.payload)
        update = Update.model_validate(stored, context={"bot": self.bot})
        key = chat_key(stored)
        prompt = await self.prompts.write_chat(session, key)  # before the turn reads it
        replies = Replies()
        await self.dispatcher.feed_update(self.bot, update, session=session, replies=replies,
                                          notify_chats=self.notify_chats, settings=self.settings,
                                          prefetched=self.files)
        return partial(self.say_after_commit, replies, key, prompt)

    async def say_after_commit(self, replies: Replies, key: str, prompt: Waiting | None) -> None:
        """The turn committed: its prompt id is in the database, and the replies can be said."""
        self.prompts.committed(key, prompt)
        await self.say(replies)

    async def prefetch(self, session: AsyncSession, event: TakenEvent) -> Download | None:
        return await file_to_prefetch(session, event, self.bot, self.files,
                                      self.settings.attachment_max_bytes)

    async def apologise(self, payload: str) -> None:
        """The update could not be processed: ask its sender to send it again."""
        chat_id = reply_chat_id(json.loads(payload))
        if chat_id is not None:
            text = translator(self.settings.locale).gettext(NOT_PROCESSED)
            await self.bot.send_message(chat_id, escape(text))

    async def say(self, replies: Replies) -> None:
        """Messages in order; edits of earlier messages (the record of an answer) alongside, so
        that on a slow network the next question does not wait for the record."""
        edits = [asyncio.create_task(self._say_safely(reply))
                 for reply in replies.items if isinstance(reply, Edit)]
        for reply in replies.items:
            if not isinstance(reply, Edit):
                await self._say_safely(reply)
        await asyncio.gather(*edits)

    async def _say_safely(self, reply: Reply) -> None:
        """One reply; its failure (retried first by RetryRequests where a retry is safe) costs
        only itself, never the replies after it. Logged by kind, never with the reply's text."""
        try:
            await self._say_one(reply)
        except Exception as error:  # an API error, an answer the client cannot decode, the database
            log.warning("could not deliver a reply (%s): %s", type(reply).__name__, type(error).__name__)

    async def _say_one(self, reply: Reply) -> None:
        if isinstance(reply, Send):
            sent = await self.session.message_id(self.bot, SendMessage(
                chat_id=reply.chat_id, text=reply.message.text, reply_markup=reply.message.keyboard))
            if reply.prompt_for is not None and sent is not None:
                self.prompts.said(str(reply.chat_id), *reply.prompt_for, message_id=sent)
        elif isinstance(reply, Edit):
            # Unchanged, or deleted by the officer: the record is in the database anyway.
            with contextlib.suppress(TelegramBadRequest):
                await self.session.message_id(self.bot, EditMessageText(
                    text=reply.text, chat_id=reply.chat_id, message_id=reply.message_id,
                    reply_markup=reply.keyboard))
        elif isinstance(reply, AnswerCallback):
            await self.bot.answer_callback_query(reply.callback_id, text=reply.text or None,
                                                 show_alert=reply.alert)
        elif isinstance(reply, SetMenu):
            await self.set_chat_menu(reply)
        elif isinstance(reply, SendStoredFile):
            content = FileStore(self.settings.attachments_dir).read(reply.sha256)
            await self.send_file(reply.chat_id, reply.filename, content, reply.caption)
        else:
            await self.send_file(reply.chat_id, reply.filename, reply.content, reply.caption)

    async def send_file(self, chat_id: int, filename: str, content: bytes, caption: str = "") -> None:
        upload = BufferedInputFile(content, filename)
        if filename.endswith(".png"):
            await self.bot.send_photo(chat_id, upload, caption=caption or None)
        else:
            await self.bot.send_document(chat_id, upload, caption=caption or None)

    async def deliver_outgoing(self, chat_id: str, message: Outgoing) -> None:
        keyboard = None
        if message.buttons:
            keyboard = InlineKeyboardMarkup(inline_keyboard=[
                [InlineKeyboardButton(text=b["text"], callback_data=b["data"]) for b in row]
                for row in message.buttons])
        token = repeat_after_timeout.set(False)
        try:
            await self.bot.send_message(int(chat_id), escape(message.text), reply_markup=keyboard)
        except (TelegramForbiddenError, TelegramBadRequest) as error:
            raise DeliveryRefused(type(error).__name__) from error
        except TelegramNetworkError as error:
            raise (DeliveryUnknown if is_timeout(error) else DeliveryFailed)(error.message) from error
        except TelegramAPIError as error:
            raise DeliveryFailed(type(error).__name__) from error
        finally:
            repeat_after_timeout.reset(token)
        await self.send_attachments(int(chat_id), message)

    async def send_attachments(self, chat_id: int, message: Outgoing) -> None:
        """Files after the text: best effort. The text has gone out, so a failure here must not
        make the outbox send it again; the files can be had again with /xembaocao or /tiendo."""
        for attachment in message.attachments or []:
            try:
                for document in await self.files_for(attachment):
                    await self.send_file(chat_id, document.filename, document.content)
            except TelegramAPIError as error:
                log.warning("an attachment could not be delivered: %s", type(error).__name__)

    async def files_for(self, attachment: dict[str, Any]) -> list[Document]:
        today = self.settings.today()
        async with self.db.transaction() as session:
            return await attachment_files(session, attachment, self.settings.working_calendar(), today)

    # ----- running ---------------------------------------------------------------------------

    async def set_commands(self) -> None:
        for locale in ("vi", "en"):
            t = translator(locale)
            commands = [BotCommand(command=c, description=t.gettext(d)) for c, d in COMMANDS.items()]
            await self.bot.set_my_commands(commands, scope=BotCommandScopeDefault(),
                                           language_code=locale)
        t = translator("vi")
        await self.bot.set_my_commands(
            [BotCommand(command=c, description=t.gettext(d)) for c, d in COMMANDS.items()])

    async def set_chat_menu(self, menu: SetMenu) -> None:
        """The VP office's own menu in its chat; an officer's chat falls back to the default one."""
        scope = BotCommandScopeChat(chat_id=menu.chat_id)
        if not menu.office:
            await self.bot.delete_my_commands(scope=scope)
            return
        t = translator(menu.locale)
        commands = [*admin_menu(t), ("ngonngu", t.gettext(COMMANDS["ngonngu"]))]
        await self.bot.set_my_commands([BotCommand(command=c, description=d) for c, d in commands],
                                       scope=scope)

    async def run(self) -> None:
        await self.set_commands()
        await run_until_stopped(self.inbox, self.outbox, self.stopping, self.settings.shutdown_grace,
                                self.start_receiving)
        await self.prompts.close()
        await self.bot.session.close()

    async def start_receiving(self) -> Receiving:
        if self.settings.telegram_webhook_url:
            return await self.start_webhook()
        await self.bot.delete_webhook(drop_pending_updates=False)
        return asyncio.create_task(self.poll())

    def stop(self) -> None:
        self.stopping.set()

    # ----- webhook ---------------------------------------------------------------------------

    def webhook_app(self) -> web.Application:
        app = web.Application(client_max_size=self.settings.telegram_webhook_max_body)
        app.router.add_post(self.settings.telegram_webhook_path, self.on_webhook)
        return app

    async def on_webhook(self, request: web.Request) -> web.Response:
        """401 without the secret (checked in constant time before the body is read), 413 for a
        body over the limit (chunked too), 400 for anything that is not one update, 503 when it
        could not be stored (Telegram delivers it again); 200 once it is stored."""
        if not secret_matches(request.headers.get(SECRET_HEADER), self.settings.telegram_webhook_secret):
            return web.Response(status=401)
        try:
            update = await json_body(request, self.settings.telegram_webhook_max_body)
            if update_id(update) is None:
                raise Refused(400)
            Update.model_validate(update)
            if not storable_key(chat_key(update)):
                raise Refused(400)
        except Refused as refused:
            return refused.response()
        except (ValueError, TypeError, RecursionError):  # pydantic's ValidationError is a ValueError
            return web.Response(status=400)
        try:
            await self.receive([update])
        except Exception as error:
            log.error("storing a webhook update failed: %s", type(error).__name__)
            return web.Response(status=503)
        return web.Response(status=200)

    async def start_webhook(self) -> web.AppRunner:
        runner = web.AppRunner(self.webhook_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.telegram_webhook_host,
                           self.settings.telegram_webhook_port)
        await site.start()
        try:
            await self.bot.set_webhook(self.settings.telegram_webhook_url or "",
                                       secret_token=self.settings.telegram_webhook_secret,
                                       allowed_updates=ALLOWED_UPDATES)
        except BaseException:
            await runner.cleanup()  # the port is free for the next attempt (bot/run.py)
            raise
        return runner
