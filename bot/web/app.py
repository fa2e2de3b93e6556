"""The desk's aiohttp application: one database session per request (the middleware is the one
place that commits), then sign-in and CSRF checks, then the pages. `serve` runs it until told
to stop, alone (`kstthc-bot web`) or beside the channels (`kstthc-bot run`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

from bot.config import Settings
from bot.web import auth, board, campaigns, downloads, invites, reminders, report, signers
from bot.web.keys import DATABASE, SESSION, SETTINGS
from bot.web.render import Page
from storage.database import Database

log = logging.getLogger("kstthc.web")
STATIC = Path(__file__).resolve().parent / "static"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def one_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The request's session, committed if the page succeeds, else rolled back; the page is
    rendered after. Static files need none."""
    if request.path.startswith("/static/"):
        return await handler(request)
    async with request.app[DATABASE].transaction() as session:
        request[SESSION] = session
        response = await handler(request)
    if isinstance(response, Page):
        response.render()
    return response


def make_app(settings: Settings, db: Database) -> web.Application:
    app = web.Application(middlewares=[one_session, auth.signed_in], client_max_size=256 * 1024)
    app[SETTINGS] = settings
    app[DATABASE] = db
    for module in (auth, board, report, downloads, invites, campaigns, reminders, signers):
        app.add_routes(module.routes)
    app.router.add_static("/static/", STATIC)
    return app


async def serve(settings: Settings, db: Database, stopping: asyncio.Event) -> None:
    """Listen on KSTTHC_WEB_HOST:KSTTHC_WEB_PORT until `stopping` is set."""
    # A request still running at shutdown gets half the process's grace, then the database closes.
    runner = web.AppRunner(make_app(settings, db), access_log=None,
                           shutdown_timeout=settings.shutdown_grace / 2)
    await runner.setup()
    site = web.TCPSite(runner, settings.web_host, settings.web_port)
    try:
        await site.start()
        log.info("web desk on %s:%d", settings.web_host, settings.web_port)
        await stopping.wait()
    finally:
        await runner.cleanup()


async def serve_beside_channels(settings: Settings, db: Database, stopping: asyncio.Event) -> None:
    """`kstthc-bot run`: the desk beside the channels; a desk that cannot listen (its port
    taken) is logged and leaves the channels running. The Telegram webhook listens on 8080 by
    default too: a webhook that is served keeps its port, and the desk says so and stays off."""
    served = {port for port, url in ((settings.telegram_webhook_port, settings.telegram_webhook_url),
                                     (settings.zalo_webhook_port, settings.zalo_webhook_url)) if url}
    if settings.web_port in served:
        log.error("web desk not started: %s:%d serves a webhook; set KSTTHC_WEB_PORT to another port",
                  settings.web_host, settings.web_port)
        return
    try:
        await serve(settings, db, stopping)
    except OSError as error:
        log.error("web desk not started on %s:%d (%s); set KSTTHC_WEB_PORT to a free port",
                  settings.web_host, settings.web_port, type(error).__name__)
