"""Working days (ngày làm việc), the deadlines of plan 20/KH-UBND, and office hours.

A working day is Monday–Friday, minus Vietnamese public holidays (with their nghỉ bù days and
the days off the Government swaps in), plus the weekend days declared working (ngày làm bù).
The national part comes from the ``holidays`` package; a deployment adds its own days in a
YAML file (see :func:`load_calendar`)::

    days_off:        # a province's own extra days off (Mon–Fri, or a national make-up day)
      - 2021-10-27
    make_up_days:    # Saturdays/Sundays the province declares working
      - 2021-10-23

Counting convention (the Civil Code's: a period counted in days starts the day *after* the
event): "n working days after d" never counts d itself, so :meth:`WorkingCalendar.add_working_days`
``(d, 1)`` is the first working day after ``d`` and
:meth:`WorkingCalendar.working_days_between` ``(d, add_working_days(d, n)) == n``.

Everything here is pure: no database, no channel, no clock (callers pass ``now``).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import holidays
import yaml

__all__ = [
    "DEFAULT_OFFICE_HOURS",
    "REMEDIATION_WORKING_DAYS",
    "REPORT_LEAD_WORKING_DAYS",
    "SCHEDULED_NOTICE_WORKING_DAYS",
    "UNSCHEDULED_NOTICE_WORKING_DAYS",
    "VN_TZ",
    "CalendarFileError",
    "OfficeHours",
    "VisitNoticeTooShortError",
    "WorkingCalendar",
    "check_visit_notice",
    "earliest_visit_date",
    "load_calendar",
    "next_send_time",
    "parse_calendar_yaml",
    "remediation_due",
    "report_due_before_visit",
    "self_inspection_due",
]

VN_TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")
"""Vietnam's only time zone (UTC+7, no daylight saving)."""

REPORT_LEAD_WORKING_DAYS: Final = 5
"""Plan §III.3: the inspected unit reports at least 5 working days before the team's visit."""
REMEDIATION_WORKING_DAYS: Final = 30
"""Plan §II.3/§II.4.d: remediation report within 30 working days of receiving the conclusion."""
SCHEDULED_NOTICE_WORKING_DAYS: Final = 10
"""Plan §II.3: notice at least 10 working days before a scheduled visit."""
UNSCHEDULED_NOTICE_WORKING_DAYS: Final = 3
"""Plan §II.3: notice at least 3 working days before an unscheduled (đột xuất) visit."""

_ONE_DAY: Final = timedelta(days=1)
_SATURDAY: Final = 5
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


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


def _declared_day_problem(kind: str, day: date) -> str | None:
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
                if (problem := _declared_day_problem(kind, day)) is not None:
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


# --------------------------------------------------------------------------- the settings file


class CalendarFileError(ValueError):
    """A calendar settings file that cannot be used; names the file and, when known, the line."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source = source
        self.line = line
        self.message = message
        where = source if line is None else f"{source}:{line}"
        super().__init__(f"{where}: {message}")


_CALENDAR_KEYS: Final = ("days_off", "make_up_days")


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _parse_day_list(source: str, key: str, node: yaml.Node) -> dict[date, int]:
    """The dates listed under ``key``, each with its (1-based) line."""
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return {}
    if not isinstance(node, yaml.SequenceNode):
        raise CalendarFileError(
            source, _line(node), f"{key} must be a list of dates (YYYY-MM-DD), one per item"
        )
    days: dict[date, int] = {}
    for item in node.value:
        line = _line(item)
        if not isinstance(item, yaml.ScalarNode) or not _ISO_DATE.fullmatch(str(item.value)):
            shown = item.value if isinstance(item, yaml.ScalarNode) else "a nested list or map"
            raise CalendarFileError(
                source, line, f"{key}: expected a date written YYYY-MM-DD, got {shown!r}"
            )
        try:
            day = date.fromisoformat(item.value)
        except ValueError:
            raise CalendarFileError(
                source, line, f"{key}: {item.value!r} is not a valid date"
            ) from None
        if day in days:
            raise CalendarFileError(
                source, line, f"{key}: {day.isoformat()} is already listed on line {days[day]}"
            )
        if (problem := _declared_day_problem(key, day)) is not None:
            raise CalendarFileError(source, line, problem)
        days[day] = line
    return days


def parse_calendar_yaml(text: str, source: str = "<string>") -> WorkingCalendar:
    """Build a :class:`WorkingCalendar` from the YAML settings text (see the module doc).

    An empty document gives the national calendar. Raises :class:`CalendarFileError` naming
    ``source`` and the offending line for malformed YAML, unknown keys, items that are not
    ``YYYY-MM-DD`` dates, duplicates, a weekday declared as make-up day, a plain weekend day
    declared as day off, or a date in both lists.
    """
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else int(mark.line) + 1
        raise CalendarFileError(source, line, f"not valid YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise CalendarFileError(source, None, f"not valid YAML: {exc}") from exc
    if root is None:
        return WorkingCalendar()
    if not isinstance(root, yaml.MappingNode):
        raise CalendarFileError(
            source, _line(root), "expected a mapping with keys days_off and make_up_days"
        )
    found: dict[str, dict[date, int]] = {}
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key not in _CALENDAR_KEYS:
            raise CalendarFileError(
                source,
                _line(key_node),
                f"unknown key {key!r}; expected one of: {', '.join(_CALENDAR_KEYS)}",
            )
        if key in found:
            raise CalendarFileError(source, _line(key_node), f"{key} is given twice")
        found[key] = _parse_day_list(source, key, value_node)
    days_off = found.get("days_off", {})
    make_up_days = found.get("make_up_days", {})
    if both := sorted(days_off.keys() & make_up_days.keys()):
        day = both[0]
        raise CalendarFileError(
            source,
            make_up_days[day],
            f"{day.isoformat()} is also declared a day off, on line {days_off[day]}",
        )
    return WorkingCalendar(frozenset(days_off), frozenset(make_up_days))


def load_calendar(path: str | os.PathLike[str]) -> WorkingCalendar:
    """Read the YAML settings file at ``path`` (UTF-8); errors as :func:`parse_calendar_yaml`,
    plus a :class:`CalendarFileError` (line ``None``) if the file cannot be read."""
    source = os.fspath(path)
    try:
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise CalendarFileError(source, None, f"cannot read the calendar file: {exc}") from exc
    return parse_calendar_yaml(text, source)


# --------------------------------------------------------------------------- plan deadlines


def self_inspection_due(year: int, cal: WorkingCalendar) -> date:
    """Due date of the self-inspection report of units not on the inspection schedule.

    The plan says "trước ngày 31 tháng 10". We read it as "by 31 October" and return the last
    working day on or before 31/10 of ``year``: what officers really have when the 31st is a
    weekend or holiday (31/10/2021 was a Sunday → Friday 29/10/2021). A strictly literal
    "before the 31st" would give the 30th in years where the 31st is a working day; callers
    who want that can use ``cal.last_working_day_on_or_before(date(year, 10, 30))``.
    """
    return cal.last_working_day_on_or_before(date(year, 10, 31))


def report_due_before_visit(visit: date, cal: WorkingCalendar) -> date:
    """Latest day for a scheduled unit's report: 5 working days before the visit (§III.3)."""
    return cal.add_working_days(visit, -REPORT_LEAD_WORKING_DAYS)


def remediation_due(conclusion_received: date, cal: WorkingCalendar) -> date:
    """Latest day for the remediation report: 30 working days after the conclusion is
    received; the day of receipt is not counted."""
    return cal.add_working_days(conclusion_received, REMEDIATION_WORKING_DAYS)


def _notice_working_days(unscheduled: bool) -> int:
    return UNSCHEDULED_NOTICE_WORKING_DAYS if unscheduled else SCHEDULED_NOTICE_WORKING_DAYS


def earliest_visit_date(notice_given: date, unscheduled: bool, cal: WorkingCalendar) -> date:
    """Earliest lawful visit after notice given on ``notice_given``: 10 working days later for
    a scheduled visit, 3 for an unscheduled one.

    "At least N working days before the visit" means ``working_days_between(notice, visit)
    >= N``, i.e. the visit falls on or after the N-th working day after the notice — the same
    convention as :func:`report_due_before_visit`.
    """
    return cal.add_working_days(notice_given, _notice_working_days(unscheduled))


class VisitNoticeTooShortError(ValueError):
    """The inspection team's notice came too late for the planned visit date."""

    def __init__(
        self,
        *,
        notice_given: date,
        visit: date,
        unscheduled: bool,
        required_working_days: int,
        actual_working_days: int,
        earliest_lawful: date,
    ) -> None:
        self.notice_given = notice_given
        self.visit = visit
        self.unscheduled = unscheduled
        self.required_working_days = required_working_days
        self.actual_working_days = actual_working_days
        self.earliest_lawful = earliest_lawful
        kind = "an unscheduled" if unscheduled else "a scheduled"
        super().__init__(
            f"notice given {notice_given.isoformat()} is {actual_working_days} working day(s) "
            f"before {kind} visit on {visit.isoformat()}; at least {required_working_days} "
            f"are required, so the earliest lawful visit is {earliest_lawful.isoformat()}"
        )


def check_visit_notice(
    notice_given: date, visit: date, unscheduled: bool, cal: WorkingCalendar
) -> None:
    """Raise :class:`VisitNoticeTooShortError` (carrying the earliest lawful date) unless the
    notice is long enough for ``visit``. Only the notice period is checked."""
    earliest = earliest_visit_date(notice_given, unscheduled, cal)
    if visit < earliest:
        raise VisitNoticeTooShortError(
            notice_given=notice_given,
            visit=visit,
            unscheduled=unscheduled,
            required_working_days=_notice_working_days(unscheduled),
            actual_working_days=cal.working_days_between(notice_given, visit),
            earliest_lawful=earliest,
        )


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
