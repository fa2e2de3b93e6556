"""Errors of the Zalo client (bot.zalo.client); none of their messages holds the bot token,
which is part of every request's URL."""

from __future__ import annotations

import re

_BOT_PATH = re.compile(r"/bot[^/\s'\"]+")


class ZaloError(Exception):
    """Base of every error of this client; messages never contain the token."""


class ZaloApiError(ZaloError):
    """The API answered ``ok: false`` (or an HTTP error): error_code and description."""

    def __init__(self, error_code: int, description: str, method: str = "") -> None:
        self.error_code = error_code
        self.description = description
        self.method = method
        where = f"{method}: " if method else ""
        super().__init__(f"{where}{error_code} {description}")


class ZaloUnauthorized(ZaloApiError):
    """401: the bot token is wrong or revoked."""


class ZaloRetryAfter(ZaloApiError):
    """429: too many requests; wait retry_after seconds before the next one."""

    def __init__(self, error_code: int, description: str, method: str = "", retry_after: float = 1.0) -> None:
        super().__init__(error_code, description, method)
        self.retry_after = retry_after


class ZaloServerError(ZaloApiError):
    """5xx, still failing after the retries."""


class ZaloNetworkError(ZaloError):
    """The API could not be reached (or gave no usable answer), still after the retries."""

    def __init__(self, method: str, reason: str) -> None:
        self.method = method
        self.reason = reason
        super().__init__(f"{method}: {reason}")


class ZaloDeliveryUnknown(ZaloError):
    """A send (sendMessage/sendPhoto) failed after the request may have reached Zalo (timeout,
    dropped connection, unreadable answer, 504): the message may or may not have been delivered,
    so it was not repeated. The caller decides (e.g. resend with a note, or ask the user)."""

    def __init__(self, method: str, chat_id: str, reason: str) -> None:
        self.method = method
        self.chat_id = chat_id
        self.reason = reason
        super().__init__(f"{method} to chat {chat_id}: delivery unknown ({reason})")


def redact(text: str, token: str | None = None) -> str:
    """text without the bot token: the token itself and any ``/bot<...>`` URL path segment."""
    if token:
        text = text.replace(token, "<token>")
    return _BOT_PATH.sub("/bot<token>", text)
