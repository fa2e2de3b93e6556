"""Hostile requests to the Telegram and Zalo webhooks (in process, on a real SQLite file): a
wrong or non-ASCII secret is 401, an oversized body 413 (declared or chunked), JSON of any wrong
shape 400, never 500; a good update is stored. About 2 s."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from sqlalchemy import text

from bot.config import Settings
from storage.database import Database
from tests.conftest import sqlite_url

SECRET = "s3cret-Webhook_0123"
MAX_BODY = 4_000
# (channel, url, secret header, a good body of that channel: its text given or not)
Webhook = tuple[str, str, str, Callable[..., dict[str, Any]]]
TELEGRAM_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ZALO_HEADER = "X-Bot-Api-Secret-Token"


def telegram_update(update_id: int = 7, text: str = "xin chào") -> dict[str, Any]:
    user = {"id": 42, "is_bot": False, "first_name": "Lan"}
    return {"update_id": update_id, "message": {"message_id": 1, "date": 1_700_000_000, "text": text,
                                                "chat": {"id": 42, "type": "private"}, "from": user}}


def zalo_event(message_id: str = "m1", text: str = "xin chào") -> dict[str, Any]:
    return {"ok": True, "result": {"event_name": "message.text.received", "message": {
        "message_id": message_id, "text": text, "date": 1_700_000_000_000,
        "from": {"id": "u42", "display_name": "Lan"}, "chat": {"id": "u42", "chat_type": "PRIVATE"}}}}


GARBAGE: list[bytes] = [
    b"", b"not json", b"[]", b"[1, 2]", b'"a string"', b"42", b"null", b"true", b"{}",
    b'{"update_id": "7"}', b'{"update_id": 7.5}', b'{"update_id": true}', b'{"update_id": null}',
    b'{"update_id": -1}', b'{"update_id": 99999999999999999999999999}',
    b'{"update_id": 7, "message": "text"}', b'{"update_id": 7, "message": [1]}',
    b'{"update_id": 7, "message": {"chat": 5, "from": [], "date": "x"}}',
    b'{"update_id": 7, "message": {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"},'
    b' "from": {"id": 1e400, "is_bot": false, "first_name": "x"}}}',
    b'{"update_id": 7, "callback_query": {"id": {"a": [null]}}}',
    b'{"ok": true, "result": [1]}', b'{"ok": true, "result": "x"}', b'{"event_name": ""}',
    b'{"event_name": "message.text.received", "message": {"message_id": {"x": 1}}}',
    b'{"event_name": "message.text.received", "message": {"message_id": "' + b"9" * 100 + b'"}}',
    b'{"event_name": "message.text.received", "message": {"message_id": "m", "chat": {"id": "'
    + b"c" * 100 + b'"}}}',
    b'{"update_id": 7, "message": {"text": "\\ud800"}}',  # a lone surrogate
    b'{"event_name": "x", "message": {"message_id": "m", "text": "\\udfff"}}',
    b'{"event_name": "message.text.received", "message": {"message_id": "m", "date": 1e30, '
    b'"chat": {"id": "c"}}}',
    b'{"event_name": "message.text.received", "message": {"message_id": "m", "date": -5, '
    b'"chat": {"id": "c"}}}',
    b"\xff\xfe\x00garbage", b'{"update_id": 7, "message": {"text": "\xc3\x28"}}',  # not UTF-8
    b"[" * 1_900 + b"]" * 1_900,  # nested deeper than the parser recurses
    b'{"update_id": ' + b"1" * 3_000 + b"}",  # an integer Python refuses to parse
    b"{" * 10, b'{"update_id": 7', b"\x00\x00\x00\x00",
]


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(sqlite_url(tmp_path / "kstthc.sqlite3"))
    await db.upgrade()
    yield db
    await db.close()


def settings_for(tmp_path: Path) -> Settings:
    return Settings(
        database_url=sqlite_url(tmp_path / "kstthc.sqlite3"),
        telegram_token="123456:WEBHOOK", telegram_api_base="http://127.0.0.1:9",
        telegram_webhook_secret=SECRET, telegram_webhook_max_body=MAX_BODY,
        zalo_token="zalo-webhook-token", zalo_api_base="http://127.0.0.1:9",
        zalo_webhook_secret=SECRET, zalo_webhook_max_body=MAX_BODY)


@pytest.fixture(params=["telegram", "zalo"])
async def webhook(request: pytest.FixtureRequest, tmp_path: Path,
                  database: Database) -> AsyncIterator[Webhook]:
    """(channel, url, secret header, a good body) of a webhook served in process."""
    settings = settings_for(tmp_path)
    channel: Any
    good: Callable[..., dict[str, Any]]
    if request.param == "telegram":
        from bot.telegram.runner import TelegramChannel

        channel = TelegramChannel(settings, database)
        header, path, good = TELEGRAM_HEADER, settings.telegram_webhook_path, telegram_update
    else:
        from bot.zalo.channel import ZaloChannel

        channel = ZaloChannel(settings, database)
        header, path, good = ZALO_HEADER, settings.zalo_webhook_path, zalo_event
    # Received events are stored; these tests do not process them.
    channel.inbox.dispatch = lambda *args: None
    app: web.Application = channel.webhook_app()
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield request.param, str(server.make_url(path)), header, good
    finally:
        await server.close()
        if request.param == "telegram":
            await channel.bot.session.close()
        else:
            await channel.client.close()


async def post(url: str, data: Any, headers: dict[str, str]) -> int:
    async with ClientSession() as http, http.post(url, data=data, headers=headers) as response:
        return response.status


async def test_secret_is_checked_and_never_crashes(webhook: Webhook) -> None:
    _channel, url, header, good = webhook
    body = json.dumps(good()).encode()
    for given in ("", "wrong", SECRET[:-1], SECRET.upper(), SECRET + "x", "é" * 12, SECRET[:-1] + "é",
                  "секрет-секрет", "秘密秘密秘密秘密", SECRET + "\u200b"):
        headers = {header: given}
        assert await post(url, body, headers) == 401, given
    # A header of raw bytes that are not UTF-8 (aiohttp hands them over as surrogates).
    async with ClientSession() as http:
        raw = "\udcff\udcfe".encode("utf-8", "surrogateescape").decode("latin-1")
        async with http.post(url, data=body, headers={header: raw}) as response:
            assert response.status == 401
        async with http.post(url, data=body) as response:
            assert response.status == 401


async def test_oversized_bodies_are_413(webhook: Webhook) -> None:
    _channel, url, header, good = webhook
    headers = {header: SECRET, "Content-Type": "application/json"}
    big = json.dumps(good(text="x" * (MAX_BODY * 3))).encode()
    assert await post(url, big, headers) == 413

    async def chunks() -> AsyncIterator[bytes]:  # chunked: no Content-Length at all
        for start in range(0, len(big), 1_000):
            yield big[start:start + 1_000]

    assert await post(url, chunks(), headers) == 413


async def test_malformed_json_of_any_shape_is_400(webhook: Webhook,
                                                  database: Database) -> None:
    channel, url, header, good = webhook
    headers = {header: SECRET, "Content-Type": "application/json"}
    statuses = {body: await post(url, body, headers) for body in GARBAGE}
    assert {body[:60]: status for body, status in statuses.items() if status != 400} == {}
    assert await post(url, json.dumps(good()).encode(), headers) == 200
    assert await post(url, json.dumps(good()).encode(), headers) == 200  # a redelivery
    async with database.transaction() as session:
        stored = (await session.execute(text("SELECT channel, payload FROM inbox"))).all()
    assert len(stored) == 1 and stored[0][0] == channel and "xin chào" in stored[0][1]
