"""Who gets in: a one-time link signs a VP office admin in; a session cookie keeps them in until
they sign out or stay idle too long; every POST carries the session's CSRF token. Everyone
else (no session, an officer's identity, a forged form) reaches nothing."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp import web

from bot.web.keys import CSRF, OFFICER, db_session, settings_of
from bot.web.render import page, redirect, request_translator
from engine.i18n import N_
from storage.web_tokens import close_session, csrf_token, open_session, redeem_login_link, session_officer

COOKIE = "kstthc_desk"
PUBLIC = ("/login", "/static/", "/healthz")
FORGED = N_("Biểu mẫu đã cũ hoặc không gửi từ bàn làm việc, nên không được thực hiện. Vui lòng mở lại trang "
            "rồi thao tác lại.")
routes = web.RouteTableDef()
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def signed_in(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(PUBLIC):
        return await handler(request)
    raw = request.cookies.get(COOKIE, "")
    settings = settings_of(request)
    officer = await session_officer(db_session(request), raw, timedelta(minutes=settings.web_idle_minutes)
                                    ) if raw else None
    if officer is None:
        if request.method == "GET":
            return page(request, "login.html", status=401, token="", failed=False)
        return web.Response(status=403, text="403")
    request[OFFICER] = officer
    request[CSRF] = csrf_token(raw)
    if request.method == "POST":
        form = await request.post()
        sent = str(form.get("csrf", ""))
        if not hmac.compare_digest(sent.encode(), request[CSRF].encode()):  # bytes: any text compares
            t = request_translator(request)
            return page(request, "message.html", status=403, heading=t.gettext("Yêu cầu bị từ chối"),
                        message=t.gettext(FORGED))
    return await handler(request)


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


@routes.get("/login")
async def login_page(request: web.Request) -> web.Response:
    """The link's page asks for a press of the button: a link preview (Telegram, Zalo and mail
    fetch links to show them) must not spend the one-time token."""
    return page(request, "login.html", token=request.query.get("token", ""), failed=False)


@routes.post("/login")
async def login(request: web.Request) -> web.Response:
    form = await request.post()
    session = db_session(request)
    officer = await redeem_login_link(session, str(form.get("token", "")))
    if officer is None:
        return page(request, "login.html", status=403, token="", failed=True)
    raw = await open_session(session, officer)
    response = redirect("/")
    settings = settings_of(request)
    response.set_cookie(COOKIE, raw, httponly=True, samesite="Lax", path="/",
                        secure=(settings.web_public_url or "").startswith("https://"))
    return response


@routes.post("/logout")
async def logout(request: web.Request) -> web.Response:
    await close_session(db_session(request), request.cookies.get(COOKIE, ""))
    response = redirect("/login")
    response.del_cookie(COOKIE, path="/")
    return response
