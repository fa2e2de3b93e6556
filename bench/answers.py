"""Answers per second, end to end: the real `kstthc-bot run` against a bare aiogram echo bot.

All run as subprocesses against one fake Bot API server (tests/fake_telegram.py, in this
process, on 127.0.0.1). N officers each queue M answers at once; the clock runs from the moment
every update is queued until the fake has received the bot's reply to each one (our bot's reply
to an answer is the next question: one sendMessage per answer; the echo bot's is the echo).
Officers are registered (invite + /start) and the echo bots warmed up before the clock starts.

The target compares our bot with the issue's bare echo bot (one sendMessage per update). As a
reference, a second echo bot makes the Bot API calls our bot makes per answer (the previous
reply edited alongside the echo sent) with no database and no engine: the ceiling that the
calls alone leave. A third adds one durable SQLite commit per answer and nothing else: the
ceiling for any bot that does what the issue asks of an answer.

    python bench/answers.py [--officers 50] [--answers 20] [--rounds 3] [--workers 8]
                            [--profile bot.prof]

Each round runs our bot, then the echo bots; the last line printed is one JSON object with the
medians over rounds (bot_answers_per_s, echo_answers_per_s, ratio; edit_echo_answers_per_s,
ratio_to_edit_echo; durable_echo_answers_per_s; durable_echo_ratio, ours to the durable floor
bot by rate, issue 19's figure, and durable_echo_cpu_ratio, the same by CPU time per answer;
durable_echo_to_echo; each bot's CPU time per answer), each round's ratios, and more.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.commands import command  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.telegram_harness import bot_environment, terminate  # noqa: E402

BOT_USERS = 7_000_000
ECHO_USERS = {"plain": 8_000_000, "edit": 9_000_000, "durable": 6_000_000}
BOTS = {"bot": "kstthc-bot", "plain_echo": "echo bot", "edit_echo": "echo bot with edits",
        "durable_echo": "echo bot with edits and a durable commit"}
ROUND_USERS = 10_000  # each round's officers are new chats


# ----- the echo bots (run as: python bench/answers.py --echo-bot BASE TOKEN LIMIT KIND) ----------

def commit_answer(database: sqlite3.Connection, chat_id: int, message_id: int, text: str | None) -> None:
    database.execute("BEGIN IMMEDIATE")
    database.execute("INSERT INTO answer VALUES (?, ?, ?)", (chat_id, message_id, text))
    database.execute("COMMIT")


async def echo_bot(base: str, token: str, limit: int, kind: str) -> None:
    """`plain`: the issue's bare echo bot, one sendMessage per update. `edit`: the same with the
    Bot API calls our bot makes per answer, the previous reply edited (as the answered question
    is, to show the record) alongside the echo sent; no database, no engine. `durable`: `edit`
    plus what the issue asks of every answer and nothing more, the answer committed durably
    (one INSERT and COMMIT on a SQLite file in WAL mode with `FULL` sync, as our bot's, on
    sqlite3 directly) before the reply goes out."""
    from aiogram import Bot, Dispatcher, F
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(base)))
    dispatcher = Dispatcher()
    last_reply: dict[int, Message] = {}

    # The commit's fsync waits in a thread of its own, not on the loop: the faster of the two here.
    writer = ThreadPoolExecutor(1) if kind == "durable" else None
    database: sqlite3.Connection | None = None
    postgres = None
    if kind == "postgres":  # bench/scale.py's floor: the same commit, on PostgreSQL
        import asyncpg

        postgres = await asyncpg.create_pool(os.environ["BENCH_POSTGRES_DSN"], min_size=4, max_size=10)
        await postgres.execute("CREATE TABLE answer (chat_id BIGINT, message_id BIGINT, text TEXT,"
                               " PRIMARY KEY (chat_id, message_id))")
    if kind == "durable":
        database = sqlite3.connect(Path(tempfile.mkdtemp(prefix="kstthc-echo-")) / "answers.db",
                                   isolation_level=None, check_same_thread=False)
        database.execute("PRAGMA journal_mode=WAL")
        database.execute("PRAGMA synchronous=FULL")
        database.execute("CREATE TABLE answer (chat_id INTEGER, message_id INTEGER, text TEXT,"
                         " PRIMARY KEY (chat_id, message_id))")

    @dispatcher.message(F.text)
    async def echo(message: Message) -> None:
        if database is not None:
            await asyncio.get_running_loop().run_in_executor(
                writer, commit_answer, database, message.chat.id, message.message_id, message.text)
        if postgres is not None:
            await postgres.execute("INSERT INTO answer VALUES ($1, $2, $3)", message.chat.id,
                                   message.message_id, message.text)
        previous = last_reply.get(message.chat.id) if kind != "plain" else None
        edit = None if previous is None else asyncio.create_task(bot.edit_message_text(
            f"✅ {previous.text} ({message.message_id})", chat_id=previous.chat.id,
            message_id=previous.message_id))
        last_reply[message.chat.id] = await message.answer(message.text or "")
        if edit is not None:
            await edit

    await dispatcher.start_polling(bot, handle_as_tasks=True, tasks_concurrency_limit=limit,
                                   polling_timeout=25)


# ----- measuring -------------------------------------------------------------------------------

class Replies:
    """The fake's successful sendMessage calls per chat, counted incrementally."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self.seen = 0
        self.counts: Counter[int] = Counter()
        self.last_time: dict[int, float] = {}

    def scan(self) -> None:
        sent = self.tg.sent
        for message in sent[self.seen:]:
            self.counts[message.chat_id] += 1
            self.last_time[message.chat_id] = message.time
        self.seen = len(sent)

    async def wait(self, wanted: dict[int, int], timeout: float, process: subprocess.Popen[str]) -> float:
        """Until every chat has its wanted count; returns the arrival time of the last reply."""
        deadline = time.monotonic() + timeout
        while True:
            self.scan()
            if all(self.counts[chat] >= count for chat, count in wanted.items()):
                return max(self.last_time[chat] for chat in wanted)
            if process.poll() is not None:
                raise SystemExit(f"the bot exited with {process.returncode}")
            if time.monotonic() > deadline:
                short = [chat for chat, count in wanted.items() if self.counts[chat] < count]
                raise SystemExit(f"timed out; chats still waiting: {len(short)}")
            await asyncio.sleep(0.01)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Phase:
    seconds: float
    cpu_seconds: float  # of the bot's process, over the same span
    fake_cpu_seconds: float  # of this process, the fake Bot API server's, over the same span


async def timed_phase(tg: FakeTelegram, replies: Replies, process: subprocess.Popen[str],
                      scripts: dict[int, Sequence[str]], timeout: float) -> Phase:
    replies.scan()
    wanted = {user: replies.counts[user] + len(lines) for user, lines in scripts.items()}
    longest = max(len(lines) for lines in scripts.values())
    started, cpu_before, fake_before = time.monotonic(), cpu_seconds(process.pid), time.process_time()
    for index in range(longest):  # interleaved, as officers typing at once would be
        for user, lines in scripts.items():
            if index < len(lines):
                tg.user_sends_text(user, lines[index])
    finished = await replies.wait(wanted, timeout, process)
    return Phase(finished - started, cpu_seconds(process.pid) - cpu_before, time.process_time() - fake_before)


def environment(tg: FakeTelegram, workdir: Path, workers: int | None) -> dict[str, str]:
    return bot_environment(workdir, tg, **({} if workers is None else
                                           {"KSTTHC_TELEGRAM_WORKERS": str(workers)}))


async def register(workdir: Path, env: dict[str, str], officers: int) -> list[str]:
    """Invites for the first `officers` communes (the database is seeded by `units list`)."""
    from storage.database import Database
    from storage.models import Role
    from storage.officers import create_invite
    from storage.units import unit_by_code

    listed = subprocess.run([*command(), "units", "list", "--level", "commune"], cwd=workdir, env=env,
                            capture_output=True, text=True, check=True, timeout=120).stdout
    codes = [line.split("\t")[0] for line in listed.splitlines() if line.strip()]
    if len(codes) < officers:
        raise SystemExit(f"only {len(codes)} communes to register officers for")
    db = Database(env["KSTTHC_DATABASE_URL"])
    try:
        async with db.transaction() as session:
            invites = []
            for code in codes[:officers]:
                unit = await unit_by_code(session, code)
                assert unit is not None
                invites.append((await create_invite(session, unit, Role.OFFICER))[0])
        return invites
    finally:
        await db.close()


async def run_kstthc(tg: FakeTelegram, replies: Replies, workdir: Path, args: argparse.Namespace,
                     lines: Sequence[str], round_index: int) -> Phase:
    env = environment(tg, workdir, args.workers)
    invites = await register(workdir, env, args.officers)
    bot_command = [*command(), "run"]
    if args.profile:
        bot_command = [sys.executable, "-m", "cProfile", "-o", str(Path(args.profile).resolve()),
                       "-m", "bot", "run"]
    with (workdir / "bot.log").open("w") as log:
        process = subprocess.Popen(bot_command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   text=True)
    try:
        users = [BOT_USERS + ROUND_USERS * round_index + n for n in range(args.officers)]
        for user, invite in zip(users, invites, strict=True):
            tg.user_sends_text(user, f"/start {invite}", first_name="Cán bộ")
        replies.scan()
        # The greeting and the first question: two messages each.
        await replies.wait({user: 2 for user in users}, args.timeout, process)
        first = [m for user in users for m in tg.messages_to(user) if "câu 1/" in m.text]
        assert len(first) == len(users), "an officer did not get the first question"
        sampler = None
        if args.py_spy:  # sampling only the timed phase: registration and warm-up stay out of it
            sampler = subprocess.Popen(
                [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(process.pid), "--rate",
                 "400", "--nonblocking", "--format", "raw", "--output", str(Path(args.py_spy).resolve())],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            await asyncio.sleep(1.0)
        try:
            return await timed_phase(tg, replies, process, {user: lines for user in users}, args.timeout)
        finally:
            if sampler is not None:
                sampler.send_signal(signal.SIGINT)
                sampler.wait(timeout=30)
    finally:
        terminate(process, grace=20)
        if process.returncode not in (0, -signal.SIGTERM):
            print((workdir / "bot.log").read_text()[-3000:], file=sys.stderr)


async def run_echo(tg: FakeTelegram, replies: Replies, args: argparse.Namespace,
                   lines: Sequence[str], round_index: int, kind: str) -> Phase:
    limit = args.echo_concurrency
    process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--echo-bot", tg.base_url,
                                tg.token, str(limit), kind], cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, text=True)
    try:
        users = [ECHO_USERS[kind] + ROUND_USERS * round_index + n for n in range(args.officers)]
        await timed_phase(tg, replies, process, {user: ["/start"] for user in users}, args.timeout)
        return await timed_phase(tg, replies, process, {user: lines for user in users}, args.timeout)
    finally:
        terminate(process, grace=20)


async def main(args: argparse.Namespace) -> dict[str, object]:
    from engine.conversation import ReportEngine
    from engine.outline import default_outline_path, load_outline
    from tests.scripted_officer import script_for

    script = script_for(ReportEngine(load_outline(default_outline_path())), "commune")
    if args.answers > len(script):
        raise SystemExit(f"--answers: a commune officer has at most {len(script)} questions to answer")
    lines = script[: args.answers]
    total = args.officers * args.answers
    rates: dict[str, list[float]] = {name: [] for name in BOTS}
    cpu: dict[str, list[float]] = {name: [] for name in BOTS}
    fake_cpu: dict[str, list[float]] = {name: [] for name in BOTS}
    async with FakeTelegram() as tg:
        replies = Replies(tg)
        for round_index in range(args.rounds):
            # Back to back in each round, so that all meet the same load from the machine's
            # other tenants; the ratios are taken per round.
            with tempfile.TemporaryDirectory(prefix="kstthc-bench-") as directory:
                phases = {"bot": await run_kstthc(tg, replies, Path(directory), args, lines, round_index)}
            for kind in ECHO_USERS:
                phases[f"{kind}_echo"] = await run_echo(tg, replies, args, lines, round_index, kind)
            for name, phase in phases.items():
                rates[name].append(total / phase.seconds)
                cpu[name].append(1000 * phase.cpu_seconds / total)
                fake_cpu[name].append(1000 * phase.fake_cpu_seconds / total)
            print(f"round {round_index + 1}, {total} answers: " + "; ".join(
                f"{BOTS[name]} {rates[name][-1]:.1f}/s ({cpu[name][-1]:.2f} ms CPU each)" for name in BOTS)
                + f"; ratio {rates['bot'][-1] / rates['plain_echo'][-1]:.3f}", flush=True)
        failed = [r for r in tg.request_log if r.status not in (0, 200)]
        if failed:
            first = failed[0]
            print(f"{len(failed)} requests the fake refused, e.g. {first.method}: {first.description}",
                  file=sys.stderr)
    ratios = [bot / echo for bot, echo in zip(rates["bot"], rates["plain_echo"], strict=True)]
    edit_ratios = [bot / echo for bot, echo in zip(rates["bot"], rates["edit_echo"], strict=True)]
    # What a bot doing only what the issue requires of an answer reaches against the echo bot.
    floor_ratios = [durable / echo for durable, echo in zip(rates["durable_echo"], rates["plain_echo"],
                                                            strict=True)]
    # Issue 19's target: ours against that floor bot, by rate and by CPU time per answer.
    durable_ratios = [bot / durable for bot, durable in zip(rates["bot"], rates["durable_echo"], strict=True)]
    durable_cpu_ratios = [durable / bot for bot, durable in zip(cpu["bot"], cpu["durable_echo"], strict=True)]
    print(f"ours to the durable floor bot: {median(durable_ratios):.3f} by rate (target ≥ 0.7), "
          f"{median(durable_cpu_ratios):.3f} by CPU per answer; to the echo bot: {median(ratios):.3f}; to "
          f"the echo bot making our bot's Bot API calls: {median(edit_ratios):.3f}; the durable floor bot "
          f"to the echo bot: {median(floor_ratios):.3f}")
    return {
        "bot_answers_per_s": round(median(rates["bot"]), 1),
        "echo_answers_per_s": round(median(rates["plain_echo"]), 1),
        "ratio": round(median(ratios), 3),
        "rounds": args.rounds,
        "ratio_per_round": [round(ratio, 3) for ratio in ratios],
        "edit_echo_answers_per_s": round(median(rates["edit_echo"]), 1),
        "ratio_to_edit_echo": round(median(edit_ratios), 3),
        "durable_echo_answers_per_s": round(median(rates["durable_echo"]), 1),
        "durable_echo_ratio": round(median(durable_ratios), 3),  # issue 19: ≥ 0.7
        "durable_echo_ratio_per_round": [round(ratio, 3) for ratio in durable_ratios],
        "durable_echo_cpu_ratio": round(median(durable_cpu_ratios), 3),
        "durable_echo_to_echo": round(median(floor_ratios), 3),
        # CPU time of each bot's process per answer: steadier than rates on a shared machine.
        "bot_cpu_ms_per_answer": round(median(cpu["bot"]), 2),
        "echo_cpu_ms_per_answer": round(median(cpu["plain_echo"]), 2),
        "edit_echo_cpu_ms_per_answer": round(median(cpu["edit_echo"]), 2),
        "durable_echo_cpu_ms_per_answer": round(median(cpu["durable_echo"]), 2),
        # The fake Bot API server's CPU time per answer (this process), serving each bot.
        "fake_cpu_ms_per_answer": {name: round(median(fake_cpu[name]), 2) for name in BOTS},
        "officers": args.officers,
        "answers": total,
        "answers_per_officer": args.answers,
        "workers": args.workers,
        "echo_concurrency": args.echo_concurrency,
        "failed_requests": len(failed),
    }


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=50)
    parser.add_argument("--answers", type=int, default=20, help="answers per officer")
    parser.add_argument("--workers", type=int, default=None,
                        help="KSTTHC_TELEGRAM_WORKERS for our bot (default: the bot's own default)")
    parser.add_argument("--echo-concurrency", type=int, default=100,
                        help="tasks_concurrency_limit of the echo bot")
    parser.add_argument("--rounds", type=int, default=3,
                        help="bot-then-echo rounds; medians are reported (the machine is shared)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per phase before giving up")
    parser.add_argument("--profile", help="run our bot under cProfile and write the stats to this file")
    parser.add_argument("--py-spy", help="sample our bot's timed phase with py-spy (pip install py-spy) and "
                        "write the collapsed stacks to this file")
    return parser.parse_args(argv)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--echo-bot":
        asyncio.run(echo_bot(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]))
    else:
        print(json.dumps(asyncio.run(main(parse()))), flush=True)
