"""`kstthc-bot run`: every channel whose token is set, in one process, until SIGTERM. A channel
whose API cannot be reached (at start, or after it failed) is tried again with backoff while the
other channels and the reminder planner go on."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeGuard, cast

from bot.config import Settings
from bot.privacy import install_log_redaction, safe_message
from bot.scheduler import run_planner
from bot.seed import seed_if_empty
from storage.database import Database

if TYPE_CHECKING:
    from bot.telegram.runner import TelegramChannel
    from bot.zalo.channel import ZaloChannel

    Channel = TelegramChannel | ZaloChannel

log = logging.getLogger("kstthc")
# Seconds before the next attempt at a channel whose API did not answer: doubled each time.
RETRY_FIRST, RETRY_MAX = 1.0, 60.0
PROBE_TIMEOUT = 10.0


def configure_logging(settings: Settings) -> None:
    # force: the CLI set up a quieter handler for the other commands; this one logs INFO.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        force=True)
    # aiohttp's client logs nothing per request; keep the server's access log (paths only) quiet too.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    # One line per update or migration step is noise at this scale.
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # No answer, name, phone number, invite code or token in any line (bot/privacy.py).
    install_log_redaction(settings.telegram_token, settings.zalo_token,
                          settings.telegram_webhook_secret, settings.zalo_webhook_secret)


def is_telegram(channel: Channel) -> TypeGuard[TelegramChannel]:
    """Told without importing the Telegram channel (and aiogram) where only Zalo runs."""
    runner = sys.modules.get("bot.telegram.runner")
    return runner is not None and isinstance(channel, runner.TelegramChannel)


async def probe(channel: Channel, settings: Settings) -> None:
    """One getMe, without the retries the channel's own calls make: raises if the API is not there."""
    if is_telegram(channel):
        from aiogram.methods import GetMe

        await channel.bot.session.make_request(channel.bot, GetMe(), timeout=int(PROBE_TIMEOUT))
        return
    from bot.zalo.client import ZaloClient

    async with ZaloClient(settings.zalo_token or "", settings.zalo_api_base, timeout=PROBE_TIMEOUT,
                          max_retries=0) as client:
        await client.get_me()


async def close(channel: Channel) -> None:
    """What a channel that failed holds: its workers told to finish, its HTTP session closed."""
    channel.stop()
    channel.inbox.finish()
    with contextlib.suppress(Exception):
        if is_telegram(channel):
            await channel.bot.session.close()
        else:
            await cast("ZaloChannel", channel).client.close()


def set_start_heap_aside() -> None:
    """Keep what the process has built to run (modules, classes, schemas, the channel: most of its
    heap, and alive until it stops) out of the garbage collector's full passes, which went through
    all of it: 40–85 ms measured in the answers benchmark, in which no chat was answered, 12 ms
    with it set aside (CPython's `gc.freeze`). Not collected first: that pass would cost the
    restart as much, for the little garbage starting leaves. The collector, held off while the
    command started (bot/entry.py), runs from here on."""
    gc.freeze()
    gc.enable()


async def keep_running(make: Callable[[], Channel], settings: Settings, stopping: asyncio.Event,
                       current: dict[str, Channel]) -> None:
    """Run a channel until the process stops: started once its API answers, and started afresh
    after it fails, waiting longer each time (one log line per attempt)."""
    delay, attempt = RETRY_FIRST, 0
    channel = make()
    set_start_heap_aside()
    name = type(channel).__name__.removesuffix("Channel")
    while not stopping.is_set():
        attempt += 1
        current[name] = channel
        try:
            if not await _unless_stopped(probe(channel, settings), stopping):
                break
            if attempt > 1:
                log.info("%s: API reachable again (attempt %d)", name, attempt)
            delay = RETRY_FIRST
            await channel.run()
            if stopping.is_set() or channel.stopping.is_set():
                return
            raise RuntimeError("the channel stopped by itself")
        except Exception as error:
            message = safe_message(error)
            log.warning("%s: not running (attempt %d: %s); next attempt in %.0f s", name, attempt,
                        f"{type(error).__name__}: {message}" if message else type(error).__name__, delay)
            await close(channel)
            channel = make()
        if not await _unless_stopped(asyncio.sleep(delay), stopping):
            break
        delay = min(RETRY_MAX, delay * 2)
    await close(channel)


async def _unless_stopped(work: Awaitable[None], stopping: asyncio.Event) -> bool:
    """Await `work`, unless the process is told to stop first (then False, the work cancelled)."""
    task = asyncio.ensure_future(work)
    stop = asyncio.ensure_future(stopping.wait())
    try:
        await asyncio.wait([task, stop], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
    if not task.done():
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        return False
    task.result()  # raises what the work raised
    return True


def telegram_channel(settings: Settings, db: Database) -> Channel:
    from bot.telegram.runner import TelegramChannel  # aiogram: loaded only when Telegram runs

    return TelegramChannel(settings, db)


def zalo_channel(settings: Settings, db: Database) -> Channel:
    from bot.zalo.channel import ZaloChannel

    return ZaloChannel(settings, db)


async def run_channels(settings: Settings) -> int:
    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    await db.upgrade()
    async with db.transaction() as session:
        await seed_if_empty(session, settings, settings.today())
    makers: list[Callable[[], Channel]] = []
    if settings.telegram_token:
        makers.append(lambda: telegram_channel(settings, db))
    if settings.zalo_token:
        makers.append(lambda: zalo_channel(settings, db))
    if not makers:
        log.error("no channel to run: set KSTTHC_TELEGRAM_TOKEN and/or KSTTHC_ZALO_TOKEN")
        await db.close()
        return 2
    stopping = asyncio.Event()
    current: dict[str, Channel] = {}

    def stop_all() -> None:
        stopping.set()
        for channel in current.values():
            channel.stop()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_all)
    log.info("running %s", ", ".join(name for name, present in
                                     (("Telegram", settings.telegram_token), ("Zalo", settings.zalo_token))
                                     if present))
    planner = asyncio.create_task(run_planner(db, settings.working_calendar(), settings.clock(),
                                              settings.planner_interval, stopping,
                                              settings.inbox_retention_days))
    from bot.web.app import serve_beside_channels  # the VP office's web desk (bot/web)

    desk = asyncio.create_task(serve_beside_channels(settings, db, stopping))
    try:
        await asyncio.gather(*(keep_running(make, settings, stopping, current) for make in makers))
    finally:
        stopping.set()
        await asyncio.wait([planner, desk], timeout=settings.shutdown_grace)
        await db.close()
    log.info("stopped")
    return 0
