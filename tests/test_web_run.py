"""`kstthc-bot run` serves the desk beside the channels: the VP office's admin writes /web to the
bot in (fake) Telegram, signs in with the link received, returns a report with a reason on the
desk, and the unit's officer reads the reason in their Telegram chat."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings
from bot.web.app import serve_beside_channels
from engine.conversation import ReportEngine
from storage.database import Database
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import query, running_bot, stop_within
from tests.web_desk import NOW, SUBMITTED, seeded_desk

ADMIN_CHAT, OFFICER_CHAT = 900, 100  # tests/web_desk.py: the admin and Phường Ninh Kiều's officer


async def desk_listening(base: str, timeout: float = 60) -> None:
    """The bot process started and its desk answers (a process starts slowly on a busy machine)."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with aiohttp.ClientSession() as client:
        while True:
            try:
                async with client.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            assert asyncio.get_running_loop().time() < deadline, "the desk never answered"
            await asyncio.sleep(0.1)


async def test_run_serves_the_desk_and_a_return_reaches_the_officers_chat(
        tmp_path: Path, unused_tcp_port: int, engine: ReportEngine) -> None:
    desk = await seeded_desk(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}", engine, SUBMITTED[:1])
    await desk.db.close()
    port = unused_tcp_port
    base = f"http://127.0.0.1:{port}"
    env = {"KSTTHC_WEB_PORT": str(port), "KSTTHC_NOW": NOW, "KSTTHC_WEB_PUBLIC_URL": base}
    async with FakeTelegram() as tg, running_bot(tmp_path, tg, **env) as bot:
        await desk_listening(base)
        tg.user_sends_text(ADMIN_CHAT, "/web", first_name="Văn phòng")
        reply = await tg.wait_for_message(ADMIN_CHAT, contains="/login?token=", timeout=20)
        link = re.search(rf"{re.escape(base)}/login\?token=([\w-]+)", reply.plain_text or reply.text)
        assert link is not None and "15 phút" in reply.text
        (unit_id,) = query(tmp_path, f"SELECT id FROM units WHERE code = '{SUBMITTED[0]}'")[0]
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:  # an IP
            signed = await browser.post(f"{base}/login", data={"token": link.group(1)})
            assert signed.status == 200 and "Phường Ninh Kiều" in await signed.text()  # the board
            report = await (await browser.get(f"{base}/campaigns/1/units/{unit_id}")).text()
            csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', report)
            assert csrf is not None
            returned = await browser.post(f"{base}/campaigns/1/units/{unit_id}/return", data={
                "csrf": csrf.group(1), "reason": "Bổ sung số liệu mục 4.3"})
            assert "Đã trả lại báo cáo của Phường Ninh Kiều" in await returned.text()
        notice = await tg.wait_for_message(OFFICER_CHAT, contains="Bổ sung số liệu mục 4.3", timeout=20)
        assert "đề nghị chỉnh sửa báo cáo" in notice.text
        statuses = query(tmp_path, f"SELECT status FROM submissions WHERE unit_id = {unit_id}")
        assert statuses == [("returned",)]
        assert await stop_within(bot, 10) < 10  # the desk stops with the channels


async def test_a_served_webhook_keeps_its_port_and_the_desk_says_so(
        tmp_path: Path, unused_tcp_port: int, caplog: pytest.LogCaptureFixture) -> None:
    """Both default to 8080: with `run --webhook`, the desk stays off rather than take the
    webhook's port (and the channel with it)."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}",
                        telegram_webhook_url="https://bot.example.vn/telegram/webhook",
                        telegram_webhook_port=unused_tcp_port)
    settings = settings.model_copy(update={"web_port": settings.telegram_webhook_port})
    db = Database(settings.database_url)
    try:
        # Returns at once, though nothing asked it to stop.
        await asyncio.wait_for(serve_beside_channels(settings, db, asyncio.Event()), timeout=5)
    finally:
        await db.close()
    assert "web desk not started" in caplog.text and "KSTTHC_WEB_PORT" in caplog.text
