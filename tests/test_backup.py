"""`kstthc-bot backup` while officers answer through a real `kstthc-bot run` (SQLite), and
`kstthc-bot restore`: every backup is one consistent moment (each answer with its history row,
every answer as stored), the last one holds every answer, and a restore brings them all back;
a database holding data is not overwritten without --force. About 35 s. On PostgreSQL (when
KSTTHC_TEST_POSTGRES_URL is set and pg_dump is installed), pg_dump and pg_restore round-trip
every answer: about 10 s."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import sqlite3
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from engine.outline import Outline
from tests.commands import command
from tests.conftest import POSTGRES_URL
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import Officer, bot_environment, stop_within
from tests.zalo_harness import bot_environment as plain_environment

UNITS = ("31135", "31120", "31147")
ANSWERS_EACH = 40
MOST_ANSWERS = 70  # of the 77 a commune is asked
ANSWERS = ("select a.id, a.submission_id, a.question, a.kind, a.value, a.officer_id from answers a "
           "order by a.id")


def kstthc(workdir: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command(), *args], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=120)


def rows(database: Path, sql: str = ANSWERS) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as db:
        found = db.execute(sql).fetchall()
    db.close()
    return found


async def test_backup_during_answers_then_restore(tmp_path: Path, outline: Outline) -> None:
    async with FakeTelegram() as tg:
        env = bot_environment(tmp_path, tg)
        codes = [kstthc(tmp_path, env, "invite", unit).stdout.strip() for unit in UNITS]
        bot = subprocess.Popen([*command(), "run"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            officers = [Officer(tg, 7_000 + n, outline) for n in range(len(UNITS))]
            for officer, code in zip(officers, codes, strict=True):
                await officer.says(f"/start {code}", expect="câu 1/", timeout=30)

            first_backup_made = asyncio.Event()

            async def answer(officer: Officer) -> None:
                for _ in range(ANSWERS_EACH):
                    await officer.answer_current()
                # The bot may answer faster than a backup command starts: go on answering, at a
                # person's pace, until one is made, and once more after, so that it is taken
                # while answers come in.
                while not first_backup_made.is_set() and len(officer.answered) < MOST_ANSWERS:
                    await asyncio.sleep(0.1)
                    await officer.answer_current()
                await officer.answer_current()

            # Backups one after another for as long as the officers answer.
            answering = asyncio.gather(*(answer(o) for o in officers))
            while sum(len(o.answered) for o in officers) < 10:
                await asyncio.sleep(0.05)
            backups = 0
            while not answering.done():
                backups += 1
                result = await asyncio.to_thread(kstthc, tmp_path, env, "backup",
                                                 f"during-{backups}.sqlite3")
                assert result.returncode == 0, result.stderr
                first_backup_made.set()
            await answering
        finally:
            await stop_within(bot, 15)

    source = tmp_path / "bot.sqlite3"
    final = rows(source)
    assert len(final) >= len(UNITS) * ANSWERS_EACH
    taken_midway = 0
    for n in range(1, backups + 1):
        copy = tmp_path / f"during-{n}.sqlite3"
        snapshot = rows(copy)
        taken_midway += 0 < len(snapshot) < len(final)
        # Every answer in the copy is the answer as stored (none half-written)...
        assert set(snapshot) <= set(final), n
        # ... and the copy is one moment: each answer there has its history entry there too.
        history = {(r[0], r[1], r[2]) for r in rows(copy, "select submission_id, question, value "
                                                          "from history where question is not null")}
        assert all((r[1], r[2], r[4]) in history for r in snapshot), n
    assert taken_midway, "no backup was taken while the officers were answering"

    # A backup after the writes holds every answer; restored elsewhere, it gives every one back.
    elsewhere = tmp_path / "restored" / "kstthc.sqlite3"
    assert kstthc(tmp_path, env, "backup", "after.sqlite3").returncode == 0
    restored = kstthc(tmp_path, env | {"KSTTHC_DATABASE_URL": f"sqlite+aiosqlite:///{elsewhere}"},
                      "restore", "after.sqlite3")
    assert restored.returncode == 0, restored.stderr
    assert rows(elsewhere) == final

    # Restoring over a database that holds data needs --force; the data replaced is kept aside.
    refused = kstthc(tmp_path, env, "restore", "during-1.sqlite3")
    assert refused.returncode != 0 and "--force" in refused.stderr
    assert rows(source) == final
    forced = kstthc(tmp_path, env, "restore", "during-1.sqlite3", "--force")
    assert forced.returncode == 0, forced.stderr
    assert rows(source) == rows(tmp_path / "during-1.sqlite3")
    kept = list(tmp_path.glob("bot.sqlite3.before-restore-*"))
    assert len(kept) == 1 and rows(kept[0]) == final
    # Not a backup: refused, nothing touched.
    (tmp_path / "junk.sqlite3").write_bytes(b"not a database at all")
    assert kstthc(tmp_path, env, "restore", "junk.sqlite3", "--force").returncode != 0
    assert rows(source) == rows(tmp_path / "during-1.sqlite3")


@pytest.fixture
async def two_postgres_databases() -> AsyncIterator[tuple[str, str]]:
    if not POSTGRES_URL:
        pytest.skip("KSTTHC_TEST_POSTGRES_URL is not set")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore are not installed")
    import asyncpg

    server = make_url(POSTGRES_URL)
    names = ["kst_backup_" + secrets.token_hex(4) for _ in range(2)]
    admin = await asyncpg.connect(server.set(drivername="postgresql").render_as_string(hide_password=False))
    for name in names:
        await admin.execute(f"CREATE DATABASE {name}")
    try:
        yield tuple(server.set(database=name).render_as_string(hide_password=False)  # type: ignore[misc]
                    for name in names)
    finally:
        for name in names:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


async def test_postgres_backup_and_restore_round_trip(tmp_path: Path,
                                                      two_postgres_databases: tuple[str, str]) -> None:
    import asyncpg

    source_url, target_url = two_postgres_databases
    env = plain_environment(tmp_path, KSTTHC_DATABASE_URL=source_url)
    assert kstthc(tmp_path, env, "db", "upgrade").returncode == 0
    plain = make_url(source_url).set(drivername="postgresql").render_as_string(hide_password=False)
    source = await asyncpg.connect(plain)
    try:
        await source.execute(
            "insert into officers (unit_id, name, role, locale, created_at) "
            "values (1, 'Lan', 'officer', 'vi', now());"
            "insert into submissions (campaign_id, unit_id, status, created_at, updated_at) "
            "select c.id, 1, 'draft', now(), now() from campaigns c limit 1")
        await source.execute(
            "insert into answers (submission_id, question, kind, value, officer_id, channel, answered_at) "
            "select (select min(id) from submissions), 'q' || n, 'text', 'Câu trả lời số ' || n, "
            "(select min(id) from officers), 'console', now() from generate_series(1, 200) n")
        expected = await source.fetch(ANSWERS)
    finally:
        await source.close()
    backed_up = kstthc(tmp_path, env, "backup", "pg.dump")
    assert backed_up.returncode == 0, backed_up.stderr
    assert (tmp_path / "pg.dump").stat().st_mode & 0o077 == 0
    target_env = env | {"KSTTHC_DATABASE_URL": target_url}
    refused = kstthc(tmp_path, target_env, "restore", "pg.dump")
    assert refused.returncode != 0 and "--force" in refused.stderr
    restored = kstthc(tmp_path, target_env, "restore", "pg.dump", "--force")
    assert restored.returncode == 0, restored.stderr
    target = await asyncpg.connect(make_url(target_url).set(drivername="postgresql")
                                   .render_as_string(hide_password=False))
    try:
        assert [tuple(r) for r in await target.fetch(ANSWERS)] == [tuple(r) for r in expected]
    finally:
        await target.close()
