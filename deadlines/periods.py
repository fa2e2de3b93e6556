"""Reporting periods (kỳ báo cáo): the span of time a campaign's figures cover, apart from the
day the report is due.

The reference is Decree 09/2019/NĐ-CP on the reporting regime of state administrative bodies,
Article 12 (thời gian chốt số liệu), which Thông tư 01/2020/TT-VPCP (cited by Kế hoạch
20/KH-UBND) follows for reports on administrative procedure control: figures are cut off on
the 14th of a month and a period starts on the 15th; the annual period runs from 15 December
of the year before to 14 December of the reporting year.

A self-inspection report due "trước ngày 31/10" cannot wait for 14 December, so the default
period keeps the decree's start (15 December of the year before) and its cut-off day (the
14th), taking the last cut-off before the due date: due 31/10/2027 → from 15/12/2026 to
14/10/2027. The VP office sets another period when it opens a campaign."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

CUT_OFF_DAY = 14  # Nghị định 09/2019/NĐ-CP, Điều 12: figures up to the 14th of the month


class PeriodError(ValueError):
    """A period that cannot be: it ends before it starts."""


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodError(f"a reporting period cannot end ({self.end}) before it starts ({self.start})")

    @property
    def year(self) -> int:
        """The reporting year: the year the period ends in (15/12/2026–14/12/2027 is 2027's)."""
        return self.end.year

    def previous_year(self) -> Period:
        """The same period a year earlier (cùng kỳ năm trước); 29 February becomes the 28th."""
        return Period(_year_earlier(self.start), _year_earlier(self.end))

    def text(self) -> str:
        """"từ ngày 15/12/2026 đến ngày 14/10/2027", as documents and messages print it."""
        return f"từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y}"


def last_cut_off_before(due: date) -> date:
    """The latest 14th of a month strictly before the due date."""
    if due.day > CUT_OFF_DAY:
        return due.replace(day=CUT_OFF_DAY)
    first_of_month = due.replace(day=1)
    return (first_of_month - timedelta(days=1)).replace(day=CUT_OFF_DAY)


def default_period(due: date) -> Period:
    """The period a campaign due on `due` reports by default: from 15 December of the year
    before the cut-off to the last cut-off (the 14th) before the due date."""
    end = last_cut_off_before(due)
    return Period(date(end.year - 1, 12, CUT_OFF_DAY + 1), end)


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)
