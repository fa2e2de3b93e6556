"""The Zalo channel at run time: events stored before they are processed (polling or webhook),
deduplicated on message id, handled in order per chat by bounded workers, answered in text
after the commit, and the outbox delivered."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from functools import partial

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channel_run import Receiving, run_until_stopped
from bot.config import Settings
from bot.inbox_workers import NOT_PROCESSED, AfterCommit, Download, InboxWorkers
from bot.outbox import DeliveryFailed, DeliveryRefused, DeliveryUnknown, OutboxSender
from bot.prefetched_files import PrefetchedFiles
from bot.webhook_guard import MAX_UPDATE_ID, Refused, json_body, storable_key
from bot.zalo.client import (
    MAX_TEXT_LENGTH,
    ZaloClient,
    split_message,
)
from bot.zalo.errors import (
    ZaloApiError,
    ZaloDeliveryUnknown,
    ZaloError,
)
from bot.zalo.files import fetch_photo, may_carry_photo, photo_to_prefetch
from bot.zalo.updates import (
    EVENT_IMAGE,
    EVENT_TEXT,
    EVENT_UNSUPPORTED,
    WEBHOOK_SECRET_HEADER,
    ZaloUpdate,
    check_webhook_secret,
    parse_webhook_update,
)
from handlers.render import pack_texts
from handlers.text_chat import (
    ONLY_TEXT,
    TextContext,
    handle_file,
    handle_text,
    handle_unsupported,
    officer_of,
)
from locales.translation import translator
from storage.database import Database
from storage.files import FileStore
from storage.inbox import IncomingEvent, TakenEvent, as_payload
from storage.outbox import Outgoing

log = logging.getLogger(__name__)
CHANNEL = "zalo"


def event_key(update: ZaloUpdate) -> str:
    """The inbox key of an event: its message id, else one made from its whole content, so that
    an event Zalo sends without an id is kept all the same, and once."""
    if update.message_id:
        return update.message_id
    content = json.dumps(update.raw, sort_keys=True, ensure_ascii=True, default=str)
    return "sha256:" + hashlib.sha256(content.encode()).hexdigest()[:40]


class ZaloChannel:
    def __init__(self, settings: Settings, db: Database) -> None:
        assert settings.zalo_token, "KSTTHC_ZALO_TOKEN is not set"
        self.settings = settings
        self.db = db
        self.client = ZaloClient(settings.zalo_token, settings.zalo_api_base)
        # Photos are downloaded before their event's transaction (bot.prefetched_files).
        self.files = PrefetchedFiles(FileStore(settings.attachments_dir), settings.attachment_max_bytes)
        self.inbox = InboxWorkers(db, CHANNEL, settings.zalo_workers, self.process, self.apologise,
                                  prefetch=self.prefetch, carries_file=may_carry_photo)
        self.stopping = asyncio.Event()
        self.outbox = OutboxSender(db, CHANNEL, self.deliver_outgoing, settings,
                                   settings.working_calendar(), settings.clock())

    # ----- receiving -------------------------------------------------------------------------

    async def receive(self, updates: list[ZaloUpdate]) -> None:
        """Store events (committed; a redelivered one is ignored) and dispatch them. An event
        without a chat to answer is not kept, and the log says so (by kind, nothing of its content)."""
        kept = []
        for u in updates:
            if not u.reply_to:
                log.warning("a Zalo event without a chat to answer was not stored")
                continue
            kept.append(IncomingEvent(event_key(u), u.chat_id or u.reply_to, as_payload(u.raw),
                                      seq=u.message.date if u.message and u.message.date > 0 else None))
        await self.inbox.receive(kept)

    async def poll(self) -> None:
        while not self.stopping.is_set():
            try:
                updates = await self.client.get_updates(timeout_s=self.settings.zalo_poll_timeout)
            except ZaloError as error:
                log.warning("Zalo getUpdates failed: %s", type(error).__name__)
                await asyncio.sleep(1)
                continue
            try:
                await self.receive(updates)
            except Exception:
                # getUpdates has no offset: these events are lost. Left to propagate, the error
                # would end polling for good while the process runs on, deaf.
                log.exception("storing %d Zalo events failed", len(updates))
                await asyncio.sleep(1)

    # ----- processing ------------------------------------------------------------------------

    async def process(self, session: AsyncSession, event: TakenEvent) -> AfterCommit:
        """Apply the event in the inbox worker's transaction; the answer is said after commit."""
        update = ZaloUpdate.from_json(json.loads(event.payload))
        chat_id = update.reply_to
        ctx = TextContext(
            session=session, channel=CHANNEL, external_id=update.user_id or chat_id, chat_id=chat_id,
            display_name=update.display_name or "", calendar=self.settings.working_calendar(),
            today=self.settings.today(),
            outline_file=self.settings.outline_file,
            notify_chats={CHANNEL: self.settings.zalo_notify_chat_list},
            web_url=self.settings.web_base_url)
        message, limit = update.message, self.settings.attachment_max_bytes
        if update.event_name == EVENT_TEXT and update.text is not None:
            texts = await handle_text(ctx, update.text, self.settings.locale)
        elif update.event_name == EVENT_IMAGE and message is not None:
            texts = await handle_file(ctx, FileStore(self.settings.attachments_dir),
                                      partial(self.files.fetch, message.photo_url or "",
                                              partial(fetch_photo, message, limit)),
                                      limit, self.settings.locale)
        elif update.event_name == EVENT_UNSUPPORTED:
            texts = await handle_unsupported(ctx, self.settings.locale)
        else:
            officer = await officer_of(ctx)
            texts = [translator(officer.locale if officer else self.settings.locale).gettext(ONLY_TEXT)]
        return partial(self.say_all, chat_id, texts)

    async def prefetch(self, session: AsyncSession, event: TakenEvent) -> Download | None:
        return await photo_to_prefetch(session, event, CHANNEL, self.files,
                                       self.settings.attachment_max_bytes)

    async def say_all(self, chat_id: str, texts: list[str]) -> None:
        """In as few messages as fit."""
        for text in pack_texts(texts, MAX_TEXT_LENGTH):
            await self.say(chat_id, text)

    async def apologise(self, payload: str) -> None:
        """The event could not be processed: ask its sender to send it again."""
        chat_id = ZaloUpdate.from_json(json.loads(payload)).reply_to
        if chat_id:
            await self.say(chat_id, translator(self.settings.locale).gettext(NOT_PROCESSED))

    async def say(self, chat_id: str, text: str) -> None:
        """Each piece on its own (the client retries where a retry is safe): one that fails
        costs only itself. Logged by kind, never with the text."""
        for piece in split_message(text):
            try:
                await self.client.send_message(chat_id, piece)
            except Exception as error:  # an API error, an answer the client cannot decode
                log.warning("could not deliver a Zalo reply: %s", type(error).__name__)

    async def deliver_outgoing(self, chat_id: str, message: Outgoing) -> None:
        """An outbox message in text: a button becomes the word to type."""
        lines = [message.text]
        for row in message.buttons or []:
            lines.extend(f"👉 {b['text']}: “{b['word']}”" for b in row if b.get("word"))
        try:
            for piece in split_message("\n".join(lines)):
                await self.client.send_message(chat_id, piece)
        except ZaloDeliveryUnknown as error:
            raise DeliveryUnknown(str(error)) from error
        except ZaloApiError as error:
            if 400 <= error.error_code < 500 and error.error_code != 429:
                raise DeliveryRefused(str(error)) from error
            raise DeliveryFailed(str(error)) from error
        except ZaloError as error:
            raise DeliveryFailed(str(error)) from error

    # ----- running ---------------------------------------------------------------------------

    async def run(self) -> None:
        await run_until_stopped(self.inbox, self.outbox, self.stopping, self.settings.shutdown_grace,
                                self.start_receiving)
        await self.client.close()

    async def start_receiving(self) -> Receiving:
        if self.settings.zalo_webhook_url:
            return await self.start_webhook()
        try:
            await self.client.delete_webhook()
        except ZaloError as error:
            log.warning("Zalo deleteWebhook failed: %s", type(error).__name__)
        return asyncio.create_task(self.poll())

    def stop(self) -> None:
        self.stopping.set()

    def webhook_app(self) -> web.Application:
        app = web.Application(client_max_size=self.settings.zalo_webhook_max_body)
        app.router.add_post(self.settings.zalo_webhook_path, self.on_webhook)
        return app

    async def on_webhook(self, request: web.Request) -> web.Response:
        """401 without the secret (checked in constant time before the body is read), 413 for a
        body over the limit (chunked too), 400 for anything that is not one event, 503 when it
        could not be stored; 200 once it is stored."""
        if not check_webhook_secret(request.headers.get(WEBHOOK_SECRET_HEADER),
                                    self.settings.zalo_webhook_secret or ""):
            return web.Response(status=401)
        try:
            update = parse_webhook_update(await json_body(request, self.settings.zalo_webhook_max_body))
            if update.message is not None and not update.reply_to:
                log.warning("a Zalo webhook event without a chat to answer was refused")
                raise Refused(400)
            if update.message is not None and not (
                    storable_key(event_key(update)) and storable_key(update.reply_to)
                    and 0 <= update.message.date <= MAX_UPDATE_ID):  # the date orders a chat's events
                raise Refused(400)
        except Refused as refused:
            return refused.response()
        except (ValueError, KeyError, TypeError, RecursionError, ZaloError):
            return web.Response(status=400)
        try:
            await self.receive([update])
        except Exception as error:
            log.error("storing a Zalo webhook event failed: %s", type(error).__name__)
            return web.Response(status=503)
        return web.Response(status=200)

    async def start_webhook(self) -> web.AppRunner:
        runner = web.AppRunner(self.webhook_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.settings.zalo_webhook_host, self.settings.zalo_webhook_port).start()
        try:
            await self.client.set_webhook(self.settings.zalo_webhook_url or "",
                                          self.settings.zalo_webhook_secret or "")
        except BaseException:
            await runner.cleanup()  # the port is free for the next attempt (bot/run.py)
            raise
        return runner
