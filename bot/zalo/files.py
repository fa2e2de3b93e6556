"""Images on Zalo: the Bot API passes on only a photo's address (``photo``/``photo_url`` of a
``message.image.received`` event), and no other kind of file at all (a PDF or Word file arrives
as ``message.unsupported.received``). The photo is fetched from that address, never more than
the size limit."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from functools import partial

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from bot.inbox_workers import Download
from bot.prefetched_files import PrefetchedFiles
from bot.zalo.updates import EVENT_IMAGE, ZaloMessage, ZaloUpdate
from deadlines.workdays import VN_TZ
from handlers.attachments import Attached, Incoming, Verdict
from storage.inbox import TakenEvent
from storage.models import Role
from storage.officers import officer_by_identity

log = logging.getLogger(__name__)
TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)
CHUNK = 64 * 1024


def photo_name(message: ZaloMessage) -> str:
    sent = datetime.fromtimestamp(message.date / 1000, UTC) if message.date > 0 else datetime.now(UTC)
    return f"anh-zalo-{sent.astimezone(VN_TZ):%Y%m%d-%H%M%S}.jpg"


async def fetch_photo(message: ZaloMessage, max_bytes: int) -> Incoming | Attached:
    """The photo's bytes, or why not (too big, or not fetched: logged by kind, without the address)."""
    name = photo_name(message)
    url = message.photo_url or ""
    if not url.startswith(("https://", "http://")):
        return Attached(Verdict.NOT_FETCHED, name)
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session, session.get(url) as response:
            if response.status != 200:
                log.warning("a Zalo photo could not be fetched: HTTP %s", response.status)
                return Attached(Verdict.NOT_FETCHED, name)
            if response.content_length is not None and response.content_length > max_bytes:
                return Attached(Verdict.TOO_BIG, name, response.content_length)
            content = bytearray()
            async for chunk in response.content.iter_chunked(CHUNK):
                content.extend(chunk)
                if len(content) > max_bytes:
                    return Attached(Verdict.TOO_BIG, name, len(content))
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("a Zalo photo could not be fetched: %s", type(error).__name__)
        return Attached(Verdict.NOT_FETCHED, name)
    return Incoming(name, bytes(content), message.caption or "")


def may_carry_photo(payload: str) -> bool:
    """A stored event (JSON) that may be a photo: its event name, wherever it is."""
    return EVENT_IMAGE in payload


async def photo_to_prefetch(session: AsyncSession, event: TakenEvent, channel: str, files: PrefetchedFiles,
                            max_bytes: int) -> Download | None:
    """The download of the photo the event carries, to run before its transaction: only an
    officer's (the handler fetches no one else's). Its address is what names it."""
    update = ZaloUpdate.from_json(json.loads(event.payload))
    message = update.message
    if update.event_name != EVENT_IMAGE or message is None or not message.photo_url \
            or files.has(message.photo_url):
        return None
    officer = await officer_by_identity(session, channel, update.user_id or update.reply_to or "")
    if officer is None or officer.role != Role.OFFICER:
        return None
    return partial(files.prefetch, message.photo_url, partial(fetch_photo, message, max_bytes))
