"""Working days (ngày làm việc) and office hours.

A working day is Monday–Friday, minus Vietnamese public holidays (with their nghỉ bù days and
the days off the Government swaps in), plus the weekend days declared working (ngày làm bù).
The national part comes from the ``holidays`` package; a deployment adds its own days in a
YAML file (deadlines.calendar_file). The deadlines of plan 20/KH-UBND are counted on it in
deadlines.plan.

Counting convention (the Civil Code's: a period counted in days starts the day *after* the
event): "n working days after d" never counts d itself, so :meth:`WorkingCalendar.add_working_days`
``(d, 1)`` is the first working day after ``d`` and
:meth:`WorkingCalendar.working_days_between` ``(d, add_working_days(d, n)) == n``.

Everything here is pure: no database, no channel, no clock (callers pass ``now``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import holidays

__all__ = [
    "DEFAULT_OFFICE_HOURS",
    "VN_TZ",
    "OfficeHours",
    "WorkingCalendar",
    "declared_day_problem",
    "next_send_time",
]

VN_TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")
"""Vietnam's only time zone (UTC+7, no daylight saving)."""

_ONE_DAY: Final = timedelta(days=1)
_SATURDAY: Final = 5


# --------------------------------------------------------------------------- national calendar


@dataclass(frozen=True, slots=True)
class _NationalYear:
    """One year of the national calendar, as exceptions to the Mon–Fri rule."""

    days_off: frozenset[date]
    """Mondays–Fridays that are not working days (holidays, nghỉ bù, swapped days off)."""
    make_up_days: frozenset[date]
    """Saturdays/Sundays that are working days (ngày làm bù)."""


@functools.cache
def _national_year(year: int) -> _NationalYear:
    """Classify every day of ``year`` with the ``holidays`` package's Vietnam calendar.

    Cached per year: each year is built once per process, after which a lookup is a set
    membership test. The neighbouring years are loaded too so that observed days and swaps
    that cross New Year are seen whichever year declares them (the package itself records
    e.g. Saturday 27/12/2014, worked in exchange for Friday 2/1/2015, under 2015).
    """
    vn = holidays.country_holidays("VN", years=[year - 1, year, year + 1])
    if not vn.start_year <= year <= vn.end_year:
        raise ValueError(f"the holidays package has no Vietnamese calendar for {year}")
    # The package's own rule (HolidayBase.is_working_day): a weekend day works only if it is
    # in weekend_workdays; a weekday works unless it is a holiday. Spelled out with these two
    # long-standing attributes so that it does not depend on the helper's name or version.
    weekend = vn.weekend
    make_up = vn.weekend_workdays
    days_off: set[date] = set()
    make_up_days: set[date] = set()
    day = date(year, 1, 1)
    while day.year == year:
        if day.weekday() in weekend:
            if day in make_up:
                make_up_days.add(day)
        elif day in vn:
            days_off.add(day)
        day += _ONE_DAY
    return _NationalYear(frozenset(days_off), frozenset(make_up_days))


def _nationally_working(day: date) -> bool:
    national = _national_year(day.year)
    if day.weekday() >= _SATURDAY:
        return day in national.make_up_days
    return day not in national.days_off


def _require_date(value: object, name: str) -> date:
    # datetime is a subclass of date but never equal to one: it would silently miss every
    # holiday, so refuse it outright.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__}")
    return value


def declared_day_problem(kind: str, day: date) -> str | None:
    """Why ``day`` cannot be declared as ``kind`` ('days_off' or 'make_up_days'), or None."""
    weekday = day.strftime("%A")
    if kind == "make_up_days":
        if day.weekday() < _SATURDAY:
            return (
                f"make-up day {day.isoformat()} is a {weekday}; "
                "only a Saturday or Sunday can be declared working"
            )
        return None
    if day.weekday() >= _SATURDAY and not _nationally_working(day):
        return (
            f"day off {day.isoformat()} is a {weekday} that is not a national make-up day; "
            "it is a day off already"
        )
    return None


# --------------------------------------------------------------------------- the calendar


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """Working days: Mon–Fri minus national holidays plus national make-up days, then the
    deployment's own ``days_off`` and ``make_up_days`` on top (they win over the national
    calendar; a local day off wins over a national make-up Saturday).

    Immutable and hashable; the national data is cached per year for the whole process, so a
    calendar is cheap to build and every query is a couple of set lookups per day walked.
    """

    days_off: frozenset[date] = frozenset()
    make_up_days: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        for kind, days in (("days_off", self.days_off), ("make_up_days", self.make_up_days)):
            if not isinstance(days, frozenset):
                raise TypeError(f"{kind} must be a frozenset of dates")
            for day in days:
                _require_date(day, kind)
            for day in sorted(days):
                if (problem := declared_day_problem(kind, day)) is not None:
                    raise ValueError(problem)
        if both := sorted(self.days_off & self.make_up_days):
            listed = ", ".join(d.isoformat() for d in both)
            raise ValueError(f"declared both a day off and a make-up day: {listed}")

    @classmethod
    def from_days(
        cls, days_off: Iterable[date] = (), make_up_days: Iterable[date] = ()
    ) -> WorkingCalendar:
        """Build a calendar from any iterables of dates."""
        return cls(frozenset(days_off), frozenset(make_up_days))

    def is_working_day(self, d: date) -> bool:
        """True if ``d`` is a working day."""
        return self._working(_require_date(d, "d"))

    def _working(self, d: date) -> bool:
        if d in self.days_off:
            return False
        if d in self.make_up_days:
            return True
        return _nationally_working(d)

    def add_working_days(self, d: date, n: int) -> date:
        """The ``n``-th working day after ``d`` (before it if ``n`` < 0); ``d`` is not counted.

        The result is always a working day, except for ``n == 0``, which returns ``d``
        unchanged. A non-working ``d`` is fine: ``add_working_days(saturday, 1)`` is the
        following Monday (if that is a working day).
        """
        day = _require_date(d, "d")
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            day += step
            if self._working(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` ("còn N ngày làm việc").

        0 when ``end == start``; when ``end < start`` it is minus the working days after
        ``end`` up to and including ``start``.
        """
        first = _require_date(start, "start")
        last = _require_date(end, "end")
        if last < first:
            return -self.working_days_between(last, first)
        count = 0
        day = first + _ONE_DAY
        while day <= last:
            if self._working(day):
                count += 1
            day += _ONE_DAY
        return count

    def last_working_day_on_or_before(self, d: date) -> date:
        """``d`` if it is a working day, else the closest working day before it."""
        day = _require_date(d, "d")
        while not self._working(day):
            day -= _ONE_DAY
        return day

    def next_working_day_on_or_after(self, d: date) -> date:
        """``d`` if it is a working day, else the closest working day after it."""
        day = _require_date(d, "d")
        while not self._working(day):
            day += _ONE_DAY
        return day


# --------------------------------------------------------------------------- office hours


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """Local (Asia/Ho_Chi_Minh) office hours of a working day: ``open <= t < close``."""

    open: time = time(7, 30)
    close: time = time(17, 0)

    def __post_init__(self) -> None:
        if self.open.tzinfo is not None or self.close.tzinfo is not None:
            raise ValueError("office hours are local wall-clock times; give naive times")
        if not self.open < self.close:
            raise ValueError(f"office opens ({self.open}) after it closes ({self.close})")

    def is_open_at(self, t: time) -> bool:
        """True if the wall-clock time ``t`` is within office hours."""
        return self.open <= t < self.close


DEFAULT_OFFICE_HOURS: Final = OfficeHours()


def next_send_time(
    now: datetime, cal: WorkingCalendar, hours: OfficeHours = DEFAULT_OFFICE_HOURS
) -> datetime:
    """When a message prepared at ``now`` may be sent: ``now`` itself if it falls within office
    hours on a working day, else the next opening. The result is in Asia/Ho_Chi_Minh.

    Raises ``ValueError`` for a naive ``now``.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (e.g. tzinfo=ZoneInfo('Asia/Ho_Chi_Minh'))")
    local = now.astimezone(VN_TZ)
    today = local.date()
    wall = local.time().replace(tzinfo=None)
    if cal.is_working_day(today):
        if hours.is_open_at(wall):
            return local
        if wall < hours.open:
            return datetime.combine(today, hours.open, tzinfo=VN_TZ)
    day = cal.next_working_day_on_or_after(today + _ONE_DAY)
    return datetime.combine(day, hours.open, tzinfo=VN_TZ)
