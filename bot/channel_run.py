"""A channel's life at run time, the same for every channel: the inbox workers and the outbox
sender start, updates are received (webhook or polling) until the channel is told to stop, then
receiving stops first and what is in hand is finished within the grace period."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.inbox_workers import InboxWorkers
from bot.outbox import OutboxSender

# A webhook server to shut, or a polling task to cancel.
Receiving = web.AppRunner | asyncio.Task[None]


async def run_until_stopped(inbox: InboxWorkers, outbox: OutboxSender, stopping: asyncio.Event,
                            grace: float, start_receiving: Callable[[], Awaitable[Receiving]]) -> None:
    await inbox.start()
    sender = asyncio.create_task(outbox.run(stopping))
    receiving = await start_receiving()
    await stopping.wait()
    if isinstance(receiving, web.AppRunner):
        await receiving.cleanup()
    else:
        receiving.cancel()
    await inbox.stop(grace, sender)
