"""What every `kstthc-bot` command that touches the database does first: open it, bring the
schema up to date and seed an empty one, so that any command works on a fresh install."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.config import Settings
from storage.database import Database

T = TypeVar("T")


def run_async(coroutine: Awaitable[T]) -> T:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


async def with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    from bot.seed import seed_if_empty

    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        await db.upgrade()
        async with db.transaction() as session:
            await seed_if_empty(session, settings, settings.today())
        return await work(db)
    finally:
        await db.close()
