"""Restart to first answer: from starting `kstthc-bot run` to the fake Bot API receiving its reply
to an answer that was waiting for it.

An officer is registered and shown the first question; the bot is stopped; the officer answers;
the bot is started again (polling) and the clock runs from the moment its process is started
until the fake has received the next question. Each round answers the next question after a
fresh start. Beside it, in the same run, the floor: the bare aiogram echo bot of
bench/answers.py started the same way with an update waiting (what importing aiogram, the
ordinary way, and one round trip cost on this machine). CPU seconds are reported beside the
wall-clock ones: on a shared machine they are the steadier figure.

    python bench/restart.py [--rounds 5] [--profile restart.txt]

--profile runs our bot's last round under pyinstrument (`pip install pyinstrument`; not a
dependency of the bot) and writes where its time to the first answer went.

The last line printed is one JSON object: medians and every round's figure, in seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.answers import cpu_seconds, register  # noqa: E402
from tests.commands import command  # noqa: E402
from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.telegram_harness import bot_environment, terminate  # noqa: E402

OFFICER = 5_000_000
ECHO_USER = 5_100_000


async def first_reply(tg: FakeTelegram, chat_id: int, process: subprocess.Popen[str], started: float,
                      timeout: float) -> tuple[float, float]:
    """Seconds from `started` to the first message to `chat_id` sent after it, and the CPU
    seconds the process had used by then (the steadier figure on a shared machine)."""
    before = len(tg.messages_to(chat_id))
    deadline = time.monotonic() + timeout
    while len(tg.messages_to(chat_id)) == before:
        if process.poll() is not None:
            raise SystemExit(f"the bot exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise SystemExit("no reply in time")
        await asyncio.sleep(0.005)
    return tg.messages_to(chat_id)[before].time - started, cpu_seconds(process.pid)


def start(argv: list[str], workdir: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], float]:
    with (workdir / "bot.log").open("a") as log:
        started = time.monotonic()
        return subprocess.Popen(argv, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                text=True), started


async def stop(process: subprocess.Popen[str]) -> None:
    # Off the loop: the fake (on this loop) answers the calls the bot finishes with.
    await asyncio.to_thread(terminate, process, 20)


async def main(args: argparse.Namespace) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="kstthc-restart-") as directory:
        try:
            return await measure(args, Path(directory))
        except SystemExit:
            print((Path(directory) / "bot.log").read_text()[-3000:], file=sys.stderr)
            raise


async def measure(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    from engine.conversation import ReportEngine
    from engine.outline import default_outline_path, load_outline
    from tests.scripted_officer import script_for

    script = script_for(ReportEngine(load_outline(default_outline_path())), "commune")
    ours: list[tuple[float, float]] = []
    floor: list[tuple[float, float]] = []
    async with FakeTelegram() as tg:
        env = bot_environment(workdir, tg)
        invite = (await register(workdir, env, 1))[0]
        run = [*command(), "run"]
        tg.user_sends_text(OFFICER, f"/start {invite}", first_name="Cán bộ")
        process, started = start(run, workdir, env)
        await first_reply(tg, OFFICER, process, started, args.timeout)
        await tg.wait_for(lambda s: any("câu 1/" in m.text for m in s.messages_to(OFFICER)),
                          timeout=args.timeout)
        await stop(process)
        for index, line in enumerate(script[: args.rounds]):
            tg.user_sends_text(OFFICER, line)
            profiled = args.profile and index == args.rounds - 1
            process, started = start([sys.executable, "-m", "pyinstrument", "-r", "text", "-o",
                                      str(Path(args.profile).resolve()), "-m", "bot", *run[1:]]
                                     if profiled else run, workdir, env)
            try:
                ours.append(await first_reply(tg, OFFICER, process, started, args.timeout))
                if profiled:
                    await asyncio.sleep(0.2)  # the profile ends with the process: just after
            finally:
                await stop(process)
            echo = [sys.executable, str(REPO / "bench" / "answers.py"), "--echo-bot", tg.base_url,
                    tg.token, "100", "plain"]
            tg.user_sends_text(ECHO_USER, "xin chào")
            process, started = start(echo, workdir, env)
            try:
                floor.append(await first_reply(tg, ECHO_USER, process, started, args.timeout))
            finally:
                await stop(process)
            print(f"restart to first answer: ours {ours[-1][0]:.2f} s ({ours[-1][1]:.2f} s CPU); "
                  f"the bare echo bot {floor[-1][0]:.2f} s ({floor[-1][1]:.2f} s CPU)", flush=True)
    return {
        "restart_to_first_answer_s": round(median(s for s, _ in ours), 2),
        "restart_cpu_s": round(median(c for _, c in ours), 2),
        "echo_restart_to_first_reply_s": round(median(s for s, _ in floor), 2),
        "echo_restart_cpu_s": round(median(c for _, c in floor), 2),
        "per_round_s": [round(s, 2) for s, _ in ours],
        "echo_per_round_s": [round(s, 2) for s, _ in floor],
        "rounds": args.rounds,
    }


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--profile", help="profile our bot's last start with pyinstrument into this file")
    return parser.parse_args()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse()))), flush=True)
