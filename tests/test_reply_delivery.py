"""One reply of an update failing (a Bot API error, an answer the client cannot decode) costs only
itself: the replies after it are still said, and the failure is logged without their text. The
real channels' `say` against the fake Bot API servers, in process."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.telegram.render import TelegramMessage
from bot.telegram.replies import Replies
from bot.telegram.runner import TelegramChannel
from bot.zalo.channel import ZaloChannel
from storage.database import Database
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo

SECRET = "Nguyễn Văn Bí mật 0912345678"  # what no log line may carry


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    await database.upgrade()
    yield database
    await database.close()


async def test_a_telegram_reply_that_fails_costs_only_itself(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeTelegram() as tg:
        tg.user_sends_text(42, "xin chào")  # the chat exists
        settings = Settings(database_url=db.url, telegram_token=tg.token,  # type: ignore[call-arg]
                            telegram_api_base=tg.base_url, _env_file=None)
        channel = TelegramChannel(settings, db)
        try:
            replies = Replies()
            for n in range(1, 5):
                replies.send(42, TelegramMessage(f"{SECRET} — tin {n}"))
            tg.garble_next("sendMessage")  # the first: delivered, but its answer cannot be read
            tg.fail_next("sendMessage", status=400, description="Bad Request: message is too long",
                         chat_id=42)  # the second: refused
            with caplog.at_level(logging.DEBUG):
                await channel.say(replies)
        finally:
            await channel.bot.session.close()
        texts = tg.texts_to(42)
        assert f"{SECRET} — tin 3" in texts and f"{SECRET} — tin 4" in texts, tg.describe()
        assert f"{SECRET} — tin 1" in texts  # sent once, not repeated blindly
        assert texts.count(f"{SECRET} — tin 1") == 1
        assert "could not deliver a reply" in caplog.text
        assert "Bí mật" not in caplog.text and "0912345678" not in caplog.text


async def test_a_zalo_reply_piece_that_fails_costs_only_itself(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeZalo() as zalo:
        zalo.user_sends_text("u1", "xin chào")
        settings = Settings(database_url=db.url, zalo_token=zalo.token,  # type: ignore[call-arg]
                            zalo_api_base=zalo.base_url, _env_file=None)
        channel = ZaloChannel(settings, db)
        try:
            long_text = "\n".join(f"{SECRET} — dòng {n} " + "x" * 100 for n in range(40))  # two pieces
            zalo.fail_next("sendMessage", status=400, description="Bad Request")
            with caplog.at_level(logging.DEBUG):
                await channel.say_all("u1", [long_text, f"{SECRET} — câu hỏi"])
        finally:
            await channel.client.close()
        sent = "\n".join(zalo.texts_to("u1"))
        assert f"{SECRET} — dòng 39" in sent, zalo.describe()  # the second piece of the first text
        assert f"{SECRET} — câu hỏi" in sent
        assert "could not deliver a Zalo reply" in caplog.text
        assert "Bí mật" not in caplog.text and "0912345678" not in caplog.text


async def test_a_zalo_webhook_event_without_a_message_id_is_kept_once(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    from aiohttp.test_utils import TestClient, TestServer
    from sqlalchemy import func, select

    from storage.models import InboxUpdate

    secret = "s3cret-for-tests"
    settings = Settings(database_url=db.url, zalo_token="123:TEST", zalo_webhook_secret=secret,  # type: ignore[call-arg]
                        _env_file=None)
    channel = ZaloChannel(settings, db)
    event = {"event_name": "message.text.received",
             "message": {"from": {"id": "u1", "display_name": SECRET}, "chat": {"id": "u1"},
                         "date": 1_733_300_000_000, "text": SECRET}}
    headers = {"X-Bot-Api-Secret-Token": secret}
    try:
        async with TestClient(TestServer(channel.webhook_app())) as client:
            for _ in range(2):  # delivered twice: kept once
                response = await client.post(settings.zalo_webhook_path, json=event, headers=headers)
                assert response.status == 200
            with caplog.at_level(logging.INFO):  # no chat to answer: refused, and the log says why
                response = await client.post(settings.zalo_webhook_path, headers=headers,
                                             json={"event_name": "user.follow", "message": {"text": SECRET}})
                assert response.status == 400
    finally:
        await channel.client.close()
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(InboxUpdate)) == 1
    assert "without a chat" in caplog.text and "Bí mật" not in caplog.text


async def test_the_vp_office_gets_its_own_command_menu_on_telegram(db: Database, engine: Any) -> None:
    import json
    from datetime import date

    from storage.campaigns import ensure_campaign
    from storage.inbox import TakenEvent
    from storage.models import Role, Unit
    from storage.officers import create_invite

    async with db.transaction() as session:
        unit = Unit(code="31150", name="Phường Tân An", level="commune")
        session.add(unit)
        await session.flush()
        await ensure_campaign(session, "tu-kiem-tra-2027", "Tự kiểm tra", engine.outline,
                              "ke-hoach-20-2021.yaml", date(2027, 10, 31))
        office_code = (await create_invite(session, None, Role.ADMIN))[0]
        unit_code = (await create_invite(session, unit))[0]
    async with FakeTelegram() as tg:
        settings = Settings(database_url=db.url, telegram_token=tg.token,  # type: ignore[call-arg]
                            telegram_api_base=tg.base_url, _env_file=None)
        channel = TelegramChannel(settings, db)
        try:
            for number, (user, code) in enumerate([(1, office_code), (2, unit_code)], start=1):
                tg.user_sends_text(user, "xin chào")
                update = {"update_id": number, "message": {
                    "message_id": number, "date": 1_800_000_000, "text": f"/start {code}",
                    "chat": {"id": user, "type": "private"},
                    "from": {"id": user, "is_bot": False, "first_name": "Cán bộ"}}}
                async with db.transaction() as session:
                    event = TakenEvent(number, str(number), json.dumps(update))
                    after = await channel.process(session, event)
                assert after is not None
                await after()
        finally:
            await channel.bot.session.close()
        office_menu = {command["command"] for command in tg.commands_for("chat:1")}
        assert {"tiendo", "hannop", "xembaocao", "tiepnhan", "tralai", "xuatbaocao"} <= office_menu
        assert "nop" not in office_menu and "mucluc" not in office_menu
        assert tg.commands_for("chat:2") == []  # an officer has the default menu (set at start)
