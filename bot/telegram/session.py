"""Talking to the Bot API reliably: honour 429 retry_after, retry 5xx and network errors with
backoff, and never repeat blindly a request that may already have reached Telegram."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType

log = logging.getLogger(__name__)

# Outbox deliveries set this: a timed-out send is recorded as "unknown", not sent again.
repeat_after_timeout: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "repeat_after_timeout", default=True)


# aiogram parses every answer with `Response[method.__returning__]`, a pydantic generic that
# pydantic caches only weakly: with no response object alive the class is garbage-collected and
# the next request builds it again (~10 ms of schema building, on every request of a busy bot).
# Holding one per method type here keeps them built.
_RESPONSE_TYPES: dict[type[TelegramMethod[Any]], type[Response[Any]]] = {}


def response_type(method: TelegramMethod[Any]) -> type[Response[Any]]:
    kind = type(method)
    found = _RESPONSE_TYPES.get(kind)
    if found is None:
        found = _RESPONSE_TYPES[kind] = Response[method.__returning__]  # type: ignore[name-defined]
    return found


def is_timeout(error: TelegramNetworkError) -> bool:
    return "timeout" in error.message.lower()


class RetryRequests(BaseRequestMiddleware):
    def __init__(self, max_attempts: int = 6, base_delay: float = 0.5, max_delay: float = 30.0,
                 stopping: asyncio.Event | None = None) -> None:
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.stopping = stopping or asyncio.Event()

    async def _pause(self, seconds: float) -> bool:
        """Wait before retrying; False when the bot is shutting down (give up instead)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)
        return not self.stopping.is_set()

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        response_type(method)
        attempt = 0
        while True:
            attempt += 1
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt >= self.max_attempts * 2:
                    raise
                log.warning("Telegram asked to wait %ss before %s", error.retry_after,
                            type(method).__name__)
                if not await self._pause(error.retry_after):
                    raise
            except (TelegramServerError, TelegramNetworkError) as error:
                unsafe = isinstance(error, TelegramNetworkError) and is_timeout(error) and \
                    not isinstance(method, GetUpdates) and not repeat_after_timeout.get()
                if unsafe or attempt >= self.max_attempts:
                    raise
                delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
                log.warning("%s failed (%s); retrying in %.1fs", type(method).__name__,
                            type(error).__name__, delay)
                if not await self._pause(delay * (0.5 + random.random() / 2)):
                    raise
