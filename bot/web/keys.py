"""Typed keys of what the desk's application holds."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage.database import Database
from storage.models import Officer
from storage.reports import Actor

SETTINGS = web.AppKey("settings", Settings)
DATABASE = web.AppKey("database", Database)
SESSION = web.RequestKey("session", AsyncSession)  # the request's one database session
OFFICER = web.RequestKey("officer", Officer)  # the signed-in VP office admin
CSRF = web.RequestKey("csrf", str)  # the token every form of the session carries

WEB_CHANNEL = "web"  # what the history says a change came through


def db_session(request: web.Request) -> AsyncSession:
    return request[SESSION]


def settings_of(request: web.Request) -> Settings:
    return request.app[SETTINGS]


def actor(request: web.Request) -> Actor:
    return Actor(request[OFFICER].id, WEB_CHANNEL)
