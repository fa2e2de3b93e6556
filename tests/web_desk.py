"""A seeded database for the web desk's tests: the VP office's admin, two units whose officers
handed in the whole report (one answer carrying HTML), and a unit at work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from bot.config import Settings
from bot.seed import seed_if_empty
from engine.commands import parse_text
from engine.conversation import ReportEngine
from handlers.report import open_report, take_turn
from storage.database import Database
from storage.models import Officer, Role, Unit, stamping_clock
from storage.officers import create_invite, redeem_invite
from tests.scripted_officer import script_for

TODAY = date(2027, 10, 25)  # four working days before the self-inspection's due date (29/10/2027)
NOW = "2027-10-25T09:00:00+07:00"
HOSTILE = "<script>alert('x')</script><b>đậm</b> & “ngoặc”"
SUBMITTED = ("31135", "31120")  # Phường Ninh Kiều, Phường Cái Khế
AT_WORK = "31147"


@dataclass(frozen=True)
class Desk:
    db: Database
    admin: Officer
    officers: dict[str, Officer]


async def person(db: Database, external_id: str, unit_code: str | None) -> Officer:
    async with db.transaction() as session:
        unit = await session.scalar(select(Unit).where(Unit.code == unit_code)) if unit_code else None
        code, _ = await create_invite(session, unit, Role.OFFICER if unit else Role.ADMIN)
        redeemed = await redeem_invite(session, code, "telegram", external_id, name=f"Cán bộ {external_id}",
                                       chat_id=external_id)
        assert redeemed.officer is not None
        return redeemed.officer


async def says(db: Database, officer: Officer, line: str) -> None:
    async with db.transaction() as session:
        unit = await session.get(Unit, officer.unit_id)
        assert unit is not None
        report = await open_report(session, officer, unit, "telegram")
        assert report is not None
        await take_turn(session, report, parse_text(line))


async def seeded_desk(url: str, engine: ReportEngine, submitted: tuple[str, ...] = SUBMITTED) -> Desk:
    # Stamped at the drill's moment, as `kstthc-bot` would be under KSTTHC_NOW: the pages (and
    # the README's screenshots) show the same times on every run.
    stamped = stamping_clock.set(lambda: datetime.fromisoformat(NOW))
    try:
        return await _seed(url, engine, submitted)
    finally:
        stamping_clock.reset(stamped)


async def _seed(url: str, engine: ReportEngine, submitted: tuple[str, ...]) -> Desk:
    db = Database(url, sqlite_synchronous="NORMAL")  # a test: no fsync per commit
    await db.upgrade()
    async with db.transaction() as session:
        await seed_if_empty(session, Settings(database_url=url), TODAY)
    admin = await person(db, "900", None)
    officers = {code: await person(db, str(100 + index), code)
                for index, code in enumerate((*SUBMITTED, AT_WORK))}
    script = script_for(engine)
    for code in submitted:
        lines = [HOSTILE if code == SUBMITTED[0] else script[0], *script[1:], "nộp", "xác nhận"]
        for line in lines:
            await says(db, officers[code], line)
    for line in script[:10]:
        await says(db, officers[AT_WORK], line)
    return Desk(db, admin, officers)
