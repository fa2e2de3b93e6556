"""What the Zalo Bot API sends (bot.zalo.client's notes say what is documented and what is
assumed): events and results read leniently from JSON, redelivered events, webhook bodies."""

from __future__ import annotations

import hmac
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

WEBHOOK_SECRET_HEADER: Final = "X-Bot-Api-Secret-Token"
EVENT_TEXT: Final = "message.text.received"
EVENT_IMAGE: Final = "message.image.received"
EVENT_STICKER: Final = "message.sticker.received"
EVENT_UNSUPPORTED: Final = "message.unsupported.received"


# Zalo's JSON is loosely typed (ids as numbers or strings, fields left out): the readers below
# never raise, so one odd event cannot stop the poll loop.
def as_str(value: Any, default: str = "") -> str:
    return default if value is None else str(value)


def as_opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def as_int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class ZaloUser:
    id: str
    display_name: str = ""
    is_bot: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ZaloUser:
        name = data.get("display_name", data.get("name"))
        return cls(id=as_str(data.get("id")), display_name=as_str(name),
                   is_bot=bool(data.get("is_bot", False)))


@dataclass(frozen=True)
class ZaloChat:
    id: str
    chat_type: str = "PRIVATE"

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ZaloChat:
        return cls(id=as_str(data.get("id")), chat_type=as_str(data.get("chat_type"), "PRIVATE"))


@dataclass(frozen=True)
class ZaloMessage:
    message_id: str
    from_user: ZaloUser
    chat: ZaloChat
    date: int = 0  # Unix time in milliseconds
    text: str | None = None
    photo_url: str | None = None
    caption: str | None = None
    sticker: str | None = None
    sticker_url: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ZaloMessage:
        sender = ZaloUser.from_json(as_mapping(data.get("from")))
        chat_data = as_mapping(data.get("chat"))
        chat = ZaloChat.from_json(chat_data) if chat_data else ZaloChat(id=sender.id)
        return cls(
            message_id=as_str(data.get("message_id")),
            from_user=sender,
            chat=chat,
            date=as_int(data.get("date")),
            text=as_opt_str(data.get("text")),
            photo_url=as_opt_str(data.get("photo_url", data.get("photo"))),
            caption=as_opt_str(data.get("caption")),
            sticker=as_opt_str(data.get("sticker")),
            sticker_url=as_opt_str(data.get("url")),
        )


@dataclass(frozen=True)
class ZaloUpdate:
    """One event: event_name and, for message events, the message."""

    event_name: str
    message: ZaloMessage | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ZaloUpdate:
        message = data.get("message")
        return cls(
            event_name=as_str(data.get("event_name")),
            message=ZaloMessage.from_json(message) if isinstance(message, Mapping) else None,
            raw=dict(data),
        )

    @property
    def message_id(self) -> str | None:
        return self.message.message_id if self.message else None

    @property
    def chat_id(self) -> str | None:
        return self.message.chat.id if self.message else None

    @property
    def user_id(self) -> str | None:
        return self.message.from_user.id if self.message else None

    @property
    def reply_to(self) -> str:
        """The chat an answer goes to ("" when the event carries none)."""
        return self.chat_id or self.user_id or ""

    @property
    def display_name(self) -> str | None:
        return self.message.from_user.display_name if self.message else None

    @property
    def text(self) -> str | None:
        return self.message.text if self.message else None


@dataclass(frozen=True)
class ZaloBotInfo:
    id: str
    account_name: str = ""
    account_type: str = ""
    can_join_groups: bool = False
    display_name: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ZaloBotInfo:
        return cls(
            id=as_str(data.get("id")),
            account_name=as_str(data.get("account_name")),
            account_type=as_str(data.get("account_type")),
            can_join_groups=bool(data.get("can_join_groups", False)),
            display_name=as_opt_str(data.get("display_name", data.get("name"))),
        )


@dataclass(frozen=True)
class ZaloSentMessage:
    message_id: str
    date: int = 0  # Unix time in milliseconds

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ZaloSentMessage:
        return cls(message_id=as_str(data.get("message_id")), date=as_int(data.get("date")))


@dataclass(frozen=True)
class ZaloWebhookInfo:
    url: str = ""  # "" when no webhook is set
    updated_at: int | None = None  # Unix time in milliseconds

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ZaloWebhookInfo:
        updated = data.get("updated_at")
        return cls(url=as_str(data.get("url")), updated_at=None if updated is None else as_int(updated))


class SeenMessages:
    """A bounded memory of message ids (oldest forgotten first), to drop redelivered events."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self.maxlen = maxlen
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._ids

    def check_and_add(self, message_id: str) -> bool:
        """True if message_id was already seen; records it otherwise."""
        if message_id in self._ids:
            self._ids.move_to_end(message_id)
            return True
        self._ids[message_id] = None
        while len(self._ids) > self.maxlen:
            self._ids.popitem(last=False)
        return False


def parse_webhook_update(body: Any) -> ZaloUpdate:
    """The update in a webhook POST body, wrapped (``{"ok": true, "result": {...}}``, as
    documented) or bare (``{"event_name": ..., "message": ...}``); ValueError otherwise."""
    if isinstance(body, Mapping) and isinstance(body.get("result"), Mapping):
        body = body["result"]
    if not isinstance(body, Mapping) or not body.get("event_name"):
        raise ValueError("not a Zalo webhook event")
    return ZaloUpdate.from_json(body)


def check_webhook_secret(received: str | None, expected: str) -> bool:
    """Whether the X-Bot-Api-Secret-Token header matches the secret (constant time)."""
    if not expected or received is None or not received.isascii():
        return False  # a header that is not ASCII is simply wrong, not an error
    return hmac.compare_digest(received.encode("ascii"), expected.encode("utf-8", "surrogateescape"))
