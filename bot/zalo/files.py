"""Images on Zalo: the Bot API passes on only a photo's address (``photo``/``photo_url`` of a
``message.image.received`` event), and no other kind of file at all (a PDF or Word file arrives
as ``message.unsupported.received``). The photo is fetched from that address, never more than
the size limit."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import aiohttp

from bot.zalo.updates import ZaloMessage
from deadlines.workdays import VN_TZ
from handlers.attachments import Attached, Incoming, Verdict

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
