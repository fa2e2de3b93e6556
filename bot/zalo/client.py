"""A small typed async client for the Zalo Bot Platform API (aiohttp).

Requests go to ``{api_base}/bot{token}/{method}`` as POST with a JSON body; answers are
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": "..."}``.

What the Zalo documentation (bot.zaloplatforms.com/docs, the Vietnamese pages of 2025) says,
and this client relies on:

* Host ``https://bot-api.zaloplatforms.com`` (``bot-api.zapps.me`` is the older host); token
  ``{bot_id}:{access_token}``; every method is POST with a JSON body.
* ``getUpdates`` is long polling with a single parameter ``timeout`` (a string, seconds,
  default 30) and NO offset. Its ``result`` is ONE update object, not an array:
  ``{"event_name": "message.text.received", "message": {...}}``. It does not work while a
  webhook is set.
* Event names: ``message.text.received``, ``message.image.received``,
  ``message.sticker.received``, ``message.unsupported.received``.
* A message: ``message_id`` (a hex string), ``from`` ``{id, display_name, is_bot}``, ``chat``
  ``{id, chat_type: "PRIVATE" | "GROUP"}``, ``date`` (Unix time in MILLISECONDS), ``text``;
  images have ``photo``/``caption``, stickers ``sticker``/``url``. Ids are strings.
* ``sendMessage(chat_id, text)``: text of 1 to 2000 characters; result ``{message_id, date}``.
* ``sendPhoto(chat_id, photo, caption?)``: ``photo`` is an image URL (no upload of bytes is
  documented); caption up to 2000 characters; result ``{message_id, date}``.
* ``sendChatAction(chat_id, action)``: ``typing`` (``upload_photo`` "coming soon"); answers
  ``{"ok": true}`` with no result.
* ``setWebhook(url, secret_token)``: HTTPS url, secret of 8 to 256 characters, sent back in the
  ``X-Bot-Api-Secret-Token`` header of every webhook POST; result ``{url, updated_at}``.
  ``getWebhookInfo`` and ``deleteWebhook`` answer ``{url, updated_at}`` (url "" when none).
* ``getMe``: ``{id, account_name, account_type, can_join_groups}``.

Assumptions (not confirmed by the documentation; from public client code or Telegram-like):

* An empty long poll answers ``{"ok": false, "error_code": 408, "description": "Request
  timeout"}`` (seen in public clients, HTTP status unknown): ``get_updates`` returns ``[]``.
  A ``result`` that is a list is accepted too, should the API ever batch updates.
* Events may be delivered again (public clients report the API re-serving a consumed update):
  ``get_updates`` drops a message_id it has already returned (a bounded memory of ids,
  ``SeenMessages``), unless ``dedupe=False``. The memory lives as long as the client: a
  redelivery after a restart is not caught here (a caller that must not handle a message twice
  keeps the ids it handled, e.g. in the database).
* What getUpdates answers while a webhook is set is undocumented ("does not work"): whatever
  error comes is raised as ``ZaloApiError`` (the fake uses 409).
* The descriptions of errors (e.g. for a text over 2000 characters) are undocumented: callers
  should go by ``error_code`` (400 for a refused parameter, as Telegram).
* Image events carry ``photo_url`` (public clients; the documentation says ``photo``): both
  are read.
* API errors may come with HTTP 200 or with the error's HTTP status; the body's ``error_code``
  wins, else the HTTP status. 401 means a bad token (``ZaloUnauthorized``).
* Rate limiting is undocumented: a 429 (``error_code`` or HTTP status) raises
  ``ZaloRetryAfter`` with ``parameters.retry_after`` or a ``Retry-After`` header if present.
* A 5xx answer means the request was not carried out (Telegram-like), so it is retried, even
  for a send; except 504 for a send, which a gateway gives after the request may have reached
  Zalo: ``ZaloDeliveryUnknown``.
* The webhook POST body is ``{"ok": true, "result": {event}}`` per the documentation; public
  clients say a bare ``{event}``: ``parse_webhook_update`` accepts both.
* "Characters" in the 2000 limit are Python code points (``len``).

The token is part of every URL: it never appears in an exception message or a log line
(``redact``), and no aiohttp exception is chained to the errors raised here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, Final

import aiohttp

from bot.zalo.errors import (
    ZaloApiError,
    ZaloDeliveryUnknown,
    ZaloError,
    ZaloNetworkError,
    ZaloRetryAfter,
    ZaloServerError,
    ZaloUnauthorized,
    redact,
)
from bot.zalo.updates import (
    SeenMessages,
    ZaloBotInfo,
    ZaloSentMessage,
    ZaloUpdate,
    ZaloWebhookInfo,
    as_int,
    as_mapping,
    as_str,
)
from handlers.render import split_text

log = logging.getLogger(__name__)

DEFAULT_API_BASE: Final = "https://bot-api.zaloplatforms.com"
MAX_TEXT_LENGTH: Final = 2000
POLL_TIMEOUT_CODE: Final = 408
# Sends: a repeat after "maybe delivered" would show the officer the same message twice.
SEND_METHODS: Final = frozenset({"sendMessage", "sendPhoto"})


def split_message(text: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends, else at spaces, never mid-word
    (only a single word longer than the limit is cut); blank pieces are left out, since the API
    refuses empty texts."""
    # split_text cuts a line that starts with a space at the limit, even mid-word: over-long
    # lines lose their leading whitespace first (they are cut at spaces anyway).
    lines = (line.lstrip() if len(line) > limit else line for line in text.split("\n"))
    return [piece for piece in split_text("\n".join(lines), limit) if piece.strip()]


class _Retry(Exception):
    """Internal: this attempt failed in a way worth another try."""

    def __init__(self, error: ZaloError) -> None:
        super().__init__(str(error))
        self.error = error


class ZaloClient:
    """The Zalo Bot API over aiohttp.

    timeout: seconds for one request (default 10); connect_timeout: for opening the
    connection. A long poll waits its timeout_s + poll_grace seconds. Failed requests (5xx,
    network, timeout) are tried up to 1 + max_retries times with exponential backoff
    (backoff_base * 2**n, at most backoff_max seconds) - except that a send is never
    repeated once it may have reached Zalo: ZaloDeliveryUnknown instead.
    session: an aiohttp ClientSession to use (not closed by close()); else one of its own.
    dedupe: get_updates drops events whose message_id it already returned (the last
    seen_capacity ids are remembered, in ``self.seen``).
    """

    def __init__(
        self,
        token: str,
        api_base: str = DEFAULT_API_BASE,
        timeout: float = 10.0,
        session: aiohttp.ClientSession | None = None,
        *,
        connect_timeout: float = 5.0,
        poll_grace: float = 10.0,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 10.0,
        dedupe: bool = True,
        seen_capacity: int = 10_000,
    ) -> None:
        if not token:
            raise ValueError("a Zalo bot token is required")
        self._token = token
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.poll_grace = poll_grace
        self.max_retries = max(0, max_retries)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.dedupe = dedupe
        self.seen = SeenMessages(seen_capacity)
        self._session = session
        self._own_session = session is None

    def __repr__(self) -> str:
        return f"ZaloClient(api_base={self.api_base!r})"

    async def __aenter__(self) -> ZaloClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session if it is the client's own."""
        if self._own_session and self._session is not None:
            session, self._session = self._session, None
            await session.close()

    def _url(self, method: str) -> str:
        return f"{self.api_base}/bot{self._token}/{method}"

    def _redact(self, text: str) -> str:
        return redact(text, self._token)

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            if not self._own_session:
                raise ZaloNetworkError("session", "the given aiohttp session is closed")
            self._session = aiohttp.ClientSession()
        return self._session

    # -- API methods -----------------------------------------------------------------------
    async def get_me(self) -> ZaloBotInfo:
        return ZaloBotInfo.from_json(as_mapping(await self._call("getMe")))

    async def get_updates(self, timeout_s: int = 30, *, dedupe: bool | None = None) -> list[ZaloUpdate]:
        """Long-poll for up to timeout_s seconds; [] when nothing came. Events whose message_id
        this client has already returned are dropped (unless dedupe=False)."""
        result = await self._call(
            "getUpdates",
            {"timeout": str(int(timeout_s))},
            timeout=timeout_s + self.poll_grace,
            empty_on_poll_timeout=True,
        )
        if result is None:
            return []
        items = result if isinstance(result, list) else [result]
        updates = [ZaloUpdate.from_json(item) for item in items if isinstance(item, Mapping) and item]
        if not (self.dedupe if dedupe is None else dedupe):
            return updates
        fresh: list[ZaloUpdate] = []
        for update in updates:
            if update.message_id and self.seen.check_and_add(update.message_id):
                log.info("zalo: dropped redelivered %s (message %s)", update.event_name, update.message_id)
                continue
            fresh.append(update)
        return fresh

    async def send_message(self, chat_id: str, text: str) -> ZaloSentMessage:
        """Send one text (1..2000 characters: use split_message for longer ones)."""
        result = await self._call("sendMessage", {"chat_id": str(chat_id), "text": text})
        return ZaloSentMessage.from_json(as_mapping(result))

    async def send_photo(self, chat_id: str, photo: str, caption: str | None = None) -> ZaloSentMessage:
        """Send an image by URL (the API takes a URL, not bytes), with an optional caption."""
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            raise ValueError("photo must be an http(s) URL: the Zalo Bot API does not take uploads")
        params: dict[str, Any] = {"chat_id": str(chat_id), "photo": photo}
        if caption:
            params["caption"] = caption
        return ZaloSentMessage.from_json(as_mapping(await self._call("sendPhoto", params)))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> bool:
        await self._call("sendChatAction", {"chat_id": str(chat_id), "action": action})
        return True

    async def set_webhook(self, url: str, secret_token: str) -> ZaloWebhookInfo:
        if not 8 <= len(secret_token) <= 256:
            raise ValueError("the webhook secret token must have 8 to 256 characters")
        result = await self._call("setWebhook", {"url": url, "secret_token": secret_token})
        return ZaloWebhookInfo.from_json(as_mapping(result))

    async def delete_webhook(self) -> ZaloWebhookInfo:
        return ZaloWebhookInfo.from_json(as_mapping(await self._call("deleteWebhook")))

    async def get_webhook_info(self) -> ZaloWebhookInfo:
        return ZaloWebhookInfo.from_json(as_mapping(await self._call("getWebhookInfo")))

    # -- transport -------------------------------------------------------------------------
    async def _call(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        empty_on_poll_timeout: bool = False,
    ) -> Any:
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            failure: ZaloError | None = None
            try:
                return await self._attempt(
                    method, params or {}, timeout or self.timeout, empty_on_poll_timeout
                )
            except _Retry as retry:
                failure = retry.error
            assert failure is not None
            if attempt + 1 >= attempts:
                raise failure  # outside the except block: no chained exception to carry the URL
            delay = min(self.backoff_max, self.backoff_base * 2**attempt)
            log.warning(
                "zalo %s failed (%s); retry %d/%d in %.2fs",
                method, failure, attempt + 1, self.max_retries, delay,
            )
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _attempt(
        self, method: str, params: Mapping[str, Any], timeout: float, empty_on_poll_timeout: bool
    ) -> Any:
        is_send = method in SEND_METHODS
        chat_id = as_str(params.get("chat_id"))
        client_timeout = aiohttp.ClientTimeout(total=timeout, connect=min(self.connect_timeout, timeout))

        def unknown(reason: str) -> ZaloDeliveryUnknown:
            return ZaloDeliveryUnknown(method, chat_id, self._redact(reason))

        # Exceptions are built from caught ones but raised after the except blocks, so that no
        # aiohttp exception (whose text may hold the URL, and so the token) is chained to them.
        failure: ZaloError | None = None
        retryable = False
        status, body, retry_after_header = 0, None, None
        try:
            async with self._get_session().post(
                self._url(method), json=dict(params), timeout=client_timeout
            ) as response:
                status = response.status
                retry_after_header = response.headers.get("Retry-After")
                try:
                    body = await response.json(content_type=None)
                except (ValueError, aiohttp.ClientPayloadError):
                    body = None
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # The connection was never made: nothing reached Zalo, a retry is safe.
            failure, retryable = ZaloNetworkError(method, self._describe(exc)), True
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = self._describe(exc)
            if is_send:  # the request may have reached Zalo: never repeat it
                failure = unknown(reason)
            else:
                failure, retryable = ZaloNetworkError(method, reason), True
        if failure is not None:
            raise _Retry(failure) if retryable else failure

        if not isinstance(body, Mapping):
            if status < 400:  # a 2xx (or 3xx) without a readable answer
                if is_send:
                    raise unknown(f"HTTP {status} with an unreadable answer")
                raise _Retry(ZaloNetworkError(method, f"HTTP {status} with an unreadable answer"))
            body = {}  # an HTTP error without a JSON body: judged by its status below

        if body.get("ok") is True and status < 400:
            return body.get("result")

        code = as_int(body.get("error_code"), status if status >= 400 else 0)
        description = self._redact(as_str(body.get("description"), f"HTTP {status}"))
        if code == POLL_TIMEOUT_CODE and empty_on_poll_timeout:
            return None
        if code == 401:
            raise ZaloUnauthorized(code, description, method)
        if code == 429:
            parameters = as_mapping(body.get("parameters"))
            retry_after = _float(parameters.get("retry_after"), _float(retry_after_header, 1.0))
            raise ZaloRetryAfter(code, description, method, retry_after)
        if code >= 500 or status >= 500:
            if is_send and (code == 504 or status == 504):
                raise unknown(f"{code} {description}")
            raise _Retry(ZaloServerError(code, description, method))
        raise ZaloApiError(code, description, method)

    def _describe(self, exc: BaseException) -> str:
        text = str(exc)
        return self._redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default
