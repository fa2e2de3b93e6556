"""Reminder throughput: N officers with unfinished reports, one reminder each, delivered by the real
`kstthc-bot run` (planner, OutboxSender, TelegramChannel.deliver_outgoing) in a process of its own
against the fake Bot API server (tests/fake_telegram.py, in this process, on 127.0.0.1).

The database (a SQLite file) gets N synthetic communes "B00001"… with one officer each on
Telegram, and a fixed-date campaign due Sunday 6/9/2026 (really Friday 4/9/2026). The bot runs with
KSTTHC_NOW set to one minute into the opening of its first reminder day (the −10 one, Wednesday
19/8/2026 07:31 in Vietnam): exactly one reminder per officer is due, none missed, no digest yet.

    python bench/reminders.py [--officers 10000] [--rate 25] [--timeout 900]

It measures, at the fake: the achieved send rate (successful sendMessage calls, first to last)
as a fraction of the configured limit (target ≥ 0.95), the busiest 1-second window, duplicates
(target 0); and the bot process's peak memory (VmHWM). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fake_telegram import FakeTelegram  # noqa: E402
from tests.telegram_harness import bot_environment, terminate  # noqa: E402

FIRST_CHAT = 7_000_000
NOMINAL = date(2026, 9, 6)
SLICE = 1000


def reminder_moment() -> datetime:
    """One minute after the opening of the campaign's first reminder day, in Vietnam."""
    from deadlines.schedule import ReminderSettings, opening, reminder_days, unit_deadline
    from deadlines.schedule import UnitDates as Dates
    from deadlines.workdays import WorkingCalendar

    calendar, settings = WorkingCalendar(), ReminderSettings()
    deadline = unit_deadline("fixed_date", Dates(NOMINAL), calendar)
    assert deadline is not None
    first = reminder_days(deadline, settings, calendar)[0]
    return opening(first.day, settings) + timedelta(minutes=1)


async def prepare(url: str, officers: int) -> None:
    """Schema, campaign, N units with one Telegram officer each: inserted in bulk."""
    from sqlalchemy import insert, select

    from handlers.campaigns import create_campaign
    from storage.database import Database
    from storage.models import Identity, Officer, Role, Unit

    db = Database(url, sqlite_synchronous="NORMAL")
    try:
        await db.upgrade()
        async with db.transaction() as session:
            await create_campaign(session, "tu-kiem-tra-bench", "Báo cáo tự kiểm tra (bench)", "fixed_date",
                                  NOMINAL, "ke-hoach-20-2021.yaml")
            for start in range(0, officers, SLICE):
                await session.execute(insert(Unit), [
                    {"code": f"B{n + 1:05d}", "name": f"Xã thử nghiệm {n + 1}", "level": "commune"}
                    for n in range(start, min(officers, start + SLICE))])
            units = list(await session.scalars(select(Unit.id).order_by(Unit.id)))
            for start in range(0, officers, SLICE):
                await session.execute(insert(Officer), [
                    {"unit_id": unit, "role": Role.OFFICER, "name": f"Cán bộ {unit}", "locale": "vi"}
                    for unit in units[start:start + SLICE]])
            people = list(await session.scalars(select(Officer.id).order_by(Officer.id)))
            for start in range(0, officers, SLICE):
                await session.execute(insert(Identity), [
                    {"officer_id": officer, "channel": "telegram", "external_id": str(FIRST_CHAT + n),
                     "chat_id": str(FIRST_CHAT + n)}
                    for n, officer in enumerate(people[start:start + SLICE], start)])
    finally:
        await db.close()


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident set size so far (Linux VmHWM), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def busiest_second(times: Sequence[float]) -> int:
    ordered = sorted(times)
    best, start = 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


async def main(args: argparse.Namespace) -> dict[str, object]:
    now = reminder_moment()
    with tempfile.TemporaryDirectory(prefix="kstthc-bench-reminders-") as directory:
        workdir = Path(directory)
        database = workdir / "bot.sqlite3"
        url = f"sqlite+aiosqlite:///{database}"
        started = time.monotonic()
        await prepare(url, args.officers)
        print(f"{args.officers} officers prepared in {time.monotonic() - started:.1f}s; "
              f"the bot's clock: {now.isoformat()}", flush=True)
        async with FakeTelegram() as tg:
            env = bot_environment(workdir, tg, KSTTHC_NOW=now.isoformat(),
                                  KSTTHC_OUTBOX_RATE_PER_S=str(args.rate))
            chats = {FIRST_CHAT + n for n in range(args.officers)}
            with (workdir / "bot.log").open("w") as log:
                process = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=REPO, env=env,
                                           stdout=log, stderr=subprocess.STDOUT, text=True)
            launched = time.monotonic()
            peak = 0.0
            try:
                deadline = launched + args.timeout
                last_report = launched
                while True:
                    delivered = {m.chat_id for m in tg.sent if m.chat_id in chats}
                    peak = max(peak, peak_rss_mb(process.pid) or 0.0)
                    if len(delivered) >= len(chats):
                        break
                    if process.poll() is not None:
                        raise SystemExit(f"the bot exited with {process.returncode}:\n"
                                         + (workdir / "bot.log").read_text()[-3000:])
                    if time.monotonic() > deadline:
                        print(f"timed out with {len(delivered)} of {len(chats)} delivered", file=sys.stderr)
                        break
                    if time.monotonic() - last_report >= 30:
                        last_report = time.monotonic()
                        print(f"  {len(delivered)} delivered after {last_report - launched:.0f}s", flush=True)
                    await asyncio.sleep(0.2)
                await asyncio.sleep(1.5)  # anything more (a duplicate) would arrive now
                peak = max(peak, peak_rss_mb(process.pid) or 0.0)
            finally:
                terminate(process, grace=30)
            sends = [r for r in tg.request_log if r.method == "sendMessage" and r.chat_id in chats]
            ok = sorted((r for r in sends if r.ok), key=lambda r: r.time)
            refused = len(sends) - len(ok)
            per_chat = Counter(r.chat_id for r in ok)
        with sqlite3.connect(database) as connection:
            statuses = dict(connection.execute(
                "SELECT status, count(*) FROM outbox WHERE kind = 'reminder' GROUP BY status").fetchall())

    sent = len(ok)
    duplicates = sum(count - 1 for count in per_chat.values() if count > 1)
    span = ok[-1].time - ok[0].time if sent > 1 else 0.0
    achieved = (sent - 1) / span if span > 0 else 0.0
    fraction = achieved / args.rate
    first_after = ok[0].time - launched if ok else None
    print(f"sent {sent} of {args.officers} reminders in {span:.1f}s after the first "
          f"({first_after:.1f}s after the bot started)" if ok else "nothing sent")
    print(f"achieved {achieved:.2f}/s of the {args.rate:g}/s limit = {fraction:.3f} (target ≥ 0.95); "
          f"busiest second: {busiest_second([r.time for r in ok])}")
    gaps = sorted(b.time - a.time for a, b in itertools.pairwise(ok))
    stalls = [gap for gap in gaps if gap > 2 / args.rate]
    if gaps:
        print(f"between sends: median {1000 * gaps[len(gaps) // 2]:.1f} ms, p99 "
              f"{1000 * gaps[int(len(gaps) * 0.99)]:.1f} ms, max {1000 * gaps[-1]:.0f} ms; "
              f"{len(stalls)} pauses longer than two intervals, {sum(stalls):.1f}s in all")
        longest = sorted(((b.time - a.time, a.time - launched) for a, b in itertools.pairwise(ok)),
                         reverse=True)[:8]
        print("longest pauses (seconds, at seconds after the bot started): "
              + ", ".join(f"{gap:.2f} at {when:.0f}" for gap, when in sorted(longest, key=lambda g: g[1])))
    print(f"duplicates: {duplicates} (target 0); refused requests: {refused}; outbox: {statuses}")
    print(f"bot peak RSS: {peak:.1f} MiB")
    return {
        "officers": args.officers,
        "sent": sent,
        "limit_per_s": args.rate,
        "achieved_per_s": round(achieved, 2),
        "rate_fraction": round(fraction, 4),
        "busiest_second": busiest_second([r.time for r in ok]),
        "duplicates": duplicates,
        "refused_requests": refused,
        "peak_rss_mb": round(peak, 1),
        "seconds_sending": round(span, 2),
        "median_interval_ms": round(1000 * gaps[len(gaps) // 2], 2) if gaps else None,
        "pauses_s": round(sum(stalls), 2),
        "seconds_to_first_send": round(first_after, 2) if first_after is not None else None,
        "outbox": statuses,
    }


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=25.0,
                        help="KSTTHC_OUTBOX_RATE_PER_S, the bot's overall send limit (the bot's default: 25)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds to wait for every reminder (default: twice the ideal time + 60)")
    args = parser.parse_args(argv)
    if args.timeout is None:
        args.timeout = 2 * args.officers / args.rate + 60
    return args


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse()))), flush=True)
