"""What every webhook does before it trusts a request: the secret header checked in constant
time (any header, ASCII or not, is a yes or a no, never an error), the body read within its
limit (a declared Content-Length or a chunked body alike) and decoded as JSON of whatever shape
(a wrong shape is the caller's to refuse). A refusal is an HTTP status, never a 500."""

from __future__ import annotations

import hmac
import json
from typing import Any

from aiohttp import web

# The largest id or chat key the inbox stores (its columns are 64 characters).
MAX_KEY_LENGTH = 64
# Telegram's update ids, like the inbox's order column, are 64-bit integers.
MAX_UPDATE_ID = 2**63 - 1


class Refused(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status

    def response(self) -> web.Response:
        return web.Response(status=self.status)


def secret_matches(given: str | None, expected: str | None) -> bool:
    """Whether the header carries the secret. Secrets are ASCII (Telegram allows A-Z, a-z, 0-9,
    _ and -): a header that is not ASCII is simply wrong, without encoding it."""
    if not expected or given is None or not given.isascii():
        return False
    return hmac.compare_digest(given.encode("ascii"), expected.encode("utf-8", "surrogateescape"))


async def json_body(request: web.Request, max_body: int) -> Any:
    """The request's JSON, read within `max_body` bytes: Refused(413) beyond it, Refused(400)
    when it is not JSON (not UTF-8, cut short, nested too deep, a broken chunked encoding)."""
    if request.content_length is not None and request.content_length > max_body:
        raise Refused(413)
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413) from None
    except Exception:
        raise Refused(400) from None
    if len(raw) > max_body:
        raise Refused(413)
    try:
        body = json.loads(raw)
        # What the inbox stores: a lone surrogate ("\ud800") decodes, but no database takes it.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):
        raise Refused(400) from None
    return body


def storable_key(value: object) -> bool:
    """An id the inbox can keep: a short string (what a platform's id becomes there)."""
    return isinstance(value, str) and 0 < len(value) <= MAX_KEY_LENGTH
