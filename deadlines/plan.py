"""The deadlines of plan 20/KH-UBND, counted in working days (deadlines.workdays)."""

from __future__ import annotations

from datetime import date
from typing import Final

from deadlines.workdays import WorkingCalendar

__all__ = [
    "REMEDIATION_WORKING_DAYS",
    "REPORT_LEAD_WORKING_DAYS",
    "SCHEDULED_NOTICE_WORKING_DAYS",
    "UNSCHEDULED_NOTICE_WORKING_DAYS",
    "VisitNoticeTooShortError",
    "check_visit_notice",
    "earliest_visit_date",
    "remediation_due",
    "report_due_before_visit",
    "self_inspection_due",
]

REPORT_LEAD_WORKING_DAYS: Final = 5
"""Plan §VII.3: the inspected unit reports at least 5 working days before the team's visit."""
REMEDIATION_WORKING_DAYS: Final = 30
"""Plan §II.2 and §V.1.d: remediation report within 30 working days of receiving the conclusion."""
SCHEDULED_NOTICE_WORKING_DAYS: Final = 10
"""Plan §II.2: notice at least 10 working days before a scheduled visit."""
UNSCHEDULED_NOTICE_WORKING_DAYS: Final = 3
"""Plan §II.2: notice at least 3 working days before an unscheduled (đột xuất) visit."""


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
    """Latest day for a scheduled unit's report: 5 working days before the visit (§VII.3)."""
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
