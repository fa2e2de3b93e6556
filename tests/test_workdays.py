"""Working days, plan deadlines and office hours, checked against the real 2021/2026 calendars.

Expected dates were worked out by hand from the Vietnamese holiday schedule and agree with the
``holidays`` package (Vietnam), which is the source of the national data:

2021  Tết: Wed 10/2 – Tue 16/2 off (29 Tết to mùng 5); Giỗ Tổ Wed 21/4; Fri 30/4 and
      Sat 1/5 → nghỉ bù Mon 3/5; Quốc khánh Thu 2/9 + Fri 3/9. 31/10 is a Sunday.
2026  Tết: Mon 16/2 – Fri 20/2; Giỗ Tổ Sun 26/4 → nghỉ bù Mon 27/4; Thu 30/4, Fri 1/5;
      Quốc khánh Tue 1/9 + Wed 2/9, with Mon 31/8 swapped for make-up Saturday 22/8;
      Ngày Văn hóa Việt Nam Tue 24/11 (new in the package from 2026). 31/10 is a Saturday.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import holidays
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deadlines import workdays
from deadlines.calendar_file import CalendarFileError, load_calendar, parse_calendar_yaml
from deadlines.plan import (
    VisitNoticeTooShortError,
    check_visit_notice,
    earliest_visit_date,
    remediation_due,
    report_due_before_visit,
    self_inspection_due,
)
from deadlines.workdays import VN_TZ, OfficeHours, WorkingCalendar, next_send_time

NATIONAL = WorkingCalendar()


def d(iso: str) -> date:
    return date.fromisoformat(iso)


def vn(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=VN_TZ)


# --------------------------------------------------------------------------- national calendar


@pytest.mark.parametrize(
    ("day", "working"),
    [
        # Tết Tân Sửu 2021: 29 Tết (Wed 10/2) to mùng 5 (Tue 16/2).
        ("2021-02-09", True),
        ("2021-02-10", False),
        ("2021-02-11", False),
        ("2021-02-12", False),
        ("2021-02-15", False),
        ("2021-02-16", False),
        ("2021-02-17", True),
        # Giỗ Tổ Hùng Vương 2021 (10/3 âm lịch).
        ("2021-04-21", False),
        # 30/4 Friday, 1/5 Saturday → nghỉ bù Monday 3/5.
        ("2021-04-29", True),
        ("2021-04-30", False),
        ("2021-05-01", False),
        ("2021-05-03", False),
        ("2021-05-04", True),
        # Quốc khánh 2021: Thursday 2/9 plus Friday 3/9.
        ("2021-09-01", True),
        ("2021-09-02", False),
        ("2021-09-03", False),
        ("2021-09-06", True),
        # Plain weekdays / weekend.
        ("2021-10-29", True),
        ("2021-10-30", False),
        ("2021-10-31", False),
        # Tết Bính Ngọ 2026: Mon 16/2 (giao thừa) to Fri 20/2 (mùng 4).
        ("2026-02-13", True),
        ("2026-02-16", False),
        ("2026-02-17", False),
        ("2026-02-20", False),
        ("2026-02-23", True),
        # Giỗ Tổ 2026 falls on Sunday 26/4 → nghỉ bù Monday 27/4.
        ("2026-04-27", False),
        ("2026-04-28", True),
        ("2026-04-30", False),
        ("2026-05-01", False),
        ("2026-05-04", True),
        # Quốc khánh 2026 has two days (Tue 1/9, Wed 2/9); Mon 31/8 is a day off swapped
        # for make-up Saturday 22/8.
        ("2026-08-21", True),
        ("2026-08-22", True),
        ("2026-08-29", False),
        ("2026-08-31", False),
        ("2026-09-01", False),
        ("2026-09-02", False),
        ("2026-09-03", True),
        # Ngày Văn hóa Việt Nam, a paid holiday from 2026 in the package's data.
        ("2026-11-24", False),
        # Other make-up Saturdays the package knows.
        ("2024-05-04", True),  # for Monday 29/4/2024
        ("2024-04-29", False),
        ("2025-04-26", True),  # for Friday 2/5/2025
        ("2025-05-02", False),
        ("2014-12-27", True),  # for Friday 2/1/2015: declared under the next year
        ("2015-01-02", False),
        ("2019-01-05", True),  # for Monday 31/12/2018: declared under the previous year
        ("2018-12-31", False),
        ("2019-01-12", False),
    ],
)
def test_is_working_day(day: str, working: bool) -> None:
    assert NATIONAL.is_working_day(d(day)) is working


@pytest.mark.parametrize("year", range(2014, 2028))
def test_national_days_agree_with_the_holidays_package(year: int) -> None:
    vn_holidays = holidays.country_holidays("VN", years=[year - 1, year, year + 1])
    if not hasattr(vn_holidays, "is_working_day"):
        pytest.skip("this holidays version has no is_working_day helper")
    day = date(year, 1, 1)
    while day.year == year:
        assert NATIONAL.is_working_day(day) is vn_holidays.is_working_day(day), day
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("start", "end", "count"),
    [
        ("2021-10-29", "2021-10-29", 0),
        ("2021-02-09", "2021-02-17", 1),  # across Tết 2021
        ("2021-02-17", "2021-02-09", -1),
        ("2021-10-15", "2021-10-29", 10),
        ("2021-10-30", "2021-11-01", 1),  # from a Saturday
        ("2026-08-21", "2026-08-24", 2),  # make-up Saturday 22/8 counts
        ("2026-08-28", "2026-09-03", 1),  # 29/8–2/9 all off
        ("2020-12-31", "2021-12-31", 250),  # working days in 2021
        ("2025-12-31", "2026-12-31", 249),  # 2026: 261 weekdays − 13 days off + 22/8
    ],
)
def test_working_days_between(start: str, end: str, count: int) -> None:
    assert NATIONAL.working_days_between(d(start), d(end)) == count


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2021-10-29", 0, "2021-10-29"),
        ("2021-10-30", 0, "2021-10-30"),  # n = 0 returns d even on a Saturday
        ("2021-10-29", 1, "2021-11-01"),
        ("2021-10-30", 1, "2021-11-01"),
        ("2021-10-30", -1, "2021-10-29"),
        ("2021-02-09", 1, "2021-02-17"),
        ("2021-02-17", -1, "2021-02-09"),
        ("2021-04-29", 1, "2021-05-04"),
        ("2026-08-21", 1, "2026-08-22"),  # the make-up Saturday is a working day
        ("2026-08-22", 1, "2026-08-24"),
        ("2026-08-28", 1, "2026-09-03"),
        ("2026-02-13", 1, "2026-02-23"),
    ],
)
def test_add_working_days(start: str, n: int, expected: str) -> None:
    assert NATIONAL.add_working_days(d(start), n) == d(expected)


@pytest.mark.parametrize(
    ("day", "on_or_before", "on_or_after"),
    [
        ("2021-10-31", "2021-10-29", "2021-11-01"),
        ("2021-10-29", "2021-10-29", "2021-10-29"),
        ("2021-02-12", "2021-02-09", "2021-02-17"),
        ("2021-05-01", "2021-04-29", "2021-05-04"),
        ("2026-09-01", "2026-08-28", "2026-09-03"),
        ("2026-08-23", "2026-08-22", "2026-08-24"),
    ],
)
def test_nearest_working_days(day: str, on_or_before: str, on_or_after: str) -> None:
    assert NATIONAL.last_working_day_on_or_before(d(day)) == d(on_or_before)
    assert NATIONAL.next_working_day_on_or_after(d(day)) == d(on_or_after)


@given(
    start=st.dates(min_value=date(2019, 1, 1), max_value=date(2027, 6, 30)),
    n=st.integers(min_value=-80, max_value=80),
)
def test_add_and_between_are_inverse(start: date, n: int) -> None:
    end = NATIONAL.add_working_days(start, n)
    if n == 0:
        assert end == start
        return
    assert NATIONAL.is_working_day(end)
    assert (end > start) is (n > 0)
    if n > 0 or NATIONAL.is_working_day(start):
        assert NATIONAL.working_days_between(start, end) == n
        assert NATIONAL.working_days_between(end, start) == -n
    if NATIONAL.is_working_day(start):
        assert NATIONAL.add_working_days(end, -n) == start


def test_datetime_is_refused_where_a_date_is_expected() -> None:
    with pytest.raises(TypeError, match=r"datetime\.date"):
        NATIONAL.is_working_day(datetime(2021, 2, 10, 9, 0))


def test_national_lookups_are_cached_per_year(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = holidays.country_holidays

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("years"))
        return real(*args, **kwargs)

    workdays._national_year.cache_clear()
    monkeypatch.setattr(holidays, "country_holidays", counting)
    try:
        for unit in range(2000):
            received = date(2021, 1, 4) + timedelta(days=unit % 200)
            remediation_due(received, NATIONAL)
            NATIONAL.working_days_between(received, date(2021, 10, 31))
    finally:
        workdays._national_year.cache_clear()
    assert len(calls) == 1  # every date lies in 2021: one lookup for the whole run


# --------------------------------------------------------------------------- declared days


@pytest.fixture
def local_calendar(tmp_path: Path) -> Iterator[WorkingCalendar]:
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "# Cần Thơ's own days\n"
        "days_off:\n"
        "  - 2021-10-27   # a province's own day off (Wednesday)\n"
        "  - 2026-08-22   # the province does not take the national make-up Saturday\n"
        "make_up_days: [2021-10-23, 2021-10-31]\n",
        encoding="utf-8",
    )
    yield load_calendar(path)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2021-10-27", False),  # declared day off
        ("2021-10-23", True),  # declared make-up Saturday
        ("2021-10-31", True),  # declared make-up Sunday
        ("2026-08-22", False),  # local day off beats the national make-up day
        ("2021-10-26", True),  # untouched days keep the national rule
        ("2021-02-12", False),
    ],
)
def test_declared_days(local_calendar: WorkingCalendar, day: str, working: bool) -> None:
    assert local_calendar.is_working_day(d(day)) is working


def test_declared_days_move_deadlines(local_calendar: WorkingCalendar) -> None:
    # 31/10/2021 declared working: the self-inspection report is due that very Sunday.
    assert self_inspection_due(2021, local_calendar) == d("2021-10-31")
    # Visit Friday 29/10: back over 28, (27 off), 26, 25, (24 Sun), 23 Sat, 22.
    assert report_due_before_visit(d("2021-10-29"), local_calendar) == d("2021-10-22")
    assert report_due_before_visit(d("2021-10-29"), NATIONAL) == d("2021-10-22")
    assert local_calendar.working_days_between(d("2021-10-22"), d("2021-10-29")) == 5
    assert NATIONAL.working_days_between(d("2021-10-22"), d("2021-10-29")) == 5
    assert local_calendar.add_working_days(d("2021-10-26"), 1) == d("2021-10-28")


def test_empty_settings_give_the_national_calendar(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text("# nothing declared\n", encoding="utf-8")
    assert load_calendar(path) == NATIONAL
    assert parse_calendar_yaml("days_off:\nmake_up_days: []\n") == NATIONAL


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("days_off: [2021-13-01]\n", 1, "not a valid date"),
        ("days_off:\n  - 2021-10-27\n  - 2021-02-30\n", 3, "not a valid date"),
        ("days_off:\n  - 20211027\n", 2, "YYYY-MM-DD"),
        ("days_off:\n  - 27/10/2021\n", 2, "YYYY-MM-DD"),
        ("days_off:\n  - [2021-10-27]\n", 2, "nested"),
        ("days_off: 2021-10-27\n", 1, "must be a list"),
        ("days_of: [2021-10-27]\n", 1, "unknown key 'days_of'"),
        ("- 2021-10-27\n", 1, "expected a mapping"),
        ("days_off:\n  - 2021-10-27\n  - 2021-10-27\n", 3, "already listed on line 2"),
        ("make_up_days:\n  - 2021-10-27\n", 2, "only a Saturday or Sunday"),
        ("days_off:\n  - 2021-10-30\n", 2, "day off already"),
        ("days_off: [2021-10-27]\ndays_off: [2021-10-28]\n", 2, "given twice"),
        (
            "days_off:\n  - 2026-08-22\nmake_up_days:\n  - 2026-08-22\n",
            4,
            "also declared a day off, on line 2",
        ),
        ("days_off: [2021-10-27\n", 2, "not valid YAML"),
    ],
)
def test_bad_settings_name_the_file_and_line(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarFileError) as caught:
        load_calendar(path)
    assert caught.value.source == str(path)
    assert caught.value.line == line
    assert fragment in caught.value.message
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_missing_settings_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(CalendarFileError, match=r"nowhere\.yaml") as caught:
        load_calendar(path)
    assert caught.value.line is None


@pytest.mark.parametrize(
    ("days_off", "make_up_days", "fragment"),
    [
        ({d("2021-10-27")}, {d("2021-10-27")}, "only a Saturday or Sunday"),
        ({d("2026-08-22")}, {d("2026-08-22")}, "both a day off and a make-up day"),
        ({d("2021-10-31")}, set(), "day off already"),
    ],
)
def test_calendar_rejects_contradictions(
    days_off: set[date], make_up_days: set[date], fragment: str
) -> None:
    with pytest.raises(ValueError, match=fragment):
        WorkingCalendar.from_days(days_off, make_up_days)


# --------------------------------------------------------------------------- plan deadlines


@pytest.mark.parametrize(
    ("year", "due"),
    [
        (2021, "2021-10-29"),  # 31/10/2021 is a Sunday
        (2026, "2026-10-30"),  # 31/10/2026 is a Saturday
        (2025, "2025-10-31"),  # a Friday: the day itself
    ],
)
def test_self_inspection_due(year: int, due: str) -> None:
    assert self_inspection_due(year, NATIONAL) == d(due)


@pytest.mark.parametrize(
    ("visit", "due"),
    [
        ("2021-10-18", "2021-10-11"),  # Monday: back across one weekend
        ("2021-11-10", "2021-11-03"),  # Wednesday: back across one weekend
        ("2021-09-10", "2021-09-01"),  # across Quốc khánh 2–3/9 and a weekend
        ("2021-05-07", "2021-04-28"),  # across 3/5, 1–2/5 weekend, 30/4
        ("2021-02-19", "2021-02-05"),  # across Tết 10–16/2
        ("2026-09-07", "2026-08-26"),  # across 29/8–2/9
    ],
)
def test_report_due_before_visit(visit: str, due: str) -> None:
    assert report_due_before_visit(d(visit), NATIONAL) == d(due)
    assert NATIONAL.working_days_between(d(due), d(visit)) == 5


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2021-10-01", "2021-11-12"),  # six plain weeks
        ("2021-10-02", "2021-11-12"),  # received on a Saturday: counting starts Monday
        ("2021-01-25", "2021-03-15"),  # across Tết 2021 (5 weekdays off)
        ("2026-01-30", "2026-03-20"),  # across Tết 2026 (5 weekdays off)
        ("2026-08-14", "2026-09-29"),  # across 22/8 (worked) and 29/8–2/9 (off)
    ],
)
def test_remediation_due(received: str, due: str) -> None:
    assert remediation_due(d(received), NATIONAL) == d(due)


@pytest.mark.parametrize(
    ("notice", "unscheduled", "earliest"),
    [
        ("2021-10-15", False, "2021-10-29"),
        ("2021-10-15", True, "2021-10-20"),
        ("2021-10-16", False, "2021-10-29"),  # notice on a Saturday
        ("2021-08-26", False, "2021-09-13"),  # across Quốc khánh 2021
        ("2021-02-09", True, "2021-02-19"),  # across Tết 2021
        ("2026-08-19", True, "2026-08-22"),  # 20, 21, then make-up Saturday 22
        ("2026-08-26", True, "2026-09-03"),  # 27, 28, (29/8–2/9 off), 3
    ],
)
def test_earliest_visit_date(notice: str, unscheduled: bool, earliest: str) -> None:
    assert earliest_visit_date(d(notice), unscheduled, NATIONAL) == d(earliest)


@pytest.mark.parametrize(
    ("notice", "visit", "unscheduled"),
    [
        ("2021-10-15", "2021-10-29", False),
        ("2021-10-15", "2021-11-05", False),
        ("2021-10-15", "2021-10-20", True),
        ("2021-02-09", "2021-02-19", True),
    ],
)
def test_visit_notice_accepted(notice: str, visit: str, unscheduled: bool) -> None:
    check_visit_notice(d(notice), d(visit), unscheduled, NATIONAL)


@pytest.mark.parametrize(
    ("notice", "visit", "unscheduled", "earliest", "actual"),
    [
        ("2021-10-15", "2021-10-28", False, "2021-10-29", 9),
        ("2021-10-15", "2021-10-20", False, "2021-10-29", 3),  # 3 days do not do for scheduled
        ("2021-10-15", "2021-10-19", True, "2021-10-20", 2),
        ("2021-02-09", "2021-02-18", True, "2021-02-19", 2),  # Tết days do not count
        ("2021-08-26", "2021-09-10", False, "2021-09-13", 9),
        ("2021-10-15", "2021-10-14", True, "2021-10-20", -1),  # visit before the notice
    ],
)
def test_visit_notice_refused_with_the_earliest_lawful_date(
    notice: str, visit: str, unscheduled: bool, earliest: str, actual: int
) -> None:
    with pytest.raises(VisitNoticeTooShortError) as caught:
        check_visit_notice(d(notice), d(visit), unscheduled, NATIONAL)
    error = caught.value
    assert error.earliest_lawful == d(earliest)
    assert error.required_working_days == (3 if unscheduled else 10)
    assert error.actual_working_days == actual
    assert (error.notice_given, error.visit, error.unscheduled) == (
        d(notice),
        d(visit),
        unscheduled,
    )
    assert earliest in str(error)
    check_visit_notice(d(notice), error.earliest_lawful, unscheduled, NATIONAL)


# --------------------------------------------------------------------------- office hours


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Friday 22/10/2021.
        ("2021-10-22T06:00", "2021-10-22T07:30"),
        ("2021-10-22T07:30", "2021-10-22T07:30"),
        ("2021-10-22T12:00", "2021-10-22T12:00"),
        ("2021-10-22T16:59:59", "2021-10-22T16:59:59"),
        ("2021-10-22T17:00", "2021-10-25T07:30"),
        ("2021-10-22T17:30", "2021-10-25T07:30"),
        # Saturday 23/10/2021.
        ("2021-10-23T06:00", "2021-10-25T07:30"),
        ("2021-10-23T12:00", "2021-10-25T07:30"),
        # Eve of Quốc khánh 2021 (Wednesday 1/9): 2–3/9 off, then the weekend.
        ("2021-09-01T17:30", "2021-09-06T07:30"),
        # Eve of Tết 2021 (Tuesday 9/2) and a day inside it.
        ("2021-02-09T18:00", "2021-02-17T07:30"),
        ("2021-02-12T12:00", "2021-02-17T07:30"),
        # Eve of 30/4 2026 (Wednesday 29/4): 30/4, 1/5, then the weekend.
        ("2026-04-29T17:30", "2026-05-04T07:30"),
        # Friday before the 2026 make-up Saturday, and the Saturday itself.
        ("2026-08-21T17:30", "2026-08-22T07:30"),
        ("2026-08-22T12:00", "2026-08-22T12:00"),
    ],
)
def test_next_send_time(now: str, expected: str) -> None:
    result = next_send_time(vn(now), NATIONAL, OfficeHours())
    assert result == vn(expected)
    assert result.tzinfo is VN_TZ


def test_next_send_time_converts_other_zones() -> None:
    noon_in_vietnam = datetime(2021, 10, 22, 5, 0, tzinfo=UTC)
    assert next_send_time(noon_in_vietnam, NATIONAL) == vn("2021-10-22T12:00")
    saturday_dawn = datetime(2021, 10, 22, 23, 0, tzinfo=UTC)  # Sat 06:00 in VN
    result = next_send_time(saturday_dawn, NATIONAL)
    assert result == vn("2021-10-25T07:30")
    assert result.tzinfo is VN_TZ


def test_next_send_time_follows_declared_days(local_calendar: WorkingCalendar) -> None:
    # Friday evening before the declared make-up Saturday 23/10/2021 …
    assert next_send_time(vn("2021-10-22T17:30"), local_calendar) == vn("2021-10-23T07:30")
    # … and the eve of the declared day off 27/10/2021.
    assert next_send_time(vn("2021-10-26T17:30"), local_calendar) == vn("2021-10-28T07:30")


def test_next_send_time_with_other_hours() -> None:
    morning = OfficeHours(open=time(8, 0), close=time(11, 30))
    assert next_send_time(vn("2021-10-22T07:45"), NATIONAL, morning) == vn("2021-10-22T08:00")
    assert next_send_time(vn("2021-10-22T11:30"), NATIONAL, morning) == vn("2021-10-25T08:00")


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_send_time(datetime(2021, 10, 22, 12, 0), NATIONAL)


@pytest.mark.parametrize(
    ("open_", "close"),
    [(time(17, 0), time(7, 30)), (time(8, 0), time(8, 0)), (time(8, 0, tzinfo=VN_TZ), time(17))],
)
def test_office_hours_are_validated(open_: time, close: time) -> None:
    with pytest.raises(ValueError):
        OfficeHours(open=open_, close=close)
