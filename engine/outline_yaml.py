"""An outline written out as the YAML the loader reads (docs/outline-format.md): what
`kstthc-bot outline import` makes of a workbook. Only what differs from a default is written, in
the order of the model's fields, so the file reads like a hand-written one."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import yaml
from pydantic import BaseModel

from engine.expressions import Expression
from engine.outline import Outline
from engine.question import Question

# Where each question came from in its file, and its section (which the file says by nesting).
NOT_WRITTEN = frozenset({"line", "section_number"})


def dump_outline(outline: Outline, heading: str = "") -> str:
    """The outline as YAML; `heading` (lines without "#") goes first as a comment."""
    document = {
        "outline": outline.meta.model_dump(exclude_defaults=True),
        "parts": [part.model_dump() for part in outline.parts],
        "sections": [
            {**section.model_dump(include={"number", "part", "title", "short"}),
             "questions": [question_data(question) for question in section.questions]}
            for section in outline.sections
        ],
    }
    comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in heading.splitlines())
    body = yaml.dump(_plain(document), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=100, default_flow_style=False)
    return comment + body


def question_data(question: Question) -> dict[str, Any]:
    """A question's keys as the file writes them: `min`/`max` by their names in the file."""
    return {info.alias or name: _plain(getattr(question, name))
            for name, info in Question.model_fields.items()
            if name not in NOT_WRITTEN and getattr(question, name) != info.get_default()}


def _plain(value: Any) -> Any:
    """What YAML writes as such: an expression as its source, a figure as a number."""
    if isinstance(value, BaseModel):
        return _plain(value.model_dump())
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Expression):
        return value.source
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else _DecimalText(value)
    return value


class _DecimalText(str):
    """A non-integral bound, written as the plain number it is (never a float's rounding)."""


class _Dumper(yaml.SafeDumper):
    """Strings that look like numbers or dates ("2021.1", "1.2") stay quoted, as the loader
    needs them to stay strings; a date is written as one."""


def _decimal(dumper: yaml.SafeDumper, value: _DecimalText) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:float", str(value))


def _date(dumper: yaml.SafeDumper, value: date) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:timestamp", value.isoformat())


_Dumper.add_representer(_DecimalText, _decimal)
_Dumper.add_representer(date, _date)
