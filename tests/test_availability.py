"""`kstthc-bot run` with one channel's API unreachable at start: the other channel answers, the
planner runs (it purges an expired inbox row), the missing channel is tried again with backoff,
one log line per attempt and no token in it, and it serves once its API comes up. A real
subprocess against fake Telegram and Zalo servers, one of them not listening at first; about
12 s for each of the two cases."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.commands import command
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.zalo_harness import Bot, bot_environment

TELEGRAM_TOKEN = "246810:UnreachableAtFirst-Tok"
ZALO_TOKEN = "zalo-unreachable-at-first-token"
TELEGRAM_USER, ZALO_USER = 8_100_200, "zalo-user-77"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def expired_inbox_row(workdir: Path) -> None:
    """An event processed 40 days ago: the planner's first round deletes it."""
    long_ago = (datetime.now(UTC) - timedelta(days=40)).strftime("%Y-%m-%d %H:%M:%S.000000")
    with sqlite3.connect(workdir / "bot.sqlite3") as db:
        db.execute("insert into inbox (channel, update_id, chat_key, payload, received_at, processed_at) "
                   "values ('telegram', 'old-1', '1', '{}', ?, ?)", (long_ago, long_ago))
    db.close()


def inbox_has(workdir: Path, update_id: str) -> bool:
    with sqlite3.connect(workdir / "bot.sqlite3") as db:
        found = db.execute("select count(*) from inbox where update_id = ?", (update_id,)).fetchone()[0]
    db.close()
    return bool(found)


@pytest.mark.parametrize("down", ["telegram", "zalo"])
async def test_a_channel_unreachable_at_start_is_retried_while_the_rest_runs(tmp_path: Path,
                                                                             down: str) -> None:
    port = free_port()
    tg = FakeTelegram(TELEGRAM_TOKEN, port=port if down == "telegram" else 0)
    zalo = FakeZalo(ZALO_TOKEN, port=port if down == "zalo" else 0)
    up, later = (zalo, tg) if down == "telegram" else (tg, zalo)
    await up.start()
    try:
        env = bot_environment(tmp_path, zalo, tg)
        env[f"KSTTHC_{down.upper()}_API_BASE"] = f"http://127.0.0.1:{port}"  # nobody listens yet
        subprocess.run([*command(), "db", "upgrade"], cwd=tmp_path, env=env, check=True,
                       capture_output=True, timeout=60)
        expired_inbox_row(tmp_path)
        bot = Bot(tmp_path, env).start()
        try:
            # The channel that is there answers; the planner runs.
            if down == "telegram":
                zalo.user_sends_text(ZALO_USER, "xin chào", display_name="Lan")
                await zalo.wait_for_message(ZALO_USER, timeout=30)
            else:
                tg.user_sends_text(TELEGRAM_USER, "/start", first_name="Lan")
                await tg.wait_for_message(TELEGRAM_USER, timeout=30)
            for _ in range(100):
                if not inbox_has(tmp_path, "old-1"):
                    break
                await asyncio.sleep(0.1)
            assert not inbox_has(tmp_path, "old-1"), "the planner did not run"
            # Attempts go on, with growing pauses (1 s, 2 s, ...), and the process stays up.
            for _ in range(100):
                if bot.log().count("not running (attempt") >= 2:
                    break
                await asyncio.sleep(0.1)
            assert bot.process is not None and bot.process.poll() is None, bot.log()
            await later.start()  # the API comes back
            if down == "telegram":
                tg.user_sends_text(TELEGRAM_USER, "/start", first_name="Lan")
                await tg.wait_for_message(TELEGRAM_USER, timeout=30)
            else:
                zalo.user_sends_text(ZALO_USER, "xin chào", display_name="Lan")
                await zalo.wait_for_message(ZALO_USER, timeout=30)
        finally:
            assert await bot.stop() == 0
        log = bot.log()
        attempts = [line for line in log.splitlines() if "not running (attempt" in line]
        assert len(attempts) >= 2, log
        name = "Telegram" if down == "telegram" else "Zalo"
        assert all(line.split(" WARNING kstthc: ")[1].startswith(f"{name}: not running (attempt {n}:")
                   for n, line in enumerate(attempts, start=1)), attempts
        assert f"{name}: API reachable again (attempt {len(attempts) + 1})" in log
        assert TELEGRAM_TOKEN not in log and TELEGRAM_TOKEN.split(":")[1] not in log
        assert ZALO_TOKEN not in log
    finally:
        await tg.close()
        await zalo.close()
