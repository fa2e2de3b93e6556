"""Answers per second on PostgreSQL with 1, 2 and 4 `kstthc-bot run --webhook` processes behind
one webhook address, beside a floor bot that commits each answer to PostgreSQL.

As Telegram does with a webhook (up to 40 connections), this script POSTs the updates to one
address, a round-robin load balancer (tests/test_multiprocess.py's) in front of the processes,
several at a time and oldest first; the processes talk to one fake Bot API
(tests/fake_telegram.py) and one fresh PostgreSQL database. N officers each queue M answers at
once; the clock runs from the first POST until the fake has received the bot's reply to each
(the next question). The floor bot is bench/answers.py's echo bot with edits whose durable
commit goes to PostgreSQL (one INSERT, committed, before the reply): what any bot that keeps
every answer must do, with none of the rest. CPU time per answer is given for the bot
processes together and, when this machine runs the database, for PostgreSQL's processes.

    KSTTHC_TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test \\
        python bench/scale.py [--processes 1 2 4] [--officers 40] [--answers 15] [--rounds 2]

The last line printed is one JSON object: per process count the medians over rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import median
from typing import Any

from aiohttp import ClientSession

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.answers import Replies, cpu_seconds  # noqa: E402
from tests.commands import command  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.telegram_harness import terminate  # noqa: E402
from tests.test_multiprocess import (  # noqa: E402
    SECRET,
    RoundRobin,
    free_port,
    fresh_database,
    invites_for,
    wait_for_schema,
)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
USERS = 3_000_000
ROUND_USERS = 10_000


def postgres_cpu(database_url: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL server process serving this database (when
    the server runs on this machine; its processes name the database they serve)."""
    name = database_url.rsplit("/", 1)[1]
    used = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if f" {name} " in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    used[int(entry.name)] = cpu_seconds(int(entry.name))
            except OSError:
                continue  # ended meanwhile
    return used


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


class Platform:
    """Telegram's side of the webhook: the fake's pending updates POSTed to one address."""

    def __init__(self, tg: FakeTelegram, address: str, connections: int) -> None:
        self.tg = tg
        self.address = address
        self.connections = connections
        self.offset = 0
        self.http = ClientSession()

    async def call(self, method: str, **params: Any) -> Any:
        async with self.http.post(self.tg.api_url(method), json=params) as response:
            return (await response.json())["result"]

    async def deliver_pending(self) -> None:
        """Every update queued in the fake, oldest first, `connections` POSTs at a time, each
        again until the address answers 200 (as Telegram does)."""
        updates: list[dict[str, Any]] = []
        while batch := await self.call("getUpdates", offset=self.offset, limit=100, timeout=0):
            updates.extend(batch)
            self.offset = batch[-1]["update_id"] + 1
        pending = iter(updates)

        async def connection() -> None:
            for update in pending:
                while True:
                    async with self.http.post(self.address, json=update,
                                              headers={SECRET_HEADER: SECRET}) as response:
                        if response.status == 200:
                            break
                    await asyncio.sleep(0.05)

        await asyncio.gather(*(connection() for _ in range(self.connections)))

    async def close(self) -> None:
        await self.http.close()


async def start_bots(workdir: Path, tg: FakeTelegram, database_url: str, count: int,
                     workers: int | None) -> tuple[list[subprocess.Popen[str]], str, Any]:
    ports = [free_port() for _ in range(count)]
    balancer = RoundRobin([f"http://127.0.0.1:{port}" for port in ports])
    address, runner = await balancer.start()
    processes = []
    for index, port in enumerate(ports):
        env = {k: v for k, v in os.environ.items() if not k.startswith("KSTTHC_")}
        env.update(tg.env())
        env.update({"KSTTHC_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1",
                    "KSTTHC_TELEGRAM_WEBHOOK_URL": f"{address}/telegram/webhook",
                    "KSTTHC_TELEGRAM_WEBHOOK_SECRET": SECRET, "KSTTHC_TELEGRAM_WEBHOOK_PORT": str(port)})
        if workers is not None:
            env["KSTTHC_TELEGRAM_WORKERS"] = str(workers)
        with (workdir / f"bot-{index}.log").open("w") as log:
            processes.append(subprocess.Popen([*command(), "run", "--webhook"], cwd=workdir, env=env,
                                              stdout=log, stderr=subprocess.STDOUT, text=True))
    return processes, address, runner


async def run_ours(tg: FakeTelegram, replies: Replies, args: argparse.Namespace, count: int,
                   lines: Sequence[str], round_index: int) -> tuple[float, float, float]:
    """(seconds, bot CPU seconds, PostgreSQL CPU seconds) for every officer's answers."""
    from storage.database import Database

    with tempfile.TemporaryDirectory(prefix="kstthc-scale-") as directory:
        workdir = Path(directory)
        async with fresh_database() as database_url:
            registered = tg.request_count("setWebhook")
            processes, address, runner = await start_bots(workdir, tg, database_url, count, args.workers)
            platform: Platform | None = None
            db = Database(database_url)
            try:
                await wait_for_schema(db, timeout=args.timeout)
                # Every process serving, its webhook registered (each registers the one address).
                await tg.wait_for(lambda s: s.request_count("setWebhook") >= registered + count,
                                  timeout=args.timeout)
                invites = [invite for _, invite in await invites_for(db, args.officers)]
                # From here this script delivers the updates, several connections at once.
                platform = Platform(tg, f"{address}/telegram/webhook", args.connections)
                await platform.call("deleteWebhook")
                users = [USERS + ROUND_USERS * round_index + 1000 * count + n for n in range(args.officers)]
                for user, invite in zip(users, invites, strict=True):
                    tg.user_sends_text(user, f"/start {invite}", first_name="Cán bộ")
                await platform.deliver_pending()
                replies.scan()
                await replies.wait({user: 2 for user in users}, args.timeout, processes[0])
                wanted = {user: replies.counts[user] + len(lines) for user in users}
                for index in range(len(lines)):
                    for user in users:
                        tg.user_sends_text(user, lines[index])
                started = time.monotonic()
                cpu_before = sum(cpu_seconds(p.pid) for p in processes)
                database_before = postgres_cpu(database_url)
                await platform.deliver_pending()
                finished = await replies.wait(wanted, args.timeout, processes[0])
                return (finished - started, sum(cpu_seconds(p.pid) for p in processes) - cpu_before,
                        spent(database_before, postgres_cpu(database_url)))
            except SystemExit:
                for log in sorted(workdir.glob("bot-*.log")):
                    print(f"--- {log.name}\n{log.read_text()[-2000:]}", file=sys.stderr)
                raise
            finally:
                if platform is not None:
                    await platform.close()
                await db.close()
                await asyncio.gather(*(asyncio.to_thread(terminate, p, 10) for p in processes))
                await runner.cleanup()
                if args.logs:
                    for log in workdir.glob("bot-*.log"):
                        Path(args.logs).mkdir(parents=True, exist_ok=True)
                        (Path(args.logs) / f"round{round_index + 1}-{count}-{log.name}").write_text(
                            log.read_text())


async def run_floor(tg: FakeTelegram, replies: Replies, args: argparse.Namespace, lines: Sequence[str],
                    round_index: int) -> tuple[float, float, float]:
    """The echo bot with edits committing each answer to PostgreSQL, polling the fake."""
    async with fresh_database() as database_url:
        env = {**os.environ, "BENCH_POSTGRES_DSN": database_url.replace("+asyncpg", "")}
        process = subprocess.Popen([sys.executable, str(REPO / "bench" / "answers.py"), "--echo-bot",
                                    tg.base_url, tg.token, "100", "postgres"], cwd=REPO, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        try:
            users = [USERS + 500_000 + ROUND_USERS * round_index + n for n in range(args.officers)]
            for user in users:
                tg.user_sends_text(user, "/start")
            replies.scan()
            await replies.wait({user: replies.counts[user] + 1 for user in users}, args.timeout, process)
            wanted = {user: replies.counts[user] + len(lines) for user in users}
            started = time.monotonic()
            cpu_before, database_before = cpu_seconds(process.pid), postgres_cpu(database_url)
            for index in range(len(lines)):
                for user in users:
                    tg.user_sends_text(user, lines[index])
            finished = await replies.wait(wanted, args.timeout, process)
            return (finished - started, cpu_seconds(process.pid) - cpu_before,
                    spent(database_before, postgres_cpu(database_url)))
        finally:
            await asyncio.to_thread(terminate, process, 10)


async def main(args: argparse.Namespace) -> dict[str, object]:
    from engine.conversation import ReportEngine
    from engine.outline import default_outline_path, load_outline
    from tests.scripted_officer import script_for

    lines = script_for(ReportEngine(load_outline(default_outline_path())), "commune")[: args.answers]
    total = args.officers * len(lines)
    names = [f"{count}_processes" for count in args.processes] + ["floor"]
    rates: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    database: dict[str, list[float]] = {name: [] for name in names}
    async with FakeTelegram() as tg:
        replies = Replies(tg)
        for round_index in range(args.rounds):
            for name in names:
                if name == "floor":
                    seconds, used, db_used = await run_floor(tg, replies, args, lines, round_index)
                else:
                    seconds, used, db_used = await run_ours(tg, replies, args, int(name.split("_")[0]),
                                                            lines, round_index)
                rates[name].append(total / seconds)
                cpu[name].append(1000 * used / total)
                database[name].append(1000 * db_used / total)
                print(f"round {round_index + 1}, {name}: {rates[name][-1]:.1f} answers/s, "
                      f"{cpu[name][-1]:.2f} ms bot CPU and {database[name][-1]:.2f} ms PostgreSQL CPU "
                      "per answer", flush=True)
    return {name: {"answers_per_s": round(median(rates[name]), 1),
                   "per_round": [round(rate, 1) for rate in rates[name]],
                   "bot_cpu_ms_per_answer": round(median(cpu[name]), 2),
                   "postgres_cpu_ms_per_answer": round(median(database[name]), 2)}
            for name in names} | {"officers": args.officers, "answers": total, "rounds": args.rounds,
                                  "connections": args.connections, "cores": os.cpu_count()}


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--officers", type=int, default=40)
    parser.add_argument("--answers", type=int, default=15, help="answers per officer")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16,
                        help="webhook POSTs in flight at once (Telegram allows up to 40)")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--workers", type=int, help="KSTTHC_TELEGRAM_WORKERS of each process "
                        "(default: the bot's own)")
    parser.add_argument("--logs", help="keep the bot processes' logs in this folder")
    args = parser.parse_args()
    if not os.environ.get("KSTTHC_TEST_POSTGRES_URL"):
        parser.error("set KSTTHC_TEST_POSTGRES_URL to a PostgreSQL database this script may use")
    return args


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse()))), flush=True)
