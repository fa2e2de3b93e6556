"""A fake Telegram Bot API server for the test suite and the benchmarks.

It is a small aiohttp application on 127.0.0.1 that a real aiogram bot talks to through
``TelegramAPIServer.from_base(tg.base_url)``: ``{base}/bot{token}/{method}`` for the API and
``{base}/file/bot{token}/{path}`` for file downloads.  Requests are read the way Telegram reads
them (query string, ``application/x-www-form-urlencoded``, ``multipart/form-data`` or a JSON
body; nested values such as ``reply_markup`` JSON-encoded in form fields) and answered the way
Telegram answers (``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": ...,
"description": ..., "parameters": {...}}``), so aiogram raises its own exceptions
(TelegramRetryAfter, TelegramBadRequest, TelegramServerError, ...) as against the real API.

In process (the usual way)::

    async with FakeTelegram() as tg:
        async with tg.bot() as bot:               # a real aiogram Bot pointed at the fake
            ...
        tg.user_sends_text(42, "/start")           # an update for getUpdates
        msg = await tg.wait_for_message(42)        # the bot's reply (FakeMessage)

As a separate process (benchmarks, a real ``kstthc-bot run`` subprocess)::

    python -m tests.fake_telegram --port 0 --token 123456:TEST   # first stdout line: base URL

    with RemoteFakeTelegram.spawn() as tg:         # or RemoteFakeTelegram(url, token)
        tg.user_sends_text(42, "/start")           # same names, over a control endpoint
        msg = await tg.wait_for_message(42)

Predicates given to ``wait_for`` receive a state object with the same observation API in
both modes (``sent``, ``edits``, ``messages_to()``, ``request_log``, ...): the FakeTelegram
itself in process, a fresh ``StateSnapshot`` remotely.

With a webhook set (setWebhook; plain http is accepted for 127.0.0.1/localhost), pending
updates are POSTed to it one at a time with ``X-Telegram-Bot-Api-Secret-Token``, as Telegram
does, and retried until the bot answers 2xx (``tg.webhook_deliveries``).

The HTML check is deliberately a little stricter than Telegram: a bare ``&`` or ``>`` is
rejected too (Telegram shows them literally), so escaping bugs surface in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import bisect
import contextlib
import dataclasses
import inspect
import itertools
import json
import mimetypes
import os
import re
import select
import signal
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from aiohttp.web_request import FileField

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "CallbackAnswer",
    "ChatAction",
    "DocumentRecord",
    "EditRecord",
    "FakeMessage",
    "FakeTelegram",
    "HtmlParseError",
    "RemoteFakeTelegram",
    "RequestRecord",
    "StateSnapshot",
    "WebhookDelivery",
    "parse_telegram_html",
]

DEFAULT_TOKEN = "123456:TEST"
REPO = Path(__file__).resolve().parents[1]
MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
# getFile refuses bigger files: "Bad Request: file is too big" (the cloud Bot API's limit).
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024

STATUS_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# Plain-HTTP webhooks the fake accepts (Telegram wants HTTPS; tests run the bot locally).
LOCAL_HTTP = ("http://127.0.0.1", "http://localhost", "http://[::1]")
# Update types Telegram leaves out unless asked for by name in allowed_updates.
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status == error_code, a description, parameters."""

    def __init__(self, status: int, description: str | None = None, **parameters: Any) -> None:
        self.status = status
        self.description = description or STATUS_DESCRIPTIONS.get(status, f"Error {status}")
        self.parameters = {k: v for k, v in parameters.items() if v is not None}
        super().__init__(f"{status} {self.description}")

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


# --------------------------------------------------------------------------------------------
# Telegram HTML
# --------------------------------------------------------------------------------------------


class HtmlParseError(ValueError):
    """Text that Telegram would refuse with "can't parse entities"."""


_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)\s*(/?)>"
)
_ATTR_RE = re.compile(r"([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?")
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPECIAL = re.compile(r"[<>&]")
# Tag -> entity type, as in https://core.telegram.org/bots/api#html-style
HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "tg-emoji": "custom_emoji",
    "blockquote": "blockquote",
}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(match: re.Match[str], text: str) -> str:
    named, decimal, hexa = match.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(decimal) if decimal else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        offset = len(text[: match.start()].encode())
        raise HtmlParseError(f"Invalid character reference {match.group(0)!r} at byte offset {offset}")
    return chr(code)


def _unescape_strict(value: str, text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        j = value.find("&", i)
        if j < 0:
            out.append(value[i:])
            break
        out.append(value[i:j])
        m = _ENTITY_RE.match(value, j)
        if not m:
            raise HtmlParseError(f'Unescaped "&" in attribute value {value!r}: write it as &amp;')
        out.append(_decode_entity(m, text))
        i = m.end()
    return "".join(out)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def parse_telegram_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-style HTML into (plain text, entities with UTF-16 offsets).

    Raises HtmlParseError for anything Telegram refuses, and also for a bare ``&`` or ``>``.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, int, dict[str, Any] | None]] = []
    entities: list[dict[str, Any]] = []

    def byte_offset(index: int) -> int:
        return len(text[:index].encode())

    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG_RE.match(text, i)
            if not m:
                raise HtmlParseError(
                    f'Unexpected "<" at byte offset {byte_offset(i)}: not a tag; write it as &lt;'
                )
            closing, name, attrs_text, self_closing = m.group(1), m.group(2).lower(), m.group(3), m.group(4)
            if self_closing:
                raise HtmlParseError(f'Unsupported start tag "{name}/" at byte offset {byte_offset(i)}')
            if closing:
                if attrs_text.strip():
                    raise HtmlParseError(f'End tag "{name}" with attributes at byte offset {byte_offset(i)}')
                if not stack:
                    raise HtmlParseError(f'Unexpected end tag "{name}" at byte offset {byte_offset(i)}')
                open_name, start16, closed = stack.pop()
                if open_name != name:
                    raise HtmlParseError(
                        f'Can\'t find end tag corresponding to start tag "{open_name}" '
                        f'(found end tag "{name}" at byte offset {byte_offset(i)})'
                    )
                if closed is not None and pos16 > start16:
                    entities.append({"offset": start16, "length": pos16 - start16, **closed})
            else:
                if name not in HTML_TAGS:
                    raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset(i)}')
                attrs = {
                    a.group(1).lower(): _unescape_strict(_unquote(a.group(2) or ""), text)
                    for a in _ATTR_RE.finditer(attrs_text)
                }
                entity: dict[str, Any] | None = {"type": HTML_TAGS[name]}
                if name == "a":
                    href = attrs.get("href")
                    entity = {"type": "text_link", "url": href} if href else None
                elif name == "span" and attrs.get("class") != "tg-spoiler":
                    raise HtmlParseError(
                        f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(i)}'
                    )
                elif name == "tg-emoji":
                    if not attrs.get("emoji-id"):
                        raise HtmlParseError(
                            f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {byte_offset(i)}'
                        )
                    entity = {"type": "custom_emoji", "custom_emoji_id": attrs["emoji-id"]}
                elif name == "blockquote":
                    if any(open_name == "blockquote" for open_name, _, _ in stack):
                        raise HtmlParseError("Blockquote entities can't be nested")
                    if "expandable" in attrs:
                        entity = {"type": "expandable_blockquote"}
                elif name == "code" and stack and stack[-1][0] == "pre":
                    language = attrs.get("class", "")
                    pre_entity = stack[-1][2]
                    if language.startswith("language-") and pre_entity is not None:
                        pre_entity["language"] = language.removeprefix("language-")
                        entity = None
                stack.append((name, pos16, entity))
            i = m.end()
        elif ch == "&":
            m = _ENTITY_RE.match(text, i)
            if not m:
                raise HtmlParseError(
                    f'Unescaped "&" at byte offset {byte_offset(i)}: write it as &amp; '
                    "(only &lt; &gt; &amp; &quot; and numeric references are understood)"
                )
            decoded = _decode_entity(m, text)
            out.append(decoded)
            pos16 += utf16_len(decoded)
            i = m.end()
        elif ch == ">":
            raise HtmlParseError(f'Unescaped ">" at byte offset {byte_offset(i)}: write it as &gt;')
        else:
            m2 = _SPECIAL.search(text, i)
            j = m2.start() if m2 else len(text)
            out.append(text[i:j])
            pos16 += utf16_len(text[i:j])
            i = j
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


# --------------------------------------------------------------------------------------------
# Recorded state
# --------------------------------------------------------------------------------------------


@dataclass
class DocumentRecord:
    """A document the bot sent (sendDocument)."""

    chat_id: int
    message_id: int
    filename: str
    content: bytes
    caption: str | None
    parse_mode: str | None
    mime_type: str | None
    file_id: str
    file_unique_id: str
    time: float
    # What the update says the file weighs, when a test makes it differ from the content (a
    # 25 MB file without sending 25 MB); getFile goes by it too.
    declared_size: int | None = None

    @property
    def size(self) -> int:
        return len(self.content) if self.declared_size is None else self.declared_size


@dataclass
class FakeMessage:
    """A message in a chat: the bot's (``from_bot``) or a simulated user's.

    ``text`` is what the bot sent (with its HTML markup; the caption for a document) and is
    kept current by edits; ``plain_text``/``entities`` are what the user sees. ``time`` is
    ``time.monotonic()`` when it was stored, ``date`` the Unix time Telegram reports.
    """

    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None
    parse_mode: str | None
    time: float
    date: int
    from_bot: bool = True
    kind: str = "text"  # "text" or "document"
    plain_text: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)
    document: DocumentRecord | None = None
    user_id: int | None = None  # sender of a user message
    edit_count: int = 0
    edit_date: int | None = None
    deleted: bool = False

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline keyboard buttons, row by row, flattened."""
        markup = self.reply_markup or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    @property
    def button_texts(self) -> list[str]:
        return [str(button.get("text")) for button in self.buttons]

    def callback_data(self, button_text: str) -> str:
        """callback_data of the inline button whose text equals (or else contains) button_text."""
        buttons = [b for b in self.buttons if b.get("text") == button_text] or [
            b for b in self.buttons if button_text in str(b.get("text"))
        ]
        if not buttons or "callback_data" not in buttons[0]:
            raise LookupError(
                f"no callback button {button_text!r} in message {self.message_id}; "
                f"buttons: {self.button_texts}"
            )
        return str(buttons[0]["callback_data"])


@dataclass
class EditRecord:
    """One successful editMessageText / editMessageReplyMarkup."""

    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None
    parse_mode: str | None
    time: float
    old_text: str
    old_reply_markup: dict[str, Any] | None
    method: str = "editMessageText"


@dataclass
class CallbackAnswer:
    """An answerCallbackQuery, with the query it answered."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    time: float
    chat_id: int | None = None
    message_id: int | None = None
    data: str | None = None


@dataclass
class WebhookDelivery:
    """One POST of an update to the webhook: HTTP status (0: no answer) and Telegram's error."""

    time: float
    update_id: int
    status: int
    error: str | None = None


@dataclass
class ChatAction:
    chat_id: int
    action: str
    time: float


@dataclass
class RequestRecord:
    """One API request: arrival time (time.monotonic()), method, chat_id (if any), HTTP status
    (0 while the request is still being answered, e.g. a long poll)."""

    time: float
    method: str
    chat_id: int | str | None
    status: int
    description: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200


def scope_key(scope: dict[str, Any] | None) -> str:
    """ "default", "all_private_chats", "chat:42", "chat_member:-100:42" ..."""
    scope = scope or {"type": "default"}
    parts = [str(scope.get("type", "default"))]
    parts += [str(scope[key]) for key in ("chat_id", "user_id") if key in scope]
    return ":".join(parts)


class RecordedState:
    """What the fake has seen, and queries over it. Shared by FakeTelegram and StateSnapshot."""

    sent: list[FakeMessage]
    user_messages: list[FakeMessage]
    edits: list[EditRecord]
    documents: list[DocumentRecord]
    callback_answers: list[CallbackAnswer]
    chat_actions: list[ChatAction]
    commands: dict[tuple[str, str], list[dict[str, str]]]
    webhook: dict[str, Any] | None
    webhook_deliveries: list[WebhookDelivery]
    confirmed_offset: int
    delivered_update_id: int
    request_log: list[RequestRecord]
    dropped_updates: list[dict[str, Any]]
    pending_update_count: int
    version: int

    def _init_state(self) -> None:
        self.sent = []
        self.user_messages = []
        self.edits = []
        self.documents = []
        self.callback_answers = []
        self.chat_actions = []
        self.commands = {}
        self.webhook = None
        self.webhook_deliveries = []
        self.confirmed_offset = 0
        self.delivered_update_id = 0
        self.request_log = []
        self.dropped_updates = []
        self.pending_update_count = 0
        self.version = 0

    # -- messages
    def messages_to(self, chat_id: int, *, include_deleted: bool = False) -> list[FakeMessage]:
        """The bot's messages in a chat, oldest first (current text after edits)."""
        return [m for m in self.sent if m.chat_id == chat_id and (include_deleted or not m.deleted)]

    def last_message_to(self, chat_id: int) -> FakeMessage | None:
        messages = self.messages_to(chat_id)
        return messages[-1] if messages else None

    def message(self, chat_id: int, message_id: int) -> FakeMessage | None:
        for m in itertools.chain(reversed(self.sent), reversed(self.user_messages)):
            if m.chat_id == chat_id and m.message_id == message_id:
                return m
        return None

    def texts_to(self, chat_id: int) -> list[str]:
        return [m.text for m in self.messages_to(chat_id)]

    def edits_of(self, chat_id: int, message_id: int | None = None) -> list[EditRecord]:
        return [e for e in self.edits if e.chat_id == chat_id and message_id in (None, e.message_id)]

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[dict[str, str]]:
        """Commands set for a scope key (see scope_key) and language ("" = all languages)."""
        return self.commands.get((scope, language_code), [])

    # -- requests
    def requests(self, method: str | None = None, chat_id: int | None = None) -> list[RequestRecord]:
        return [
            r
            for r in self.request_log
            if (method is None or r.method.lower() == method.lower())
            and (chat_id is None or r.chat_id == chat_id)
        ]

    def request_count(self, method: str | None = None, *, status: int | None = None) -> int:
        return sum(1 for r in self.requests(method) if status is None or r.status == status)

    def send_times(
        self,
        chat_id: int | None = None,
        *,
        methods: tuple[str, ...] = ("sendMessage", "sendDocument"),
        ok_only: bool = False,
    ) -> list[float]:
        """Arrival times (time.monotonic()) of send requests to a chat (all chats if None)."""
        wanted = {m.lower() for m in methods}
        return [
            r.time
            for r in self.request_log
            if r.method.lower() in wanted
            and (chat_id is None or r.chat_id == chat_id)
            and (r.ok or not ok_only)
        ]

    def describe(self, last: int = 10) -> str:
        """A readable summary of the latest messages and failed requests, for failure reports."""
        lines = [f"last {min(last, len(self.sent))} of {len(self.sent)} bot messages:"]
        for m in self.sent[-last:]:
            flags = " [deleted]" if m.deleted else ""
            flags += f" [edited x{m.edit_count}]" if m.edit_count else ""
            flags += f" [document {m.document.filename}]" if m.document else ""
            buttons = f" buttons={m.button_texts}" if m.buttons else ""
            lines.append(f"  chat {m.chat_id} #{m.message_id}{flags}: {m.text!r}{buttons}")
        failed = [r for r in self.request_log if r.status not in (0, 200)][-5:]
        if failed:
            lines.append("failed requests:")
            lines += [f"  {r.method} chat={r.chat_id} -> {r.status} {r.description}" for r in failed]
        lines.append(
            f"confirmed_offset={self.confirmed_offset} delivered_update_id={self.delivered_update_id} "
            f"pending_updates={self.pending_update_count}"
        )
        return "\n".join(lines)


def _jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, bytes):
        return {"__b64__": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, FileField):
        return f"<file {value.filename}>"
    return value


def _unb64(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"__b64__"}:
        return base64.b64decode(value["__b64__"])
    return value


class StateSnapshot(RecordedState):
    """The recorded state of a fake in another process, as of one moment."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StateSnapshot:
        state = cls()
        state._init_state()
        documents: dict[str, DocumentRecord] = {}

        def document(d: dict[str, Any] | None) -> DocumentRecord | None:
            if d is None:
                return None
            record = documents.get(d["file_unique_id"])
            if record is None:
                record = DocumentRecord(**{**d, "content": _unb64(d["content"])})
                documents[record.file_unique_id] = record
            return record

        def message(d: dict[str, Any]) -> FakeMessage:
            return FakeMessage(**{**d, "document": document(d.get("document"))})

        state.documents = [r for r in (document(d) for d in data["documents"]) if r]
        state.sent = [message(d) for d in data["sent"]]
        state.user_messages = [message(d) for d in data["user_messages"]]
        state.edits = [EditRecord(**d) for d in data["edits"]]
        state.callback_answers = [CallbackAnswer(**d) for d in data["callback_answers"]]
        state.chat_actions = [ChatAction(**d) for d in data["chat_actions"]]
        state.commands = {(scope, lang): cmds for scope, lang, cmds in data["commands"]}
        state.request_log = [RequestRecord(**d) for d in data["request_log"]]
        state.webhook_deliveries = [WebhookDelivery(**d) for d in data["webhook_deliveries"]]
        for key in (
            "webhook",
            "confirmed_offset",
            "delivered_update_id",
            "dropped_updates",
            "pending_update_count",
            "version",
        ):
            setattr(state, key, data[key])
        return state


STATE_ATTRIBUTES = frozenset(
    name
    for name in itertools.chain(RecordedState.__annotations__, vars(RecordedState))
    if not name.startswith("_")
)


class _Waiting:
    """wait_for helpers built on wait_for(predicate); shared by the local and remote fakes."""

    async def wait_for(
        self, predicate: Callable[[Any], Any], timeout: float = 5.0, message: str | None = None
    ) -> Any:
        raise NotImplementedError

    async def wait_for_message(
        self,
        chat_id: int,
        *,
        since: int = 0,
        contains: str | None = None,
        timeout: float = 5.0,
    ) -> FakeMessage:
        """The first bot message in chat_id at index >= since (in messages_to, deleted ones
        included) whose text contains `contains`; waits for it."""

        def find(state: RecordedState) -> FakeMessage | None:
            for m in state.messages_to(chat_id, include_deleted=True)[since:]:
                if contains is None or contains in m.text:
                    return m
            return None

        what = f"a bot message #{since + 1}+ to chat {chat_id}"
        message: FakeMessage = await self.wait_for(
            find, timeout, what + (f" containing {contains!r}" if contains is not None else "")
        )
        return message

    async def wait_until_confirmed(self, update_id: int, timeout: float = 5.0) -> None:
        """Wait until the bot confirmed update_id through getUpdates' offset."""
        await self.wait_for(
            lambda s: s.confirmed_offset >= update_id, timeout, f"update {update_id} confirmed"
        )

    async def wait_for_request(self, method: str, count: int = 1, timeout: float = 5.0) -> RequestRecord:
        """Wait until `count` requests of `method` arrived; returns the count-th."""

        def find(state: RecordedState) -> RequestRecord | None:
            found = state.requests(method)
            return found[count - 1] if len(found) >= count else None

        record: RequestRecord = await self.wait_for(find, timeout, f"{count} {method} request(s)")
        return record


def _predicate_text(predicate: Callable[..., Any], message: str | None) -> str:
    if message:
        return message
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return repr(predicate)


def _timeout_report(state: RecordedState, what: str, timeout: float, error: BaseException | None) -> str:
    text = f"timed out after {timeout:g}s waiting for: {what}\n{state.describe()}"
    if error is not None:
        text += f"\nlast predicate error: {type(error).__name__}: {error}"
    return text


# --------------------------------------------------------------------------------------------
# Request parameters
# --------------------------------------------------------------------------------------------


def _param_int(params: dict[str, Any], name: str, default: int | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad(f"wrong parameter {name} in request: expected an integer") from None


def _param_str(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, FileField):
        raise _bad(f"parameter {name} must be a string")
    return value if isinstance(value, str) else json.dumps(value)


def _param_bool(params: dict[str, Any], name: str) -> bool:
    value = params.get(name)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def _param_json(params: dict[str, Any], name: str, error: str | None = None) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise _bad(error or f"can't parse {name} JSON object") from None
    return value


def _chat_id_of(params: dict[str, Any]) -> int | str | None:
    value = params.get("chat_id")
    if value is None or isinstance(value, FileField):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


@dataclass
class _Fault:
    method: str | None
    status: int | None
    description: str | None
    retry_after: int | None
    times: int | None
    chat_id: int | None
    delay: float
    garbled: bool = False  # answered 200 with a body that is not JSON (a proxy's error page)

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        return (self.method is None or self.method.lower() == method.lower()) and (
            self.chat_id is None or self.chat_id == chat_id
        )


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeTelegram(RecordedState, _Waiting):
    """The fake Bot API server, run in the test's event loop (``async with FakeTelegram()``).

    strict_chats: refuse sends to chats no simulated user has written from ("chat not found").
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str = "kstthc_test_bot",
        bot_first_name: str = "KSTTHC Test Bot",
        first_update_id: int = 1,
        strict_chats: bool = False,
    ) -> None:
        self._init_state()
        self.token = token
        self.host = host
        self.port = port
        self.strict_chats = strict_chats
        bot_id = token.split(":", 1)[0]
        self.bot_id = int(bot_id) if bot_id.isdigit() else 123456
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.users: dict[int, dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.internal_errors: list[str] = []
        self._queue: list[dict[str, Any]] = []
        self._next_update_id = first_update_id
        self._last_update_id = first_update_id - 1
        self._allowed_updates: set[str] | None = None
        self._messages: dict[tuple[int, int], FakeMessage] = {}
        self._next_message_id: dict[int, int] = {}
        self._callback_queries: dict[str, dict[str, Any]] = {}
        self._callback_seq = itertools.count(1)
        self._file_seq = itertools.count(1)
        self._files_by_id: dict[str, DocumentRecord] = {}
        self._files_by_path: dict[str, DocumentRecord] = {}
        self._faults: list[_Fault] = []
        self._poll_serial = 0
        self._closing = False
        self._changed = asyncio.Event()
        self._new_updates = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.webhook_retry_delay = 0.2
        # Seconds a file download (/file/…) takes, served in pieces over that time: a slow
        # network. Each download's (start, end) in time.monotonic() is kept, end once served.
        self.file_delay = 0.0
        self.file_downloads: list[tuple[float, float]] = []
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            name.lower(): getattr(self, f"_api_{name}")
            for name in (
                "getMe",
                "getUpdates",
                "sendMessage",
                "editMessageText",
                "editMessageReplyMarkup",
                "deleteMessage",
                "answerCallbackQuery",
                "setMyCommands",
                "getMyCommands",
                "deleteMyCommands",
                "sendDocument",
                "sendPhoto",
                "getFile",
                "sendChatAction",
                "setWebhook",
                "deleteWebhook",
                "getWebhookInfo",
            )
        }
        self._method_names = {name: fn.__name__.removeprefix("_api_") for name, fn in self._methods.items()}

    # -- lifecycle -------------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("POST", "/_fake/call", self._handle_control)
        app.router.add_route("GET", "/_fake/state", self._handle_state)
        app.router.add_route("*", "/{tail:.*}", self._handle_not_found)
        return app

    async def start(self) -> FakeTelegram:
        self._closing = False
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def close(self) -> None:
        self._closing = True
        self._pulse_updates()
        self._notify()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """What to give TelegramAPIServer.from_base (or KSTTHC_TELEGRAM_API_BASE)."""
        return f"http://{self.host}:{self.port}"

    def api_url(self, method: str, token: str | None = None) -> str:
        return f"{self.base_url}/bot{token or self.token}/{method}"

    def env(self) -> dict[str, str]:
        """Environment variables pointing a `kstthc-bot` subprocess at this fake."""
        return {"KSTTHC_TELEGRAM_TOKEN": self.token, "KSTTHC_TELEGRAM_API_BASE": self.base_url,
                "KSTTHC_WEB_PORT": "0"}  # the bot's web desk on a port of its own

    def bot(self, token: str | None = None, **kwargs: Any) -> Any:
        """A real aiogram Bot talking to this fake; use as ``async with tg.bot() as bot``."""
        return _make_bot(self.base_url, token or self.token, **kwargs)

    # -- simulating users ------------------------------------------------------------------
    def user_sends_text(
        self,
        user_id: int,
        text: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> int:
        """A private-chat message from user_id (chat.id == user.id); returns its update_id."""
        user = self._user(user_id, first_name, last_name, username, language_code)
        self.blocked.discard(user_id)
        message_id = self._new_message_id(user_id)
        now = int(time.time())
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": user,
            "chat": self._chat_json(user_id),
            "date": now,
            "text": text,
        }
        entities: list[dict[str, Any]] = []
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0] if text.strip() else text
            entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
            message["entities"] = entities
        stored = FakeMessage(
            chat_id=user_id,
            message_id=message_id,
            text=text,
            reply_markup=None,
            parse_mode=None,
            time=time.monotonic(),
            date=now,
            from_bot=False,
            plain_text=text,
            entities=entities,
            user_id=user_id,
        )
        self._messages[(user_id, message_id)] = stored
        self.user_messages.append(stored)
        return self._enqueue({"message": message})

    def user_sends_document(
        self,
        user_id: int,
        filename: str,
        content: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        declared_size: int | None = None,
        with_size: bool = True,
        first_name: str | None = None,
    ) -> int:
        """A file sent as a document from user_id's private chat (the bot fetches it with getFile
        and /file/bot<token>/<path>); returns the update_id. `with_size=False` leaves file_size
        out of the update (it is optional in the Bot API)."""
        record = self._user_file(user_id, filename, _unb64(content), mime_type, declared_size)
        document: dict[str, Any] = {"file_id": record.file_id, "file_unique_id": record.file_unique_id,
                                    "file_name": filename, "mime_type": record.mime_type}
        if with_size:
            document["file_size"] = record.size
        return self._user_file_message(user_id, record, {"document": document}, caption, first_name)

    def user_sends_photo(
        self, user_id: int, content: bytes, *, caption: str | None = None, first_name: str | None = None
    ) -> int:
        """A photo from user_id: as Telegram does, in several sizes, a small thumbnail (whose bytes
        are not the picture) first and the full picture (`content`) last; returns the update_id."""
        content = _unb64(content)
        thumbnail = self._user_file(user_id, "thumb.jpg", b"thumbnail:" + content[:32], "image/jpeg", None)
        record = self._user_file(user_id, "photo.jpg", content, "image/jpeg", None)
        sizes = [{"file_id": f.file_id, "file_unique_id": f.file_unique_id, "width": w, "height": h,
                  "file_size": f.size} for f, w, h in ((thumbnail, 90, 68), (record, 1280, 960))]
        return self._user_file_message(user_id, record, {"photo": sizes}, caption, first_name)

    def _user_file(self, user_id: int, filename: str, content: bytes, mime_type: str | None,
                   declared_size: int | None) -> DocumentRecord:
        seq = next(self._file_seq)
        record = DocumentRecord(
            chat_id=user_id, message_id=0, filename=filename, content=content, caption=None,
            parse_mode=None,
            mime_type=mime_type or mimetypes.guess_type(filename)[0] or "application/octet-stream",
            file_id=f"BQACAgIAAxkBAAU{seq:08d}", file_unique_id=f"AgAU{seq:08d}", time=time.monotonic(),
            declared_size=declared_size)
        self._files_by_id[record.file_id] = record
        return record

    def _user_file_message(self, user_id: int, record: DocumentRecord, fields: dict[str, Any],
                           caption: str | None, first_name: str | None) -> int:
        user = self._user(user_id, first_name, None, None, None)
        self.blocked.discard(user_id)
        message_id = self._new_message_id(user_id)
        record.message_id = message_id
        now = int(time.time())
        message: dict[str, Any] = {"message_id": message_id, "from": user, "chat": self._chat_json(user_id),
                                   "date": now, **fields}
        if caption:
            message["caption"] = caption
        stored = FakeMessage(chat_id=user_id, message_id=message_id, text=caption or "", reply_markup=None,
                             parse_mode=None, time=time.monotonic(), date=now, from_bot=False,
                             kind="document", plain_text=caption or "", document=record, user_id=user_id)
        self._messages[(user_id, message_id)] = stored
        self.user_messages.append(stored)
        return self._enqueue({"message": message})

    def user_presses_button(
        self,
        user_id: int,
        message_id: int,
        callback_data: str,
        *,
        strict: bool = True,
        first_name: str | None = None,
    ) -> int:
        """A callback_query from user_id on the bot's message message_id in their private chat.

        With strict (the default) the message must currently show a button with that
        callback_data, as for a real user; strict=False forges any data. Returns the update_id.
        """
        user = self._user(user_id, first_name, None, None, None)
        msg = self._messages.get((user_id, message_id))
        if msg is None or msg.deleted or not msg.from_bot:
            raise LookupError(f"no bot message {message_id} in chat {user_id}")
        if strict and callback_data not in [b.get("callback_data") for b in msg.buttons]:
            raise ValueError(
                f"message {message_id} in chat {user_id} has no button with callback_data "
                f"{callback_data!r}; buttons: {msg.buttons}"
            )
        query_id = str(4_000_000_000_000_000 + next(self._callback_seq))
        self._callback_queries[query_id] = {
            "answered": False,
            "chat_id": user_id,
            "message_id": message_id,
            "data": callback_data,
        }
        query = {
            "id": query_id,
            "from": user,
            "message": self._message_json(msg),
            "chat_instance": str(-(10**17) - user_id),
            "data": callback_data,
        }
        return self._enqueue({"callback_query": query})

    def press(self, user_id: int, button_text: str, message_id: int | None = None) -> int:
        """Press the inline button labelled button_text on a bot message (the latest by default)."""
        msg = self.message(user_id, message_id) if message_id else self.last_message_to(user_id)
        if msg is None:
            raise LookupError(f"no bot message {message_id or ''} in chat {user_id}")
        return self.user_presses_button(user_id, msg.message_id, msg.callback_data(button_text))

    def enqueue_raw(self, update: dict[str, Any]) -> int:
        """Queue any update dict as is; an update_id is assigned unless it has one."""
        update = dict(update)
        if "update_id" in update:
            update_id = int(update["update_id"])
            self._last_update_id = max(self._last_update_id, update_id)
            self._next_update_id = max(self._next_update_id, update_id + 1)
            self._queue.append(update)
            self._queue.sort(key=lambda u: int(u["update_id"]))
            self._queue_changed()
            return update_id
        return self._enqueue(update)

    def user_blocks_bot(self, user_id: int) -> None:
        """Sends to this chat now fail with 403 "Forbidden: bot was blocked by the user"."""
        self.blocked.add(user_id)
        self._notify()

    def user_unblocks_bot(self, user_id: int) -> None:
        self.blocked.discard(user_id)
        self._notify()

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by getUpdates' offset."""
        return list(self._queue)

    def pending_after(self, update_id: int) -> list[dict[str, Any]]:
        """The pending updates newer than `update_id` (the queue is kept in update_id order):
        what a test feeding the bot itself takes next, without copying all that went before."""
        return self._queue[bisect.bisect_right(self._queue, update_id, key=lambda u: int(u["update_id"])):]

    # -- fault injection -------------------------------------------------------------------
    def fail_next(
        self,
        method: str | None = None,
        status: int = 429,
        retry_after: int | None = 2,
        times: int | None = 1,
        *,
        description: str | None = None,
        chat_id: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """The next `times` requests of `method` (any if None; only to chat_id if given) fail
        with `status`, without being carried out. 429 carries parameters.retry_after; other
        statuses carry Telegram's default description unless given. times=None: until
        clear_faults(). delay: seconds to wait before answering."""
        if description is None:
            description = STATUS_DESCRIPTIONS.get(status, f"Error {status}")
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
        self._faults.append(
            _Fault(method, status, description, retry_after if status == 429 else None, times, chat_id, delay)
        )

    def garble_next(self, method: str | None, times: int | None = 1, *, chat_id: int | None = None) -> None:
        """The next `times` requests of `method` are carried out, but answered with a body the
        client cannot decode (HTML, as a proxy in front of the Bot API may answer)."""
        self._faults.append(_Fault(method, None, None, None, times, chat_id, 0.0, garbled=True))

    def delay_next(self, method: str | None, seconds: float, times: int | None = 1, *,
                   chat_id: int | None = None) -> None:
        """The next `times` requests of `method` (only to chat_id if given) are answered
        normally, but `seconds` late."""
        self._faults.append(_Fault(method, None, None, None, times, chat_id, seconds))

    def clear_faults(self) -> None:
        self._faults.clear()

    def _take_fault(self, method: str, chat_id: int | str | None) -> _Fault | None:
        for fault in self._faults:
            if fault.matches(method, chat_id):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    # -- waiting ---------------------------------------------------------------------------
    async def wait_for(
        self, predicate: Callable[[Any], Any], timeout: float = 5.0, message: str | None = None
    ) -> Any:
        """Wait until predicate(self) is truthy (checked now, after each API request and each
        simulated user action) and return its value; AssertionError with the latest messages
        on timeout. Exceptions in the predicate count as "not yet"."""
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
                raise AssertionError(
                    _timeout_report(self, _predicate_text(predicate, message), timeout, error)
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    # -- state bookkeeping -----------------------------------------------------------------
    def _notify(self) -> None:
        self.version += 1
        self.pending_update_count = len(self._queue)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _pulse_updates(self) -> None:
        new, self._new_updates = self._new_updates, asyncio.Event()
        new.set()

    def _queue_changed(self) -> None:
        self._pulse_updates()
        self._notify()

    def _enqueue(self, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._last_update_id = update_id
        self._queue.append({"update_id": update_id, **payload})
        self._queue_changed()
        return update_id

    def _user(
        self,
        user_id: int,
        first_name: str | None,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> dict[str, Any]:
        user = self.users.setdefault(
            user_id, {"id": user_id, "is_bot": False, "first_name": first_name or f"User{user_id}"}
        )
        for key, value in (
            ("first_name", first_name),
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        return dict(user)

    def _chat_json(self, chat_id: int) -> dict[str, Any]:
        if chat_id > 0:
            user = self.users.get(chat_id, {"first_name": f"User{chat_id}"})
            chat = {"id": chat_id, "type": "private"}
            chat.update({k: user[k] for k in ("first_name", "last_name", "username") if k in user})
            return chat
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _message_json(self, msg: FakeMessage) -> dict[str, Any]:
        sender = self.bot_user if msg.from_bot else self.users.get(msg.user_id or msg.chat_id)
        data: dict[str, Any] = {
            "message_id": msg.message_id,
            "from": {
                k: v
                for k, v in (sender or {}).items()
                if k in ("id", "is_bot", "first_name", "last_name", "username", "language_code")
            },
            "chat": self._chat_json(msg.chat_id),
            "date": msg.date,
        }
        if msg.edit_date:
            data["edit_date"] = msg.edit_date
        if msg.kind == "document" and msg.document is not None:
            doc = msg.document
            data["document"] = {
                "file_id": doc.file_id,
                "file_unique_id": doc.file_unique_id,
                "file_name": doc.filename,
                "mime_type": doc.mime_type or "application/octet-stream",
                "file_size": doc.size,
            }
            if msg.plain_text:
                data["caption"] = msg.plain_text
                if msg.entities:
                    data["caption_entities"] = msg.entities
        else:
            data["text"] = msg.plain_text
            if msg.entities:
                data["entities"] = msg.entities
        if msg.reply_markup and "inline_keyboard" in msg.reply_markup:
            data["reply_markup"] = msg.reply_markup
        return data

    # -- HTTP handlers ---------------------------------------------------------------------
    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if not request.can_read_body:
            return params
        content_type = request.content_type
        try:
            if content_type == "application/json":
                data = await request.json()
                if not isinstance(data, dict):
                    raise _bad("JSON body must be an object")
                params.update(data)
            elif content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
                post = await request.post()
                params.update(post.items())
        except web.HTTPRequestEntityTooLarge:
            raise ApiError(413) from None
        except json.JSONDecodeError:
            raise _bad("can't parse JSON body") from None
        return params

    async def _handle_api(self, request: web.Request) -> web.Response:
        raw_method = request.match_info["method"]
        handler = self._methods.get(raw_method.lower())
        method = self._method_names.get(raw_method.lower(), raw_method)
        # Logged on arrival with status 0 ("in progress"), completed when answered.
        record = RequestRecord(time.monotonic(), method, None, 0)
        self.request_log.append(record)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401)
            params = await self._read_params(request)
            record.chat_id = _chat_id_of(params)
            record.params = _jsonable(params)
            self._notify()
            fault = self._take_fault(method, record.chat_id)
            if fault is not None:
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.status is not None:
                    raise ApiError(fault.status, fault.description, retry_after=fault.retry_after)
            if handler is None:
                raise ApiError(404)
            result = handler(params)
            if inspect.isawaitable(result):
                result = await result
            if fault is not None and fault.garbled:
                record.status = 200
                self._notify()
                return web.Response(text="<html><body>502 Bad Gateway</body></html>",
                                    content_type="text/html")
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status, body, record.description = exc.status, exc.body(), exc.description
        except Exception as exc:  # a bug in the fake: answer like Telegram's 500, and keep it
            self.internal_errors.append(f"{method}: {type(exc).__name__}: {exc}")
            traceback.print_exc()
            error = ApiError(500, f"Internal Server Error: fake_telegram: {type(exc).__name__}: {exc}")
            status, body, record.description = 500, error.body(), error.description
        record.status = status
        self._notify()
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401).body(), status=401)
        record = self._files_by_path.get(request.match_info["path"])
        if record is None:
            return web.json_response(ApiError(404).body(), status=404)
        media_type = record.mime_type or "application/octet-stream"
        if not self.file_delay:
            return web.Response(body=record.content, content_type=media_type)
        started = time.monotonic()
        response = web.StreamResponse(headers={"Content-Type": media_type})
        response.content_length = len(record.content)
        await response.prepare(request)
        pieces = 10
        step = -(-len(record.content) // pieces)
        for offset in range(0, len(record.content), step):
            await asyncio.sleep(self.file_delay / pieces)
            await response.write(record.content[offset:offset + step])
        await response.write_eof()
        self.file_downloads.append((started, time.monotonic()))
        return response

    async def _handle_not_found(self, request: web.Request) -> web.Response:
        return web.json_response(ApiError(404).body(), status=404)

    CONTROL_OPS = frozenset(
        {
            "user_sends_text",
            "user_presses_button",
            "press",
            "user_sends_document",
            "user_sends_photo",
            "enqueue_raw",
            "user_blocks_bot",
            "user_unblocks_bot",
            "fail_next",
            "delay_next",
            "garble_next",
            "clear_faults",
            "pending_updates",
        }
    )

    async def _handle_control(self, request: web.Request) -> web.Response:
        data = await request.json()
        op = data.get("op")
        if op not in self.CONTROL_OPS:
            return web.json_response(
                {"ok": False, "error": "ValueError", "message": f"unknown op {op!r}"}, status=400
            )
        try:
            target = getattr(self, op)
            result = target(*data.get("args", []), **data.get("kwargs", {})) if callable(target) else target
        except Exception as exc:
            return web.json_response(
                {"ok": False, "error": type(exc).__name__, "message": str(exc)}, status=400
            )
        return web.json_response({"ok": True, "result": result})

    async def _handle_state(self, request: web.Request) -> web.Response:
        after = int(request.query.get("after", "-1"))
        timeout = float(request.query.get("timeout", "0"))
        deadline = time.monotonic() + timeout
        while self.version <= after and not self._closing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return web.json_response(self.state_json())

    def state_json(self) -> dict[str, Any]:
        """The recorded state as JSON (what StateSnapshot.from_json reads)."""
        data = {
            name: _jsonable(getattr(self, name))
            for name in (
                "sent",
                "user_messages",
                "edits",
                "documents",
                "callback_answers",
                "chat_actions",
                "webhook_deliveries",
                "request_log",
                "webhook",
                "confirmed_offset",
                "delivered_update_id",
                "dropped_updates",
                "pending_update_count",
                "version",
            )
        }
        data["commands"] = [[scope, lang, cmds] for (scope, lang), cmds in self.commands.items()]
        return data

    # -- common checks ---------------------------------------------------------------------
    def _target_chat(self, params: dict[str, Any]) -> int:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        chat_id = _chat_id_of(params)
        if not isinstance(chat_id, int) or chat_id == 0:
            raise _bad("chat not found")
        if self.strict_chats and chat_id not in self.users:
            raise _bad("chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    @staticmethod
    def _render(
        text: str, parse_mode: str | None, params: dict[str, Any], entities_key: str
    ) -> tuple[str, list[dict[str, Any]]]:
        if not parse_mode:
            entities = _param_json(params, entities_key) or []
            return text, entities
        mode = parse_mode.lower()
        if mode == "html":
            try:
                return parse_telegram_html(text)
            except HtmlParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
        if mode in ("markdown", "markdownv2"):
            return text, []
        raise _bad("unsupported parse_mode")

    @staticmethod
    def _markup(params: dict[str, Any]) -> dict[str, Any] | None:
        markup = _param_json(params, "reply_markup", "can't parse reply keyboard markup JSON object")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                        raise _bad("can't parse inline keyboard button: Text is not specified")
                    if len(button) < 2:
                        raise _bad(
                            "can't parse inline keyboard button: Text buttons are unallowed "
                            "in the inline keyboard"
                        )
                    if "callback_data" in button:
                        data = button["callback_data"]
                        size = len(str(data).encode())
                        if not isinstance(data, str) or not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                            raise _bad("BUTTON_DATA_INVALID")
        return markup

    def _own_message(self, params: dict[str, Any], missing: str) -> FakeMessage:
        if params.get("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat_id = self._target_chat(params)
        message_id = _param_int(params, "message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        msg = self._messages.get((chat_id, message_id))
        if msg is None or msg.deleted:
            raise _bad(missing)
        return msg

    def _store_bot_message(self, chat_id: int, **fields: Any) -> FakeMessage:
        msg = FakeMessage(
            chat_id=chat_id,
            message_id=self._new_message_id(chat_id),
            time=time.monotonic(),
            date=int(time.time()),
            **fields,
        )
        self._messages[(chat_id, msg.message_id)] = msg
        self.sent.append(msg)
        return msg

    # -- API methods -----------------------------------------------------------------------
    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(self.bot_user)

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _param_int(params, "offset", 0) or 0
        limit = min(max(_param_int(params, "limit", 100) or 100, 1), 100)
        timeout = max(_param_int(params, "timeout", 0) or 0, 0)
        allowed = _param_json(params, "allowed_updates")
        if allowed is not None:
            self._allowed_updates = set(allowed) or None
        self._confirm(offset)
        self._poll_serial += 1
        serial = self._poll_serial
        self._pulse_updates()  # an older long poll is now "terminated by other getUpdates request"
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            new_updates = self._new_updates
            self._drop_disallowed()
            batch = [u for u in self._queue if u["update_id"] >= offset][:limit]
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(new_updates.wait(), remaining)
            if self._poll_serial != serial:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that "
                    "only one bot instance is running",
                )
        if batch:
            self.delivered_update_id = max(self.delivered_update_id, batch[-1]["update_id"])
        return batch

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
            self.confirmed_offset = max(self.confirmed_offset, min(offset - 1, self._last_update_id))
        elif offset < 0:
            keep = -offset
            if len(self._queue) > keep:
                dropped = self._queue[:-keep]
                self._queue = self._queue[-keep:]
                self.confirmed_offset = max(self.confirmed_offset, dropped[-1]["update_id"])

    def _drop_disallowed(self) -> None:
        kept: list[dict[str, Any]] = []
        for update in self._queue:
            kind = next((k for k in update if k != "update_id"), "")
            allowed = (
                (kind not in OPT_IN_UPDATES)
                if self._allowed_updates is None
                else (kind in self._allowed_updates)
            )
            (kept if allowed else self.dropped_updates).append(update)
        self._queue = kept

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        text = _param_str(params, "text") or ""
        parse_mode = _param_str(params, "parse_mode")
        plain, entities = self._render(text, parse_mode, params, "entities")
        if not plain.strip():
            raise _bad("message text is empty")
        if len(plain) > MAX_MESSAGE_LENGTH:
            raise _bad("message is too long")
        markup = self._markup(params)
        msg = self._store_bot_message(
            chat_id,
            text=text,
            reply_markup=markup,
            parse_mode=parse_mode,
            plain_text=plain,
            entities=entities,
        )
        return self._message_json(msg)

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._own_message(params, "message to edit not found")
        if not msg.from_bot:
            raise _bad("message can't be edited")
        if msg.kind != "text":
            raise _bad("there is no text in the message to edit")
        text = _param_str(params, "text") or ""
        parse_mode = _param_str(params, "parse_mode")
        plain, entities = self._render(text, parse_mode, params, "entities")
        if not plain.strip():
            raise _bad("message text is empty")
        if len(plain) > MAX_MESSAGE_LENGTH:
            raise _bad("message is too long")
        markup = self._markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        if plain == msg.plain_text and entities == msg.entities and markup == _inline(msg.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        self._apply_edit(msg, "editMessageText", text, parse_mode, plain, entities, markup)
        return self._message_json(msg)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        msg = self._own_message(params, "message to edit not found")
        if not msg.from_bot:
            raise _bad("message can't be edited")
        markup = self._markup(params)
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        if markup == _inline(msg.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        self._apply_edit(
            msg, "editMessageReplyMarkup", msg.text, msg.parse_mode, msg.plain_text, msg.entities, markup
        )
        return self._message_json(msg)

    def _apply_edit(
        self,
        msg: FakeMessage,
        method: str,
        text: str,
        parse_mode: str | None,
        plain: str,
        entities: list[dict[str, Any]],
        markup: dict[str, Any] | None,
    ) -> None:
        self.edits.append(
            EditRecord(
                msg.chat_id,
                msg.message_id,
                text,
                markup,
                parse_mode,
                time.monotonic(),
                msg.text,
                msg.reply_markup,
                method,
            )
        )
        msg.text, msg.parse_mode, msg.plain_text, msg.entities = text, parse_mode, plain, entities
        msg.reply_markup = markup
        msg.edit_count += 1
        msg.edit_date = int(time.time())

    def _api_deleteMessage(self, params: dict[str, Any]) -> bool:
        msg = self._own_message(params, "message to delete not found")
        msg.deleted = True
        return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = _param_str(params, "callback_query_id") or ""
        query = self._callback_queries.get(query_id)
        if query is None or query["answered"]:
            raise ApiError(400, QUERY_INVALID)
        text = _param_str(params, "text")
        if text is not None and len(text) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        query["answered"] = True
        self.callback_answers.append(
            CallbackAnswer(
                query_id,
                text,
                _param_bool(params, "show_alert"),
                _param_str(params, "url"),
                _param_int(params, "cache_time"),
                time.monotonic(),
                query["chat_id"],
                query["message_id"],
                query["data"],
            )
        )
        return True

    @staticmethod
    def _command_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = _param_json(params, "scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise _bad("wrong parameter scope")
        if scope["type"].startswith("chat") and "chat_id" not in scope:
            raise _bad("chat not found")
        language = _param_str(params, "language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad("invalid language code specified")
        return scope_key(scope), language

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = _param_json(params, "commands")
        if not isinstance(commands, list):
            raise _bad('parameter "commands" must be an Array')
        if len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH")
        cleaned = []
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            description = command.get("description", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(name)):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(description)) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": str(name), "description": str(description)})
        key = self._command_key(params)
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        return True

    def _api_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return list(self.commands.get(self._command_key(params), []))

    def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._command_key(params), None)
        return True

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        """Like sendDocument (the picture is kept in `documents`), shown as kind "photo"."""
        as_document = {k: v for k, v in params.items() if k != "photo"}
        as_document["document"] = params.get("photo")
        result = self._api_sendDocument(as_document)
        self.sent[-1].kind = "photo"
        return result

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._target_chat(params)
        document = params.get("document")
        if isinstance(document, str) and document.startswith("attach://"):
            document = params.get(document.removeprefix("attach://"))
        if document is None or document == "":
            raise _bad("there is no document in the request")
        if isinstance(document, FileField):
            content = document.file.read()
            filename = document.filename or "document"
            mime_type: str | None = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        else:
            known = self._files_by_id.get(str(document))
            if known is None:
                if str(document).startswith(("http://", "https://")):
                    raise _bad("failed to get HTTP URL content")
                raise _bad("wrong file identifier/HTTP URL specified")
            content, filename, mime_type = known.content, known.filename, known.mime_type
        if not content:
            raise _bad("file must be non-empty")
        caption = _param_str(params, "caption")
        parse_mode = _param_str(params, "parse_mode")
        plain, entities = self._render(caption or "", parse_mode, params, "caption_entities")
        if len(plain) > MAX_CAPTION_LENGTH:
            raise _bad("message caption is too long")
        markup = self._markup(params)
        seq = next(self._file_seq)
        record = DocumentRecord(
            chat_id=chat_id,
            message_id=0,
            filename=filename,
            content=content,
            caption=caption,
            parse_mode=parse_mode,
            mime_type=mime_type,
            file_id=f"BQACAgIAAxkDAAI{seq:08d}",
            file_unique_id=f"AgAD{seq:08d}",
            time=time.monotonic(),
        )
        msg = self._store_bot_message(
            chat_id,
            text=caption or "",
            reply_markup=markup,
            parse_mode=parse_mode,
            kind="document",
            plain_text=plain,
            entities=entities,
            document=record,
        )
        record.message_id = msg.message_id
        self.documents.append(record)
        self._files_by_id[record.file_id] = record
        return self._message_json(msg)

    def _api_getFile(self, params: dict[str, Any]) -> dict[str, Any]:
        record = self._files_by_id.get(_param_str(params, "file_id") or "")
        if record is None:
            raise _bad("invalid file_id")
        if record.size > MAX_DOWNLOAD_BYTES:
            raise _bad("file is too big")
        path = f"documents/file_{record.file_unique_id}{Path(record.filename).suffix}"
        self._files_by_path[path] = record
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": record.size,
            "file_path": path,
        }

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        chat_id = self._target_chat(params)
        action = _param_str(params, "action")
        if action not in CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self.chat_actions.append(ChatAction(chat_id, action, time.monotonic()))
        return True

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        url = _param_str(params, "url") or ""
        if _param_bool(params, "drop_pending_updates"):
            self._queue.clear()
        if not url:
            self.webhook = None
            return True
        if not url.startswith(("https://", *LOCAL_HTTP)):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        secret = _param_str(params, "secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise _bad("secret token contains unallowed characters")
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": _param_json(params, "allowed_updates"),
            "max_connections": _param_int(params, "max_connections", 40),
            "ip_address": _param_str(params, "ip_address"),
        }
        if self.webhook["allowed_updates"] is not None:
            self._allowed_updates = set(self.webhook["allowed_updates"]) or None
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.create_task(self._deliver_to_webhook())
        self._pulse_updates()
        return True

    async def _deliver_to_webhook(self) -> None:
        """Telegram's side of a webhook: POST each pending update, oldest first, until the bot
        answers 2xx (then it is confirmed); after a failure wait webhook_retry_delay and retry."""
        async with ClientSession(timeout=ClientTimeout(total=10)) as http:
            while self.webhook is not None and not self._closing:
                new_updates = self._new_updates
                self._drop_disallowed()
                if not self._queue:
                    await new_updates.wait()
                    continue
                update, hook = self._queue[0], self.webhook
                headers = {"Content-Type": "application/json"}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
                error: str | None = None
                try:
                    async with http.post(hook["url"], data=json.dumps(update), headers=headers) as response:
                        status = response.status
                        if not 200 <= status < 300:
                            error = f"Wrong response from the webhook: {status} {response.reason}"
                except (ClientError, TimeoutError) as exc:
                    status, error = 0, f"Connection failed: {type(exc).__name__}"
                self.webhook_deliveries.append(
                    WebhookDelivery(time.monotonic(), update["update_id"], status, error)
                )
                if error is None:
                    if self._queue and self._queue[0] is update:
                        self._queue.pop(0)
                    self.delivered_update_id = max(self.delivered_update_id, update["update_id"])
                    self.confirmed_offset = max(self.confirmed_offset, update["update_id"])
                else:
                    hook["last_error_date"] = int(time.time())
                    hook["last_error_message"] = error
                self._notify()
                if error is not None:
                    await asyncio.sleep(self.webhook_retry_delay)

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        if _param_bool(params, "drop_pending_updates"):
            self._queue.clear()
        self.webhook = None
        self._pulse_updates()
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
            for key in ("ip_address", "last_error_date", "last_error_message"):
                if self.webhook.get(key):
                    info[key] = self.webhook[key]
        return info


def _inline(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    return markup if markup and "inline_keyboard" in markup else None


def _make_bot(base_url: str, token: str, **kwargs: Any) -> Any:
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer

    class QuickCloseSession(AiohttpSession):
        """AiohttpSession without the 250 ms pause on close that is meant for TLS connections."""

        async def close(self) -> None:
            if self._session is not None and not self._session.closed:
                await self._session.close()

    return Bot(token, session=QuickCloseSession(api=TelegramAPIServer.from_base(base_url)), **kwargs)


# --------------------------------------------------------------------------------------------
# The fake in another process
# --------------------------------------------------------------------------------------------


class RemoteFakeTelegram(_Waiting):
    """Drives a fake running in another process (``python -m tests.fake_telegram``).

    The user-simulating and fault-injecting methods have the same names and arguments as on
    FakeTelegram and are synchronous HTTP calls (fine from an async test: the server is not in
    this event loop). Observation attributes (sent, edits, messages_to(), request_log, ...)
    read a fresh StateSnapshot on each access; wait_for gives the predicate a snapshot.
    """

    def __init__(
        self, base_url: str, token: str = DEFAULT_TOKEN, process: subprocess.Popen[str] | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.process = process

    @classmethod
    def spawn(
        cls, token: str = DEFAULT_TOKEN, *, args: Sequence[str] = (), startup_timeout: float = 20.0
    ) -> RemoteFakeTelegram:
        """Start ``python -m tests.fake_telegram --port 0 --token TOKEN [args]`` and attach."""
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.fake_telegram",
                "--port",
                "0",
                "--token",
                token,
                "--exit-with-parent",
                *args,
            ],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], startup_timeout)
        line = process.stdout.readline().strip() if ready else ""
        if not line.startswith("http"):
            process.kill()
            process.wait()
            raise RuntimeError(
                f"fake Telegram did not start (exit code {process.returncode}, first line {line!r})"
            )
        return cls(line, token, process)

    def close(self) -> None:
        """Stop the spawned process, if this object spawned one."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()

    def __enter__(self) -> RemoteFakeTelegram:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> RemoteFakeTelegram:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def env(self) -> dict[str, str]:
        return {"KSTTHC_TELEGRAM_TOKEN": self.token, "KSTTHC_TELEGRAM_API_BASE": self.base_url,
                "KSTTHC_WEB_PORT": "0"}  # the bot's web desk on a port of its own

    def bot(self, token: str | None = None, **kwargs: Any) -> Any:
        return _make_bot(self.base_url, token or self.token, **kwargs)

    def api_url(self, method: str, token: str | None = None) -> str:
        return f"{self.base_url}/bot{token or self.token}/{method}"

    # -- control ---------------------------------------------------------------------------
    def _call(self, op: str, *args: Any, **kwargs: Any) -> Any:
        body = json.dumps({"op": op, "args": list(args), "kwargs": kwargs}).encode()
        request = urllib.request.Request(
            f"{self.base_url}/_fake/call", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            answer = json.loads(exc.read())
        if not answer.get("ok"):
            kind = {"LookupError": LookupError, "ValueError": ValueError, "TypeError": TypeError}.get(
                answer.get("error"), RuntimeError
            )
            raise kind(answer.get("message"))
        return answer.get("result")

    def user_sends_text(self, user_id: int, text: str, **kwargs: Any) -> int:
        return int(self._call("user_sends_text", user_id, text, **kwargs))

    def user_presses_button(self, user_id: int, message_id: int, callback_data: str, **kwargs: Any) -> int:
        return int(self._call("user_presses_button", user_id, message_id, callback_data, **kwargs))

    def user_sends_document(self, user_id: int, filename: str, content: bytes, **kwargs: Any) -> int:
        return int(self._call("user_sends_document", user_id, filename, _jsonable(content), **kwargs))

    def user_sends_photo(self, user_id: int, content: bytes, **kwargs: Any) -> int:
        return int(self._call("user_sends_photo", user_id, _jsonable(content), **kwargs))

    def press(self, user_id: int, button_text: str, message_id: int | None = None) -> int:
        return int(self._call("press", user_id, button_text, message_id))

    def enqueue_raw(self, update: dict[str, Any]) -> int:
        return int(self._call("enqueue_raw", update))

    def user_blocks_bot(self, user_id: int) -> None:
        self._call("user_blocks_bot", user_id)

    def user_unblocks_bot(self, user_id: int) -> None:
        self._call("user_unblocks_bot", user_id)

    def fail_next(
        self,
        method: str | None = None,
        status: int = 429,
        retry_after: int | None = 2,
        times: int | None = 1,
        **kwargs: Any,
    ) -> None:
        self._call("fail_next", method, status, retry_after, times, **kwargs)

    def garble_next(self, method: str | None, times: int | None = 1, *, chat_id: int | None = None) -> None:
        self._call("garble_next", method, times, chat_id=chat_id)

    def delay_next(self, method: str | None, seconds: float, times: int | None = 1, *,
                   chat_id: int | None = None) -> None:
        self._call("delay_next", method, seconds, times, chat_id=chat_id)

    def clear_faults(self) -> None:
        self._call("clear_faults")

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self._call("pending_updates"))

    # -- observation -----------------------------------------------------------------------
    def snapshot(self) -> StateSnapshot:
        with urllib.request.urlopen(f"{self.base_url}/_fake/state", timeout=30) as response:
            return StateSnapshot.from_json(json.loads(response.read()))

    def __getattr__(self, name: str) -> Any:
        if name in STATE_ATTRIBUTES:
            return getattr(self.snapshot(), name)
        raise AttributeError(name)

    async def wait_for(
        self, predicate: Callable[[Any], Any], timeout: float = 5.0, message: str | None = None
    ) -> Any:
        """Like FakeTelegram.wait_for; the predicate gets a StateSnapshot, refreshed on change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        error: BaseException | None = None
        version = -1
        async with ClientSession(timeout=ClientTimeout(total=timeout + 30)) as session:
            while True:
                remaining = max(deadline - loop.time(), 0.0)
                url = f"{self.base_url}/_fake/state?after={version}&timeout={min(remaining, 10.0)}"
                async with session.get(url) as response:
                    state = StateSnapshot.from_json(await response.json())
                version = state.version
                try:
                    result = predicate(state)
                except Exception as exc:
                    error, result = exc, None
                if result:
                    return result
                if loop.time() >= deadline:
                    raise AssertionError(
                        _timeout_report(state, _predicate_text(predicate, message), timeout, error)
                    )


# --------------------------------------------------------------------------------------------
# python -m tests.fake_telegram
# --------------------------------------------------------------------------------------------


async def _serve(args: argparse.Namespace) -> None:
    tg = FakeTelegram(
        args.token,
        host=args.host,
        port=args.port,
        first_update_id=args.first_update_id,
        strict_chats=args.strict_chats,
        bot_username=args.bot_username,
    )
    await tg.start()
    print(tg.base_url, flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    parent = os.getppid()
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            if args.exit_with_parent and os.getppid() != parent:
                break  # the test run that spawned us is gone
    finally:
        await tg.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fake_telegram",
        description="Fake Telegram Bot API server for tests and benchmarks. "
        "Prints its base URL as the first line of stdout.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--first-update-id", type=int, default=1)
    parser.add_argument("--bot-username", default="kstthc_test_bot")
    parser.add_argument(
        "--strict-chats", action="store_true", help="refuse sends to chats no simulated user wrote from"
    )
    parser.add_argument(
        "--exit-with-parent", action="store_true", help="stop when the spawning process goes away"
    )
    asyncio.run(_serve(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
