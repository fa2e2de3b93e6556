"""Benchmark: the web desk's board for 1,000 units and a department's 84-item report.

    python3 bench/web.py [--units 1000] [--repeat 7]

Builds a SQLite file: the seeded city (its real communes and wards, and the self-inspection
campaign), then synthetic units up to --units, a third of them with answers (a tenth handed
in); one department's whole report answered through the real engine. Serves the real desk
(bot.web.app.make_app) in this process and fetches each page --repeat times through aiohttp's
client, signed in: the time per page (median; the client's share is the floor below), and the
number of SQL statements per page, counted by a SQLAlchemy event listener, for the board at
100 units and at --units (no N+1: the two must be equal). Floors, measured in the same run: /healthz
behind the same middlewares (the request's transaction opened and committed, nothing rendered),
and for the board the least a page of every unit costs: the units' code, name and level in one
SELECT, rendered by a one-line Jinja2 template into the same table, plus that /healthz.
The last line printed is one JSON object."""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import jinja2  # noqa: E402
from aiohttp.test_utils import TestClient, TestServer  # noqa: E402
from sqlalchemy import event, insert, select  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.seed import seed_if_empty  # noqa: E402
from bot.web.app import make_app  # noqa: E402
from bot.web.auth import COOKIE  # noqa: E402
from engine.commands import parse_text  # noqa: E402
from engine.conversation import ReportEngine  # noqa: E402
from engine.outline import default_outline_path, load_outline  # noqa: E402
from engine.views import State  # noqa: E402
from handlers.report import open_report, take_turn  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.models import AnswerRow, Campaign, Officer, Role, Submission, Unit, UnitLevel  # noqa: E402
from storage.web_tokens import open_session  # noqa: E402
from tests.scripted_officer import script_for  # noqa: E402

TODAY = date(2027, 10, 25)
NOW = datetime.fromisoformat("2027-10-25T09:00:00+07:00")


async def build(url: str, units: int, engine: ReportEngine) -> tuple[int, int, str]:
    """(campaign id, the department's unit id, a session cookie)."""
    db = Database(url, sqlite_synchronous="NORMAL")
    await db.upgrade()
    async with db.transaction() as session:
        await seed_if_empty(session, Settings(database_url=url), TODAY)
        campaign = await session.scalar(select(Campaign))
        assert campaign is not None
        present = len(list(await session.scalars(select(Unit.id).where(Unit.level != UnitLevel.PROVINCE))))
        department = Unit(code="D-BENCH", name="Sở Bench", level=UnitLevel.DEPARTMENT)
        session.add(department)
        session.add_all(Unit(code=f"B{n:05d}", name=f"Xã Thử Nghiệm {n}", level=UnitLevel.COMMUNE)
                        for n in range(max(0, units - present - 1)))
        admin = Officer(role=Role.ADMIN, name="Bench")
        session.add(admin)
        await session.flush()
        cookie = await open_session(session, admin)
        campaign_id, department_id = campaign.id, department.id
    async with db.transaction() as session:
        officer = Officer(role=Role.OFFICER, unit_id=department_id, name="Bench officer")
        session.add(officer)
        await session.flush()
    for line in [*script_for(engine, "department"), "nộp", "xác nhận"]:
        async with db.transaction() as session:
            unit = await session.get(Unit, department_id)
            assert unit is not None
            report = await open_report(session, officer, unit, "bench")
            assert report is not None
            await take_turn(session, report, parse_text(line))
    async with db.transaction() as session:
        ids = list(await session.scalars(select(Unit.id).where(Unit.code.like("B%")).order_by(Unit.id)))
        working = ids[::3]
        if working:
            await insert_work(session, campaign_id, working, officer.id)
    await db.close()
    return campaign_id, department_id, cookie


async def insert_work(session: Any, campaign_id: int, working: list[int], officer_id: int) -> None:
    """A third of the synthetic units at work (20 answers each), a tenth of those handed in."""
    await session.execute(insert(Submission), [
        {"campaign_id": campaign_id, "unit_id": unit_id,
         "status": "submitted" if index % 10 == 0 else "draft"} for index, unit_id in enumerate(working)])
    submissions = list(await session.scalars(select(Submission.id).where(Submission.unit_id.in_(working))))
    await session.execute(insert(AnswerRow), [
        {"submission_id": sid, "question": f"q{n}", "kind": "value", "value": "1", "officer_id": officer_id,
         "channel": "bench"} for sid in submissions for n in range(20)])


FLOOR_TABLE = jinja2.Environment(autoescape=True).from_string(
    "<table>{% for code, name, level in rows %}<tr><td><a href='/u/{{ code }}'>{{ name }}</a> {{ code }}"
    "</td><td>{{ level }}</td><td></td><td></td></tr>{% endfor %}</table>")


async def board_floor(url: str, repeat: int) -> float:
    """Milliseconds for every unit's row from one SELECT through a bare template (median)."""
    db = Database(url)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        async with db.transaction() as session:
            rows = (await session.execute(select(Unit.code, Unit.name, Unit.level))).all()
        FLOOR_TABLE.render(rows=rows)
        times.append((time.perf_counter() - start) * 1000)
    await db.close()
    return statistics.median(times)


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1


async def measure(url: str, campaign: int, department: int, cookie: str, repeat: int,
                  query: str = "") -> dict[str, Any]:
    db = Database(url)
    counter = Counter()
    event.listen(db.engine.sync_engine, "before_cursor_execute", counter)
    settings = Settings(database_url=url, now=NOW)
    pages = {"floor": "/healthz", "board": f"/?campaign={campaign}{query}",
             "report": f"/campaigns/{campaign}/units/{department}"}
    found: dict[str, Any] = {}
    async with TestClient(TestServer(make_app(settings, db))) as client:
        for name, path in pages.items():
            times, counts = [], []
            for _ in range(repeat):
                before = counter.count
                start = time.perf_counter()
                response = await client.get(path, cookies={COOKIE: cookie})
                body = await response.read()
                times.append((time.perf_counter() - start) * 1000)
                counts.append(counter.count - before)
                assert response.status == 200, (path, response.status)
            found[name] = {"ms": round(statistics.median(times), 1), "queries": counts[-1],
                           "kib": round(len(body) / 1024)}
    await db.close()
    return found


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    engine = ReportEngine(load_outline(default_outline_path()))
    folder = Path(tempfile.mkdtemp(prefix="kstthc-web-bench-"))
    small_url = f"sqlite+aiosqlite:///{folder / 'small.sqlite3'}"
    large_url = f"sqlite+aiosqlite:///{folder / 'large.sqlite3'}"
    small = await measure(small_url, *await build(small_url, 100, engine), args.repeat)
    large = await measure(large_url, *await build(large_url, args.units, engine), args.repeat)
    state = engine.resume(State(answers={}, unit_level="department")).state
    for line in script_for(engine, "department"):
        state = engine.step(state, parse_text(line)).state
    items = sum(len(section_items) for _section, section_items in engine.review(state).sections)
    floor = large["floor"]["ms"]
    table_floor = round(await board_floor(large_url, args.repeat) + floor, 1)
    result = {
        "units": args.units, "board_ms": large["board"]["ms"], "report_ms": large["report"]["ms"],
        "floor_ms": floor, "board_floor_ms": table_floor,
        "board_per_floor": round(large["board"]["ms"] / table_floor, 1),
        "report_per_floor": round(large["report"]["ms"] / floor, 1),
        "board_queries_100": small["board"]["queries"],
        f"board_queries_{args.units}": large["board"]["queries"],
        "report_queries": large["report"]["queries"], "board_kib": large["board"]["kib"],
        "queries_constant": small["board"]["queries"] == large["board"]["queries"], "report_items": items,
    }
    print(f"board, {args.units} units: {large['board']['ms']} ms, {large['board']['queries']} SQL statements "
          f"({small['board']['queries']} at 100 units), {large['board']['kib']} KiB")
    print(f"report, department ({items} items): {large['report']['ms']} ms, "
          f"{large['report']['queries']} SQL statements")
    print(f"floors: /healthz {floor} ms; every unit from one SELECT through a bare template {table_floor} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
