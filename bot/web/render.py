"""Pages from Jinja2 templates, autoescaped, in the signed-in person's language."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from bot.web.keys import CSRF, OFFICER
from deadlines.workdays import VN_TZ
from engine.text import fold
from locales.translation import Translator, translator

if TYPE_CHECKING:
    import jinja2

# Pages carry personal data: no cache, no framing, no referrer (a sign-in link is in a URL),
# and nothing loaded from anywhere but the desk itself (inline SVG for the QR codes).
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'none'; form-action 'self'; frame-ancestors 'none'",
}


@cache
def environment() -> jinja2.Environment:
    # Imported with the first page, not when the desk starts beside the bot: Jinja2's lexer
    # compiles a large Unicode pattern at import (about 25 ms of every start, with Jinja2 itself).
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("bot.web", "templates"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined)


def when(moment: datetime | None) -> str:
    """A stored (UTC) moment as people in Vietnam read it."""
    return "" if moment is None else moment.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def day(value: date | None) -> str:
    return "" if value is None else value.strftime("%d/%m/%Y")


def request_translator(request: web.Request) -> Translator:
    officer = request.get(OFFICER)
    return translator(officer.locale if officer is not None else "vi")


class Page(web.Response):
    """A page still to render: rendered by the session middleware once the request's
    transaction is over, so that SQLite's write turn (every transaction takes it) is not held
    while a thousand rows become HTML. The rows read stay usable (expire_on_commit=False)."""

    def __init__(self, template: str, context: dict[str, Any], status: int) -> None:
        super().__init__(content_type="text/html", charset="utf-8", status=status, headers=SECURITY_HEADERS)
        self.template, self.context = template, context

    def render(self) -> None:
        self.text = environment().get_template(self.template).render(**self.context)


def page(request: web.Request, template: str, status: int = 200, **context: Any) -> Page:
    t = request_translator(request)
    return Page(template, {"_": t.gettext, "locale": t.locale, "officer": request.get(OFFICER),
                           "csrf": request.get(CSRF, ""), "path": request.path, "when": when, "day": day,
                           **context}, status)


def redirect(location: str) -> web.Response:
    """303 after a POST: returned, not raised, so the request's transaction commits."""
    return web.Response(status=303, headers={"Location": location, **SECURITY_HEADERS})


def disposition(filename: str) -> str:
    """`attachment` with the name as sent (RFC 6266: UTF-8, percent-encoded) and a plain ASCII
    stand-in for old clients: an officer's file name may hold quotes, semicolons or line breaks,
    and none of them can reach the header."""
    plain = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_"
                    for c in fold(filename)) or "tep"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(filename: str, content: bytes, content_type: str) -> web.Response:
    return web.Response(body=content, content_type=content_type, headers={
        "Content-Disposition": disposition(filename), **SECURITY_HEADERS})
