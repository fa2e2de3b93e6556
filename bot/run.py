"""`kstthc-bot run`: every channel whose token is set, in one process, until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from bot.config import Settings
from bot.scheduler import run_planner
from bot.seed import seed_if_empty
from bot.telegram.session import install_redaction
from storage.database import Database

log = logging.getLogger("kstthc")


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # aiohttp's client logs nothing per request; keep the server's access log (paths only) quiet too.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # One line per update or migration step is noise at this scale.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    install_redaction(settings.telegram_token, settings.zalo_token, settings.telegram_webhook_secret)


async def run_channels(settings: Settings) -> int:
    from bot.telegram.runner import TelegramChannel
    from bot.zalo.channel import ZaloChannel

    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    await db.upgrade()
    async with db.transaction() as session:
        await seed_if_empty(session, settings, settings.today())
    channels: list[TelegramChannel | ZaloChannel] = []
    if settings.telegram_token:
        channels.append(TelegramChannel(settings, db))
    if settings.zalo_token:
        channels.append(ZaloChannel(settings, db))
    if not channels:
        log.error("no channel to run: set KSTTHC_TELEGRAM_TOKEN and/or KSTTHC_ZALO_TOKEN")
        await db.close()
        return 2
    stopping = asyncio.Event()

    def stop_all() -> None:
        stopping.set()
        for channel in channels:
            channel.stop()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_all)
    log.info("running %s", ", ".join(type(c).__name__ for c in channels))
    planner = asyncio.create_task(run_planner(db, settings.working_calendar(), settings.clock(),
                                              settings.planner_interval, stopping))
    try:
        await asyncio.gather(*(channel.run() for channel in channels))
    finally:
        stopping.set()
        await asyncio.wait([planner], timeout=settings.shutdown_grace)
        await db.close()
    log.info("stopped")
    return 0
