"""A deployment's own working-day settings, in a YAML file (``KSTTHC_CALENDAR_FILE``)::

    days_off:        # a province's own extra days off (Mon–Fri, or a national make-up day)
      - 2021-10-27
    make_up_days:    # Saturdays/Sundays the province declares working
      - 2021-10-23

Every fault is named with its file and line, so the person editing it can find it.
"""

from __future__ import annotations

import os
import re
from datetime import date
from typing import Final

import yaml

from deadlines.workdays import WorkingCalendar, declared_day_problem

__all__ = ["CalendarFileError", "load_calendar", "parse_calendar_yaml"]

_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


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
        if (problem := declared_day_problem(key, day)) is not None:
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
