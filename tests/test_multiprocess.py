"""Several `kstthc-bot run` processes on one PostgreSQL database, behind one webhook address (a
round-robin load balancer, so that a chat's updates alternate between processes): every answer
lands under the question it was typed for, none lost, none twice; and an invite is redeemed
once however many redeem it at the same moment."""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import socket
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import ClientError, ClientSession, web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from engine.answers import NONE_ANSWER, Answer
from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.outline import Outline
from engine.qtypes import QUESTION_TYPES
from engine.question import Question
from engine.views import Action
from handlers.registration import register
from storage.database import Database
from storage.models import HistoryEntry, Identity, InboxUpdate, Officer, Submission, Unit
from storage.officers import create_invite
from storage.reports import load_answers
from tests.commands import command
from tests.conftest import POSTGRES_URL
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import FakeZalo
from tests.scripted_officer import scripted_turns
from tests.telegram_harness import Officer as TelegramChatter
from tests.telegram_harness import terminate
from tests.zalo_harness import ZaloOfficer

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="KSTTHC_TEST_POSTGRES_URL is not set")

OFFICERS = 30
ANSWERS = 20
SECRET = "multi-process-secret"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """A PostgreSQL database of its own (the bot processes know no schema setting)."""
    assert POSTGRES_URL
    name = "kstthc_mp_" + secrets.token_hex(5)
    admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
        await admin.dispose()


@dataclass
class RoundRobin:
    """The province's load balancer: one public webhook address, each POST to the next process."""

    backends: list[str]
    routed: list[int] = field(default_factory=list)

    async def start(self) -> tuple[str, web.AppRunner]:
        turns = itertools.cycle(range(len(self.backends)))
        client = ClientSession()

        async def forward(request: web.Request) -> web.Response:
            body = await request.read()
            turn = next(turns)
            self.routed.append(turn)
            headers = {k: v for k, v in request.headers.items()
                       if k.lower() in ("content-type", "x-telegram-bot-api-secret-token",
                                        "x-bot-api-secret-token")}
            try:
                async with client.post(self.backends[turn] + request.path, data=body,
                                       headers=headers) as response:
                    return web.Response(status=response.status)
            except ClientError:
                return web.Response(status=502)  # not up yet: the platform delivers it again

        app = web.Application()
        app.router.add_post("/{path:.*}", forward)
        app.on_cleanup.append(lambda _app: client.close())
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return f"http://127.0.0.1:{port}", runner


@asynccontextmanager
async def bot_processes(workdir: Path, database_url: str, platform_env: dict[str, str], channel: str,
                        count: int) -> AsyncIterator[RoundRobin]:
    """`count` processes of `kstthc-bot run --webhook`, started at the same moment on an empty
    database (they take turns to create and seed it), behind one round-robin address."""
    ports = [free_port() for _ in range(count)]
    balancer = RoundRobin([f"http://127.0.0.1:{port}" for port in ports])
    address, runner = await balancer.start()
    prefix = f"KSTTHC_{channel.upper()}_WEBHOOK"
    processes: list[subprocess.Popen[str]] = []
    logs = []
    try:
        for index, port in enumerate(ports):
            env = {k: v for k, v in os.environ.items() if not k.startswith("KSTTHC_")}
            env.update(platform_env)
            env.update({"KSTTHC_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1",
                        f"{prefix}_URL": f"{address}/{channel}/webhook", f"{prefix}_SECRET": SECRET,
                        f"{prefix}_HOST": "127.0.0.1", f"{prefix}_PORT": str(port),
                        f"{prefix}_PATH": f"/{channel}/webhook"})
            log = (workdir / f"bot-{index}.log").open("w")
            logs.append(log)
            processes.append(subprocess.Popen([*command(), "run", "--webhook"], cwd=workdir, env=env,
                                              stdout=log, stderr=subprocess.STDOUT, text=True))
        yield balancer
    finally:
        await asyncio.gather(*(asyncio.to_thread(terminate, process, 8) for process in processes))
        for log in logs:
            log.close()
        await runner.cleanup()


async def wait_for_schema(db: Database, timeout: float = 60) -> None:
    """Until the bot processes have created and seeded the database."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            async with db.transaction() as session:
                if await session.scalar(select(func.count()).select_from(Unit)):
                    return
        except Exception:
            pass
        assert asyncio.get_running_loop().time() < deadline, "the bots did not set the database up"
        await asyncio.sleep(0.1)


async def invites_for(db: Database, count: int) -> list[tuple[str, str]]:
    """(unit code, invite code) for `count` communes."""
    async with db.transaction() as session:
        units = list(await session.scalars(select(Unit).where(Unit.level == "commune")
                                           .order_by(Unit.code).limit(count)))
        assert len(units) == count
        return [(unit.code, (await create_invite(session, unit))[0]) for unit in units]


def expected_answer(question: Question, typed: str) -> Answer:
    turn = parse_text(typed)
    if turn.action is Action.NONE:
        return NONE_ANSWER
    return Answer.of(QUESTION_TYPES[question.type].parse(turn.text, question))


async def check_answers(db: Database, outline: Outline, channel: str,
                        typed_by_officer: dict[str, dict[str, str]]) -> None:
    """Every stored answer sits under the question it was typed for, and was applied once."""
    async with db.transaction() as session:
        for external_id, typed_for in typed_by_officer.items():
            officer = await session.scalar(
                select(Officer).join(Identity, Identity.officer_id == Officer.id)
                .where(Identity.channel == channel, Identity.external_id == external_id))
            assert officer is not None, external_id
            submission = await session.scalar(select(Submission).where(Submission.unit_id == officer.unit_id))
            assert submission is not None
            stored = await load_answers(session, submission, outline)
            expected = {name: expected_answer(outline.question(name), typed)
                        for name, typed in typed_for.items()}
            assert stored == expected, f"officer {external_id}: answers under the wrong questions"
            applied = (await session.execute(
                select(HistoryEntry.question, func.count()).where(
                    HistoryEntry.submission_id == submission.id, HistoryEntry.event == "answer")
                .group_by(HistoryEntry.question))).all()
            assert dict(applied) == dict.fromkeys(typed_for, 1), f"officer {external_id}: applied twice"


def log_tails(workdir: Path) -> str:
    return "\n".join(f"--- {log.name}\n" + "\n".join(log.read_text().splitlines()[-30:])
                     for log in sorted(workdir.glob("bot-*.log")))


async def all_applied(db: Database, count: int, timeout: float = 120) -> None:
    """Until `count` answers are stored and nothing waits in the inbox."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with db.transaction() as session:
            answers = await session.scalar(select(func.count()).select_from(HistoryEntry))
            pending = await session.scalar(select(func.count()).select_from(InboxUpdate).where(
                InboxUpdate.processed_at.is_(None)))
        if (answers or 0) >= count and pending == 0:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{answers} of {count} answers applied"
        await asyncio.sleep(0.1)


async def officers_answer_at_once(db: Database, workdir: Path, outline: Outline, channel: str,
                                  register_officer: Callable[[int, str], Awaitable[str]],
                                  send: Callable[[str, str], None]) -> None:
    """OFFICERS officers register, then each sends ANSWERS answers as fast as they can type,
    without waiting for the bot: each line typed for the next question of the outline."""
    invites = await invites_for(db, OFFICERS)
    script = scripted_turns(ReportEngine(outline))[:ANSWERS]
    try:
        officers = await asyncio.gather(*(register_officer(i, code)
                                          for i, (_unit, code) in enumerate(invites)))
        for officer in officers:  # each officer's lines one after the other, as typed
            for _question, line in script:
                send(officer, line)
            await asyncio.sleep(0)
        await all_applied(db, OFFICERS * ANSWERS)
    except (AssertionError, TimeoutError) as failure:
        raise AssertionError(f"{failure}\n{log_tails(workdir)}") from failure
    await check_answers(db, outline, channel, {officer: dict(script) for officer in officers})


async def test_telegram_answers_alternating_between_three_processes_keep_their_questions(
    tmp_path: Path, outline: Outline
) -> None:
    async with fresh_database() as url, FakeTelegram() as tg:
        db = Database(url)
        try:
            async with bot_processes(tmp_path, url, tg.env(), "telegram", 3) as balancer:
                await wait_for_schema(db)

                async def register_officer(index: int, code: str) -> str:
                    await TelegramChatter(tg, 7000 + index, outline).says(
                        f"/start {code}", expect="câu 1/", timeout=60)
                    return str(7000 + index)

                def send(officer: str, line: str) -> None:
                    tg.user_sends_text(int(officer), line, first_name="Cán bộ")

                await officers_answer_at_once(db, tmp_path, outline, "telegram", register_officer, send)
                # Each process had its share of the updates.
                assert set(balancer.routed) == {0, 1, 2}
        finally:
            await db.close()
    assert "Traceback" not in log_tails(tmp_path)


async def test_zalo_answers_alternating_between_two_processes_keep_their_questions(
    tmp_path: Path, outline: Outline
) -> None:
    async with fresh_database() as url, FakeZalo() as zalo:
        db = Database(url)
        try:
            async with bot_processes(tmp_path, url, zalo.env(), "zalo", 2) as balancer:
                await wait_for_schema(db)

                async def register_officer(index: int, code: str) -> str:
                    await ZaloOfficer(zalo, f"zalo-user-{index}", outline).says(
                        code, expect="câu 1/", timeout=60)
                    return f"zalo-user-{index}"

                def send(officer: str, line: str) -> None:
                    zalo.user_sends_text(officer, line, display_name="Cán bộ")

                await officers_answer_at_once(db, tmp_path, outline, "zalo", register_officer, send)
                assert set(balancer.routed) == {0, 1}
        finally:
            await db.close()
    assert "Traceback" not in log_tails(tmp_path)


async def test_an_invite_redeemed_twenty_times_at_once_binds_one_officer(
    database_url: tuple[str, str | None],
) -> None:
    url, schema = database_url
    db = Database(url, schema=schema)
    await db.upgrade()
    try:
        async with db.transaction() as session:
            unit = Unit(code="31135", name="Phường Ninh Kiều", level="commune")
            session.add(unit)
            await session.flush()
            code, _invite = await create_invite(session, unit)

        async def redeem(person: int) -> bool:
            async with db.transaction() as session:
                outcome = await register(session, "telegram", str(9000 + person), code, f"Người {person}")
                return outcome.officer is not None

        for _round in range(3):
            results = await asyncio.gather(*(redeem(person) for person in range(20)),
                                           return_exceptions=True)
            assert [r for r in results if isinstance(r, BaseException)] == []
            async with db.transaction() as session:
                bound = await session.scalar(select(func.count()).select_from(Officer))
            assert bound == 1, "an invite bound more than one officer"
            assert results.count(True) == (1 if _round == 0 else 0)
    finally:
        await db.close()
