"""A unit's deadline under each kind of campaign, and the days its reminders fall on."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from deadlines.plan import remediation_due, report_due_before_visit
from deadlines.workdays import VN_TZ, OfficeHours, WorkingCalendar, next_send_time


class DeadlineKind(StrEnum):
    FIXED_DATE = "fixed_date"  # before a date: 31 October for units self-inspecting
    BEFORE_VISIT = "before_visit"  # at least 5 working days before the inspection team's visit
    AFTER_CONCLUSION = "after_conclusion"  # within 30 working days of receiving the conclusion


@dataclass(frozen=True)
class ReminderSettings:
    """A campaign's reminder schedule: working days before the deadline, the day itself, each
    working day after it; sent only in office hours. Stored with the campaign as JSON."""

    before: tuple[int, ...] = (10, 5, 3, 1)
    on_the_day: bool = True
    after: int = 5
    office_open: str = "07:30"
    office_close: str = "17:00"
    digest_within: int = 5  # the VP office's digest: the last N working days, and after

    @classmethod
    def from_json(cls, text: str | None) -> ReminderSettings:
        data: dict[str, Any] = json.loads(text or "{}")
        if "before" in data:
            data["before"] = tuple(int(n) for n in data["before"])
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @property
    def office_hours(self) -> OfficeHours:
        return OfficeHours(time.fromisoformat(self.office_open), time.fromisoformat(self.office_close))


@dataclass(frozen=True)
class UnitDates:
    """What a unit's deadline counts from, per campaign kind."""

    campaign_deadline: date
    visit: date | None = None
    conclusion_received: date | None = None


def unit_deadline(kind: str, dates: UnitDates, calendar: WorkingCalendar) -> date | None:
    """The last day the unit really has; None until the date it counts from is known."""
    if kind == DeadlineKind.BEFORE_VISIT:
        return report_due_before_visit(dates.visit, calendar) if dates.visit else None
    if kind == DeadlineKind.AFTER_CONCLUSION:
        if dates.conclusion_received is None:
            return None
        return remediation_due(dates.conclusion_received, calendar)
    # "Before 31 October": when that is a day off, the last working day before it.
    return calendar.last_working_day_on_or_before(dates.campaign_deadline)


@dataclass(frozen=True, order=True)
class ReminderDay:
    day: date
    offset: int = field(compare=False)  # working days from the deadline: -10 … 0 … +5


def reminder_days(deadline: date, settings: ReminderSettings, calendar: WorkingCalendar) -> list[ReminderDay]:
    days = {calendar.add_working_days(deadline, -n): -n for n in settings.before if n > 0}
    if settings.on_the_day:
        days[deadline] = 0
    for n in range(1, settings.after + 1):
        days[calendar.add_working_days(deadline, n)] = n
    return sorted(ReminderDay(day, offset) for day, offset in days.items())


def opening(day: date, settings: ReminderSettings) -> datetime:
    return datetime.combine(day, time.fromisoformat(settings.office_open), tzinfo=VN_TZ)


def latest_due(days: list[ReminderDay], now: datetime, settings: ReminderSettings) -> int | None:
    """Index of the newest reminder day whose opening time has come, or None."""
    due = [index for index, reminder in enumerate(days) if opening(reminder.day, settings) <= now]
    return due[-1] if due else None


def send_at(day: date, now: datetime, settings: ReminderSettings, calendar: WorkingCalendar) -> datetime:
    """A reminder for `day` goes out at that day's opening, or — if that has passed (a catch-up
    after downtime) — now, when the office is open, else at the next opening."""
    scheduled = opening(day, settings)
    return max(scheduled, next_send_time(now, calendar, settings.office_hours))
