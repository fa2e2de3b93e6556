"""Typed keys of what the desk's application holds."""

from __future__ import annotations

from typing import cast

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage.database import Database
from storage.models import Officer
from storage.reports import Actor

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)

WEB_CHANNEL = "web"  # what the history says a change came through


def db_session(request: web.Request) -> AsyncSession:
    return cast(AsyncSession, request["session"])


def settings_of(request: web.Request) -> Settings:
    return request.app[SETTINGS]


def actor(request: web.Request) -> Actor:
    officer: Officer = request["officer"]
    return Actor(officer.id, WEB_CHANNEL)
