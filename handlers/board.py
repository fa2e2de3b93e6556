"""The VP office's campaign board: every unit with its state, how far along, when it last
worked, the working days it has left and whether it is at risk. Built on the overview the chats
use (handlers.overview) and the campaign's own deadlines and reminder settings; a fixed number of
queries whatever the number of units."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.schedule import ReminderSettings
from deadlines.workdays import WorkingCalendar
from engine.conversation import ReportEngine
from engine.text import fold
from engine.views import State
from handlers.outline_versions import outline_of
from handlers.overview import Progress, campaign_overview
from handlers.reminders import campaign_members
from handlers.report import ENGINE_LEVEL
from storage.models import Campaign, Submission, Unit, UnitLevel, as_utc


@dataclass(frozen=True)
class BoardRow:
    unit: Unit
    progress: Progress
    answered: int
    percent: int
    last_activity: datetime | None
    deadline: date | None
    days_left: int | None  # working days; negative once overdue
    at_risk: bool

    def matches(self, words: str) -> bool:
        """A name search, with or without diacritics ("ninh kieu" finds "Ninh Kiều")."""
        return fold(words) in fold(f"{self.unit.name} {self.unit.code}")


def _questions_at(engine: ReportEngine, level: str) -> int:
    """Questions a unit of this level is asked before any answer opens or closes others."""
    return len(engine.counted_questions(State(answers={}, unit_level=ENGINE_LEVEL.get(
        UnitLevel(level), level))))


def at_risk(progress: Progress, days_left: int | None, settings: ReminderSettings) -> bool:
    """Not handed in, and within the days the VP office's digest counts down (or past them)."""
    return not progress.handed_in and days_left is not None and days_left <= settings.digest_within


async def campaign_board(session: AsyncSession, campaign: Campaign, calendar: WorkingCalendar,
                         today: date) -> list[BoardRow]:
    overview = await campaign_overview(session, campaign)  # sorted: level, then Vietnamese order
    deadlines = {m.unit.id: m.deadline for m in await campaign_members(session, campaign, calendar)}
    touched = dict((await session.execute(select(Submission.unit_id, Submission.updated_at).where(
        Submission.campaign_id == campaign.id))).all())
    settings = ReminderSettings.from_json(campaign.settings)
    # Counted once per deadline: most units share one (every unit of a fixed-date campaign).
    left = {deadline: calendar.working_days_between(today, deadline) for deadline in set(deadlines.values())}
    engine = await outline_of(session, campaign)  # the campaign's own outline version
    asked = {level: _questions_at(engine, level) for level in {item.unit.level for item in overview.units}}
    rows = []
    for item in overview.units:
        deadline = deadlines.get(item.unit.id)
        days_left = None if deadline is None else left[deadline]
        total = asked[item.unit.level]
        percent = 100 if item.progress.handed_in else min(99, round(100 * item.answered / max(total, 1)))
        rows.append(BoardRow(item.unit, item.progress, item.answered, percent,
                             as_utc(touched.get(item.unit.id)), deadline, days_left,
                             at_risk(item.progress, days_left, settings)))
    return rows
