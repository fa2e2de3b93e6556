"""Personal data: no answer, name, phone number, invite code or token in the logs, even when the
database and the Bot API fail; the database, its -wal/-shm, exports and backups owner-only
whatever the umask. A real `kstthc-bot run` against the fake Bot API, on SQLite (about 15 s) and
on PostgreSQL when KSTTHC_TEST_POSTGRES_URL is set (about 15 s); the filter itself in process
(well under a second)."""

from __future__ import annotations

import io
import logging
import os
import secrets
import sqlite3
import stat
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.privacy import RedactValues, mask_values, safe_reason
from tests.commands import command
from tests.conftest import POSTGRES_URL
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import bot_environment, stop_within

TOKEN = "918273:SecretBotToken-Zq9"
OFFICER = 5_550_123
FIRST_NAME, LAST_NAME = "Nguyễn Thị Bí", "Ẩn Danh"
PHONE = "0912 345 678"
# What the officer types: each answer carries a word the logs must never show.
ANSWER_DB_FAILS = f"Zebrafish kế hoạch riêng, gọi {PHONE}"
ANSWER_STORE_FAILS = "Kangaroo văn bản số 12/KH mật"
ANSWER_API_FAILS = "Wombat đã ban hành đủ"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def permissive(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A `kstthc-bot` command started with umask 000, as a careless service file might."""
    return subprocess.run([*command(), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=90, preexec_fn=lambda: os.umask(0))


@pytest.fixture(params=["sqlite", "postgresql"])
async def backend(request: pytest.FixtureRequest,
                  tmp_path: Path) -> AsyncIterator[tuple[str, Callable[[str], Awaitable[None]]]]:
    """(database URL, a way to run SQL on it behind the bot's back)."""
    if request.param == "sqlite":
        path = tmp_path / "bot.sqlite3"

        async def run_sqlite(sql: str) -> None:
            with sqlite3.connect(path, timeout=30) as db:
                db.executescript(sql)
            db.close()

        yield f"sqlite+aiosqlite:///{path}", run_sqlite
        return
    if not POSTGRES_URL:
        pytest.skip("KSTTHC_TEST_POSTGRES_URL is not set")
    import asyncpg

    name = "kst_privacy_" + secrets.token_hex(4)
    server = make_url(POSTGRES_URL).set(drivername="postgresql")
    admin = await asyncpg.connect(server.render_as_string(hide_password=False))
    await admin.execute(f"CREATE DATABASE {name}")
    url = server.set(database=name).render_as_string(hide_password=False)

    async def run_postgres(sql: str) -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    try:
        yield make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False), \
            run_postgres
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def test_logs_carry_no_personal_data_or_secrets_even_on_errors(
        tmp_path: Path, backend: tuple[str, Callable[[str], Awaitable[None]]]) -> None:
    url, execute = backend
    sqlite = url.startswith("sqlite")
    async with FakeTelegram(TOKEN) as tg:
        env = bot_environment(tmp_path, tg, KSTTHC_DATABASE_URL=url)
        invite = permissive("invite", "31135", cwd=tmp_path, env=env)
        assert invite.returncode == 0, invite.stderr
        code = invite.stdout.strip()
        log_file = tmp_path / "bot.log"
        with log_file.open("w") as log:
            bot = subprocess.Popen([*command(), "run"], cwd=tmp_path, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, text=True, preexec_fn=lambda: os.umask(0))
        try:
            def says(text: str) -> None:
                tg.user_sends_text(OFFICER, text, first_name=FIRST_NAME, last_name=LAST_NAME)

            says(f"/start {code}")
            await tg.wait_for_message(OFFICER, contains="câu 1/", timeout=30)
            if sqlite:  # the database and the files SQLite keeps beside it, while the bot runs
                for name in ("bot.sqlite3", "bot.sqlite3-wal", "bot.sqlite3-shm"):
                    assert mode(tmp_path / name) == 0o600, name

            # The database refuses the answer (a constraint that names the value, on PostgreSQL).
            if sqlite:
                await execute("CREATE TRIGGER refuse BEFORE INSERT ON answers "
                              "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;")
            else:
                await execute("ALTER TABLE answers ADD CONSTRAINT refuse CHECK (value NOT LIKE '%Zebra%')")
            since = len(tg.messages_to(OFFICER))
            says(ANSWER_DB_FAILS)
            await tg.wait_for_message(OFFICER, since=since, contains="sự cố kỹ thuật", timeout=30)
            await execute("DROP TRIGGER refuse" if sqlite else "ALTER TABLE answers DROP CONSTRAINT refuse")

            # The database refuses to store the incoming update itself, for a while.
            if sqlite:
                await execute("CREATE TRIGGER refuse BEFORE INSERT ON inbox "
                              "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;")
            else:
                await execute("ALTER TABLE inbox ADD CONSTRAINT refuse CHECK (payload NOT LIKE '%Kangaroo%')")
            since = len(tg.messages_to(OFFICER))
            polls = tg.request_count("getUpdates")
            says(ANSWER_STORE_FAILS)
            await tg.wait_for(lambda s: s.request_count("getUpdates") >= polls + 3, timeout=30)
            await execute("DROP TRIGGER refuse" if sqlite else "ALTER TABLE inbox DROP CONSTRAINT refuse")
            await tg.wait_for_message(OFFICER, since=since, contains="câu", timeout=30)

            # The Bot API fails: server errors, then a refusal.
            tg.fail_next("sendMessage", status=500, times=2)
            tg.fail_next("editMessageText", status=400, times=1)
            since = len(tg.messages_to(OFFICER))
            says(ANSWER_API_FAILS)
            await tg.wait_for_message(OFFICER, since=since, contains="câu", timeout=30)
        finally:
            await stop_within(bot, 10)  # waited for off the loop: the fake answers meanwhile

        # Exports and backups, made with a permissive umask too.
        exported = permissive("export", "--out", "exports", cwd=tmp_path, env=env)
        assert exported.returncode == 0, exported.stderr
        assert mode(tmp_path / "exports") == 0o700
        assert [mode(f) for f in (tmp_path / "exports").iterdir()] == [0o600] * 3
        if sqlite:
            backed_up = permissive("backup", "backups/copy.sqlite3", cwd=tmp_path, env=env)
            assert backed_up.returncode == 0, backed_up.stderr
            assert mode(tmp_path / "backups") == 0o700
            assert mode(tmp_path / "backups" / "copy.sqlite3") == 0o600

    logged = log_file.read_text()
    # The errors did happen, and were logged...
    assert "sqlite3.IntegrityError" in logged or "CheckViolationError" in logged, logged[-3000:]
    assert "storing 1 updates failed" in logged
    assert "TelegramServerError" in logged
    # ... without what the officer typed, who they are, the invite code or the token.
    for secret in (TOKEN, TOKEN.split(":")[1], code, "Zebrafish", "Kangaroo", "Wombat", FIRST_NAME,
                   LAST_NAME, "Bí", PHONE, PHONE.replace(" ", ""), "kế hoạch riêng", "12/KH"):
        assert secret not in logged, secret
    assert str(OFFICER) not in logged


def test_the_filter_masks_values_whoever_logs_them() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactValues([TOKEN]))
    logger = logging.getLogger("tests.privacy")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("Cause exception while process update id=%d\n%s: %s", 5, "ValueError",
                       ValueError(f"could not read {ANSWER_DB_FAILS}"))
        logger.warning("url https://api.telegram.org/bot%s/getMe failed", TOKEN)
        logger.info("Key (code_hash)=(ABCD-EFGH) and 'Zebrafish' and \"Kangaroo\" and +84 912 345 678")
        try:
            try:
                raise KeyError(FIRST_NAME)
            except KeyError as error:
                raise RuntimeError(f"answer {ANSWER_STORE_FAILS}") from error
        except RuntimeError:
            logger.exception("failed on %r", ANSWER_API_FAILS)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    for secret in (TOKEN, "Zebrafish", "Kangaroo", "Wombat", FIRST_NAME, "ABCD-EFGH", "912 345 678"):
        assert secret not in text, (secret, text)
    assert "RuntimeError" in text and "KeyError" in text and "test_privacy.py" in text  # still a traceback
    # Names of tables and constraints stay readable; values do not.
    assert mask_values('violates unique constraint "uq_invites_code_hash"') == \
        'violates unique constraint "uq_invites_code_hash"'
    assert mask_values("UNIQUE constraint failed: invites.code_hash") == \
        "UNIQUE constraint failed: invites.code_hash"
    assert safe_reason(ValueError(f"bad {ANSWER_DB_FAILS}")) == "ValueError"
    # A refused update or setting: which field and why, never the value.
    from aiogram.types import Update
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        Update.model_validate({"update_id": 1, "message": {
            "message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"},
            "from": {"id": ANSWER_DB_FAILS, "is_bot": False, "first_name": FIRST_NAME}}})
    assert safe_reason(refused.value).startswith("ValidationError: message.from.id: Input should be")
    assert "Zebrafish" not in safe_reason(refused.value)
    assert safe_reason(sqlite3.OperationalError("no such table: answers")) == \
        "OperationalError: no such table: answers"
