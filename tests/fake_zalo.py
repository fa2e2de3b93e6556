"""A fake Zalo Bot Platform API server for the test suite (the style of fake_telegram, smaller).

An aiohttp application on 127.0.0.1 (a random port) serving ``{base}/bot{token}/{method}``:
requests are read as a JSON body (or a form, or the query string) and answered the way the
Zalo Bot API answers: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N,
"description": "..."}``::

    async with FakeZalo() as zalo:
        client = zalo.client()                          # a ZaloClient pointed at the fake
        event = zalo.user_sends_text("u1", "xin chào", display_name="Lan")
        [update] = await client.get_updates(1)
        await client.send_message(update.chat_id, "Chào Lan")
        msg = await zalo.wait_for_message("u1")          # SentMessage(chat_id, text, time, ...)

Delivery, as documented: getUpdates has no offset; each call long-polls (``timeout`` seconds,
default 30) and answers ONE event, the oldest not yet delivered, as ``result`` (an object, not
an array); once delivered an event is gone. With nothing to deliver it answers error 408
"Request timeout" (as public clients report). The real API may deliver an event again; tests
simulate it with ``zalo.redeliver(event)``, so the bot must deduplicate by message_id. While a
webhook is set, getUpdates is refused and events are POSTed to the webhook instead, one at a
time, with the ``X-Bot-Api-Secret-Token`` header, retried until the bot answers 2xx.

Assumptions where the documentation is silent (see bot/zalo/client.py): API errors are
answered with HTTP 200 and the code in the body (``errors_as_http_status=True`` answers them
with that HTTP status instead); 5xx faults always use the HTTP status; the descriptions of
errors are made up (Telegram-like); getUpdates while a webhook is set is error 409; the
webhook body is ``{"ok": true, "result": event}`` (``webhook_wrapped=False``: the bare event);
the webhook retry policy (every ``webhook_retry_delay`` seconds) is made up.

Ids are strings, as in Zalo (user ids are hex strings there; any string or int is accepted
here and turned into a string); in a private chat chat.id == from.id; ``date`` is in
milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import itertools
import json
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web

__all__ = [
    "DEFAULT_TOKEN",
    "MAX_TEXT_LENGTH",
    "WEBHOOK_SECRET_HEADER",
    "ApiError",
    "ChatAction",
    "FakeZalo",
    "RequestRecord",
    "SentMessage",
    "WebhookDelivery",
]

DEFAULT_TOKEN = "1234567890123456789:TestZaloAccessToken"  # {bot_id}:{access_token}
MAX_TEXT_LENGTH = 2000
WEBHOOK_SECRET_HEADER = "X-Bot-Api-Secret-Token"
CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
LOCAL_HTTP = ("http://127.0.0.1", "http://localhost", "http://[::1]")
DEFAULT_PHOTO = "https://photo.example.invalid/zalo/image.jpg"
# A picture the fake serves when a test sends one without saying which: a JPEG's first bytes.
DEFAULT_PHOTO_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8 + b"\xff\xd9"
DEFAULT_STICKER = "d063f44dc80821567819"

DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request timeout",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """An error answer: error_code, description, and (429) parameters.retry_after."""

    def __init__(
        self, error_code: int, description: str | None = None, retry_after: int | None = None
    ) -> None:
        self.error_code = error_code
        self.description = description or DESCRIPTIONS.get(error_code, f"Error {error_code}")
        self.retry_after = retry_after
        super().__init__(f"{error_code} {self.description}")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class SentMessage:
    """A message the bot sent: chat_id, text (a photo's caption), time (time.monotonic())."""

    chat_id: str
    text: str
    time: float
    message_id: str
    date: int  # milliseconds
    kind: str = "text"  # "text" or "photo"
    photo: str | None = None


@dataclass
class ChatAction:
    chat_id: str
    action: str
    time: float


@dataclass
class RequestRecord:
    """One API request: arrival time (time.monotonic()), method, chat_id, HTTP status (0 while
    being answered), error_code (0 when ok), description, params."""

    time: float
    method: str
    chat_id: str | None
    status: int = 0
    error_code: int = 0
    description: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error_code == 0


@dataclass
class WebhookDelivery:
    """One POST of an event to the webhook: HTTP status (0: no answer) and the error."""

    time: float
    message_id: str | None
    status: int
    error: str | None = None


@dataclass
class _Fault:
    method: str | None
    status: int | None  # None: answer normally (a delay only)
    description: str | None
    retry_after: int | None
    times: int | None
    delay: float
    delay_before: bool

    def matches(self, method: str) -> bool:
        return self.method is None or self.method.lower() == method.lower()


def _predicate_text(predicate: Callable[..., Any], message: str | None) -> str:
    if message:
        return message
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return repr(predicate)


class FakeZalo:
    """The fake Zalo Bot API, run in the test's event loop (``async with FakeZalo() as zalo``).

    strict_chats: refuse sends to chats no simulated user has written from.
    errors_as_http_status: answer API errors with their code as HTTP status (default: 200).
    webhook_wrapped: POST ``{"ok": true, "result": event}`` to the webhook (else the bare event).
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        account_name: str = "bot.kstthc_test",
        strict_chats: bool = False,
        errors_as_http_status: bool = False,
        webhook_wrapped: bool = True,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port
        self.strict_chats = strict_chats
        self.errors_as_http_status = errors_as_http_status
        self.webhook_wrapped = webhook_wrapped
        bot_id = token.split(":", 1)[0]
        self.bot_info: dict[str, Any] = {
            "id": bot_id if bot_id.isdigit() else "1234567890123456789",
            "account_name": account_name,
            "account_type": "BASIC",
            "can_join_groups": False,
        }
        # Observation
        self.sent: list[SentMessage] = []
        self.user_events: list[dict[str, Any]] = []
        self.delivered: list[dict[str, Any]] = []
        self.chat_actions: list[ChatAction] = []
        self.request_log: list[RequestRecord] = []
        self.webhook: dict[str, Any] | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.internal_errors: list[str] = []
        self.users: dict[str, str] = {}  # id -> display_name
        self.version = 0
        self.webhook_retry_delay = 0.2
        # Machinery
        self._queue: list[dict[str, Any]] = []
        self._faults: list[_Fault] = []
        self._ids = itertools.count(1)
        # Pictures users send, served at {base}/_photos/{name} as Zalo's own servers would.
        self.photos: dict[str, bytes] = {}
        self.photo_fetches: list[str] = []
        self._closing = False
        self._changed = asyncio.Event()
        self._new_events = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            name.lower(): getattr(self, f"_api_{name}")
            for name in (
                "getMe",
                "getUpdates",
                "sendMessage",
                "sendPhoto",
                "sendChatAction",
                "setWebhook",
                "deleteWebhook",
                "getWebhookInfo",
            )
        }
        self._method_names = {name: fn.__name__.removeprefix("_api_") for name, fn in self._methods.items()}

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> FakeZalo:
        self._closing = False
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/_photos/{name}", self._handle_photo)
        app.router.add_route("*", "/{tail:.*}", self._handle_not_found)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def close(self) -> None:
        self._closing = True
        self._pulse()
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> FakeZalo:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """The API base to give the client (KSTTHC_ZALO_API_BASE)."""
        return f"http://{self.host}:{self.port}"

    def api_url(self, method: str, token: str | None = None) -> str:
        return f"{self.base_url}/bot{token or self.token}/{method}"

    def env(self) -> dict[str, str]:
        """Environment variables pointing a `kstthc-bot` subprocess at this fake."""
        return {"KSTTHC_ZALO_TOKEN": self.token, "KSTTHC_ZALO_API_BASE": self.base_url,
                "KSTTHC_WEB_PORT": "0"}  # the bot's web desk on a port of its own

    def client(self, token: str | None = None, **kwargs: Any) -> Any:
        """A bot.zalo ZaloClient pointed at this fake (quick retries unless told otherwise)."""
        from bot.zalo.client import ZaloClient

        kwargs.setdefault("backoff_base", 0.01)
        return ZaloClient(token or self.token, api_base=self.base_url, **kwargs)

    # -- simulating users ------------------------------------------------------------------
    def user_sends_text(
        self, user_id: str | int, text: str, *, display_name: str | None = None
    ) -> dict[str, Any]:
        """A text from user_id in their private chat; returns the event (for redeliver)."""
        return self._user_event(user_id, display_name, "message.text.received", {"text": text})

    def user_sends_sticker(
        self, user_id: str | int, sticker: str = DEFAULT_STICKER, *, display_name: str | None = None
    ) -> dict[str, Any]:
        url = f"https://stickers.example.invalid/{sticker}.png"
        return self._user_event(
            user_id, display_name, "message.sticker.received", {"sticker": sticker, "url": url}
        )

    def user_sends_image(
        self,
        user_id: str | int,
        photo_url: str | None = None,
        caption: str | None = None,
        *,
        content: bytes | None = None,
        display_name: str | None = None,
    ) -> dict[str, Any]:
        """A picture: at `photo_url` as given, else served by this fake (`content`, or a small
        JPEG), as the Zalo Bot API passes on only the address of a picture."""
        if photo_url is None:
            name = f"{len(self.photos) + 1:06d}.jpg"
            self.photos[name] = DEFAULT_PHOTO_BYTES if content is None else content
            photo_url = f"{self.base_url}/_photos/{name}"
        fields: dict[str, Any] = {"photo_url": photo_url}
        if caption is not None:
            fields["caption"] = caption
        return self._user_event(user_id, display_name, "message.image.received", fields)

    def user_sends_unsupported(
        self, user_id: str | int, *, display_name: str | None = None
    ) -> dict[str, Any]:
        """E.g. a voice message or a file, which the Bot API does not pass on."""
        return self._user_event(user_id, display_name, "message.unsupported.received", {})

    def redeliver(self, event: dict[str, Any]) -> None:
        """Deliver an event (as returned by user_sends_*) again, as the real API may."""
        self._queue.append(copy.deepcopy(event))
        self._queue_changed()

    def enqueue_raw(self, event: dict[str, Any]) -> None:
        """Deliver any event object as it is."""
        self._queue.append(event)
        self._queue_changed()

    @property
    def pending_events(self) -> list[dict[str, Any]]:
        """Events not delivered yet, oldest first."""
        return list(self._queue)

    def _user_event(
        self, user_id: str | int, display_name: str | None, event_name: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        uid = str(user_id)
        if display_name is not None:
            self.users[uid] = display_name
        name = self.users.setdefault(uid, f"User {uid}")
        message = {
            "from": {"id": uid, "display_name": name, "is_bot": False},
            "chat": {"id": uid, "chat_type": "PRIVATE"},
            "message_id": self._new_message_id(),
            "date": int(time.time() * 1000),
            **fields,
        }
        event = {"message": message, "event_name": event_name}
        self.user_events.append(event)
        self._queue.append(copy.deepcopy(event))
        self._queue_changed()
        return event

    def _new_message_id(self) -> str:
        return f"{next(self._ids):08x}{int(time.time() * 1000) & 0xFFFFFFFFFFFF:012x}"

    # -- fault injection -------------------------------------------------------------------
    def fail_next(
        self,
        method: str | None = None,
        status: int = 500,
        times: int | None = 1,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """The next `times` requests of `method` (any if None) fail with error `status`, without
        being carried out (after `delay` seconds). times=None: until clear_faults()."""
        self._faults.append(_Fault(method, status, description, retry_after, times, delay, True))

    def delay_next(
        self, method: str | None, seconds: float, times: int | None = 1, *, before: bool = False
    ) -> None:
        """The next `times` requests of `method` are answered normally but `seconds` late. By
        default they are carried out at once and only the answer is late (a send that reached
        Zalo); before=True waits first."""
        self._faults.append(_Fault(method, None, None, None, times, seconds, before))

    def clear_faults(self) -> None:
        self._faults.clear()

    def _take_fault(self, method: str) -> _Fault | None:
        for fault in self._faults:
            if fault.matches(method):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    # -- observing -------------------------------------------------------------------------
    def messages_to(self, chat_id: str | int) -> list[SentMessage]:
        """The bot's messages (texts and photos) to a chat, oldest first."""
        cid = str(chat_id)
        return [m for m in self.sent if m.chat_id == cid]

    def texts_to(self, chat_id: str | int) -> list[str]:
        return [m.text for m in self.messages_to(chat_id)]

    def last_message_to(self, chat_id: str | int) -> SentMessage | None:
        messages = self.messages_to(chat_id)
        return messages[-1] if messages else None

    def requests(self, method: str | None = None) -> list[RequestRecord]:
        return [r for r in self.request_log if method is None or r.method.lower() == method.lower()]

    def request_count(self, method: str | None = None) -> int:
        return len(self.requests(method))

    def describe(self, last: int = 10) -> str:
        lines = [f"pending events: {len(self._queue)}; webhook: {self.webhook and self.webhook['url']}"]
        lines += [f"  sent to {m.chat_id}: {m.text[:80]!r}" for m in self.sent[-last:]]
        lines += [
            f"  {r.method} chat={r.chat_id} -> {r.status}/{r.error_code} {r.description or ''}"
            for r in self.request_log[-last:]
        ]
        lines += [f"  internal error: {e}" for e in self.internal_errors]
        return "\n".join(lines)

    async def wait_for(
        self, predicate: Callable[[FakeZalo], Any], timeout: float = 5.0, message: str | None = None
    ) -> Any:
        """Wait until predicate(self) is truthy (checked now and after each request, user action
        and webhook delivery) and return its value; AssertionError with the latest traffic on
        timeout. Exceptions in the predicate count as "not yet"."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        error: BaseException | None = None
        while True:
            changed = self._changed
            try:
                result = predicate(self)
            except Exception as exc:
                error, result = exc, None
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                text = f"timed out after {timeout:g}s waiting for: {_predicate_text(predicate, message)}"
                if error is not None:
                    text += f"\nlast predicate error: {type(error).__name__}: {error}"
                raise AssertionError(f"{text}\n{self.describe()}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    async def wait_for_message(
        self, chat_id: str | int, *, since: int = 0, contains: str | None = None, timeout: float = 5.0
    ) -> SentMessage:
        """The first bot message to chat_id at index >= since in messages_to(chat_id) whose text
        contains `contains`; waits for it."""

        def find(state: FakeZalo) -> SentMessage | None:
            for m in state.messages_to(chat_id)[since:]:
                if contains is None or contains in m.text:
                    return m
            return None

        what = f"a bot message #{since + 1}+ to chat {chat_id}"
        found: SentMessage = await self.wait_for(
            find, timeout, what + (f" containing {contains!r}" if contains is not None else "")
        )
        return found

    async def wait_for_request(self, method: str, count: int = 1, timeout: float = 5.0) -> RequestRecord:
        """Wait until `count` requests of `method` arrived; returns the count-th."""

        def find(state: FakeZalo) -> RequestRecord | None:
            found = state.requests(method)
            return found[count - 1] if len(found) >= count else None

        record: RequestRecord = await self.wait_for(find, timeout, f"{count} {method} request(s)")
        return record

    async def wait_until_delivered(self, timeout: float = 5.0) -> None:
        """Wait until every event has been delivered (getUpdates or webhook)."""
        await self.wait_for(lambda s: not s._queue, timeout, "all events delivered")

    # -- bookkeeping -----------------------------------------------------------------------
    def _notify(self) -> None:
        self.version += 1
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _pulse(self) -> None:
        new, self._new_events = self._new_events, asyncio.Event()
        new.set()

    def _queue_changed(self) -> None:
        self._pulse()
        self._notify()

    # -- HTTP ------------------------------------------------------------------------------
    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if not request.can_read_body:
            return params
        if request.content_type == "application/json":
            try:
                data = await request.json()
            except json.JSONDecodeError:
                raise _bad("can't parse JSON body") from None
            if not isinstance(data, dict):
                raise _bad("JSON body must be an object")
            params.update(data)
        elif request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            params.update((await request.post()).items())
        return params

    def _error_response(self, error: ApiError) -> web.Response:
        status = error.error_code if error.error_code >= 500 or self.errors_as_http_status else 200
        return web.json_response(error.body(), status=status)

    async def _handle_api(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        handler = self._methods.get(raw_method.lower())
        method = self._method_names.get(raw_method.lower(), raw_method)
        record = RequestRecord(time.monotonic(), method, None)
        self.request_log.append(record)
        response: web.Response
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401)
            params = await self._read_params(request)
            chat_id = params.get("chat_id")
            record.chat_id = None if chat_id is None else str(chat_id)
            record.params = {k: v for k, v in params.items() if isinstance(v, str | int | float | bool)}
            self._notify()
            fault = self._take_fault(method)
            if fault is not None and fault.delay and fault.delay_before:
                await asyncio.sleep(fault.delay)
            if fault is not None and fault.status is not None:
                raise ApiError(fault.status, fault.description, fault.retry_after)
            if handler is None:
                raise ApiError(404)
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
            body: dict[str, Any] = {"ok": True}
            if result is not None:
                body["result"] = result
            response = web.json_response(body)
            record.status = 200
            self._notify()
            if fault is not None and fault.delay and not fault.delay_before:
                await asyncio.sleep(fault.delay)  # carried out, answered late
        except ApiError as exc:
            response = self._error_response(exc)
            record.status, record.error_code = response.status, exc.error_code
            record.description = exc.description
        except Exception as exc:  # a bug in the fake: answer 500, and keep it
            self.internal_errors.append(f"{method}: {type(exc).__name__}: {exc}")
            traceback.print_exc()
            error = ApiError(500, f"Internal Server Error: fake_zalo: {type(exc).__name__}: {exc}")
            response = self._error_response(error)
            record.status, record.error_code, record.description = 500, 500, error.description
        self._notify()
        return response

    async def _handle_photo(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.photo_fetches.append(name)
        content = self.photos.get(name)
        if content is None:
            return web.Response(status=404)
        return web.Response(body=content, content_type="image/jpeg")

    async def _handle_not_found(self, request: web.Request) -> web.Response:
        return self._error_response(ApiError(404))

    # -- API methods -----------------------------------------------------------------------
    def _chat(self, params: dict[str, Any]) -> str:
        chat_id = params.get("chat_id")
        if chat_id is None or str(chat_id) == "":
            raise _bad("chat_id is required")
        cid = str(chat_id)
        if self.strict_chats and cid not in self.users:
            raise _bad("chat not found")
        return cid

    @staticmethod
    def _text(params: dict[str, Any], name: str, required: bool) -> str | None:
        value = params.get(name)
        if value is None:
            if required:
                raise _bad(f"{name} is required")
            return None
        text = value if isinstance(value, str) else str(value)
        if not 1 <= len(text) <= MAX_TEXT_LENGTH:
            raise _bad(f"{name} must be between 1 and {MAX_TEXT_LENGTH} characters")
        return text

    def _store(self, chat_id: str, text: str, kind: str = "text", photo: str | None = None) -> dict[str, Any]:
        message_id = self._new_message_id()
        date = int(time.time() * 1000)
        self.sent.append(SentMessage(chat_id, text, time.monotonic(), message_id, date, kind, photo))
        return {"message_id": message_id, "date": date}

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self.bot_info)

    async def _api_getUpdates(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: getUpdates is not available while a webhook is set")
        try:
            timeout = max(0.0, float(params.get("timeout", 30)))
        except (TypeError, ValueError):
            raise _bad("timeout must be a number of seconds") from None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._queue:
            new_events = self._new_events
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing or self.webhook is not None:
                raise ApiError(408)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(new_events.wait(), remaining)
        event = self._queue.pop(0)
        self.delivered.append(event)
        return event

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        text = self._text(params, "text", required=True)
        assert text is not None
        return self._store(chat_id, text)

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo.startswith(("http://", "https://")):
            raise _bad("photo must be an image URL")
        caption = self._text(params, "caption", required=False)
        return self._store(chat_id, caption or "", "photo", photo)

    def _api_sendChatAction(self, params: dict[str, Any]) -> None:
        chat_id = self._chat(params)
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise _bad("action must be one of: typing, upload_photo")
        self.chat_actions.append(ChatAction(chat_id, str(action), time.monotonic()))
        return None  # answered {"ok": true}, without a result

    def _api_setWebhook(self, params: dict[str, Any]) -> dict[str, Any]:
        url = params.get("url")
        secret = params.get("secret_token")
        if not isinstance(url, str) or not url.startswith(("https://", *LOCAL_HTTP)):
            raise _bad("url must be an HTTPS URL")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            raise _bad("secret_token must have 8 to 256 characters")
        self.webhook = {"url": url, "secret_token": secret, "updated_at": int(time.time() * 1000)}
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_to_webhook())
        self._pulse()  # a waiting long poll gives up
        return {"url": url, "updated_at": self.webhook["updated_at"]}

    def _api_deleteWebhook(self, params: dict[str, Any]) -> dict[str, Any]:
        self.webhook = None
        self._pulse()
        return {"url": "", "updated_at": int(time.time() * 1000)}

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.webhook is None:
            return {"url": "", "updated_at": 0}
        return {"url": self.webhook["url"], "updated_at": self.webhook["updated_at"]}

    async def _deliver_to_webhook(self) -> None:
        """Zalo's side of a webhook: POST each pending event, oldest first, with the secret
        header, until the bot answers 2xx; after a failure wait webhook_retry_delay and retry."""
        async with ClientSession(timeout=ClientTimeout(total=10)) as http:
            while self.webhook is not None and not self._closing:
                new_events = self._new_events
                if not self._queue:
                    await new_events.wait()
                    continue
                event, hook = self._queue[0], self.webhook
                payload = {"ok": True, "result": event} if self.webhook_wrapped else event
                headers = {"Content-Type": "application/json", WEBHOOK_SECRET_HEADER: hook["secret_token"]}
                error: str | None = None
                try:
                    async with http.post(hook["url"], data=json.dumps(payload), headers=headers) as response:
                        status = response.status
                        if not 200 <= status < 300:
                            error = f"webhook answered {status} {response.reason}"
                except (ClientError, TimeoutError) as exc:
                    status, error = 0, f"connection failed: {type(exc).__name__}"
                message_id = (event.get("message") or {}).get("message_id")
                self.webhook_deliveries.append(WebhookDelivery(time.monotonic(), message_id, status, error))
                if error is None:
                    if self._queue and self._queue[0] is event:
                        self._queue.pop(0)
                    self.delivered.append(event)
                self._notify()
                if error is not None:
                    await asyncio.sleep(self.webhook_retry_delay)
