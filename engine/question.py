"""One question of the outline and its labels: the shared model that the outline loader and the
question-type table both build on, so neither has to import the other."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from engine.expressions import Expression, ExpressionError

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

# The `type:` values an outline may use; engine.qtypes.QUESTION_TYPES has a row for each.
QUESTION_TYPE_NAMES = ("text", "integer", "decimal", "percent", "yes_no", "select_one", "date",
                       "calculate")
# Figures: compared with last period, summed and charted; answered "none" with a zero.
NUMERIC_TYPES = frozenset({"integer", "decimal", "percent", "calculate"})

CalculatedFormat = Literal["percent", "integer", "decimal"]


class Text(BaseModel):
    """A label in every language the bot speaks."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, locale: str) -> str:
        return self.en if locale.startswith("en") else self.vi


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: str = Field(pattern=r"^[a-z0-9_]+$")
    label: Text


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True,
                              populate_by_name=True)
    name: str
    number: str = Field(min_length=1)
    type: str
    label: Text
    hint: Text | None = None
    required: bool = True
    constraint: Expression | None = None
    constraint_message: Text | None = None
    relevant: Expression | None = None
    calculate: Expression | None = None
    format: CalculatedFormat | None = None
    warning: Expression | None = None
    warning_message: Text | None = None
    choices: tuple[Choice, ...] = ()
    # The figure counts what happened in the reporting period: the bot names the period with it.
    period: bool = False
    # The item compares this period with last (Đề cương II): the bot sets the figures beside
    # last period's with it, as the draft of the comparison.
    compare_figures: bool = False
    # A Telegram message holds 4,096 characters; a longer paste arrives in pieces, so no answer
    # may be longer than one message (see Mode.OVERLONG).
    max_length: int = Field(default=2000, ge=1, le=4000)
    minimum: Decimal | date | None = Field(default=None, alias="min")
    maximum: Decimal | date | None = Field(default=None, alias="max")
    line: int = 0
    section_number: str = ""

    @field_validator("name")
    @classmethod
    def _name_is_identifier(cls, value: str) -> str:
        if not NAME_PATTERN.match(value):
            raise ValueError("name must be ascii snake_case (a-z, 0-9, _), starting with a letter")
        return value

    @field_validator("type")
    @classmethod
    def _type_is_known(cls, value: str) -> str:
        if value not in QUESTION_TYPE_NAMES:
            known = ", ".join(sorted(QUESTION_TYPE_NAMES))
            raise ValueError(f"unknown type {value!r}; known types: {known}")
        return value

    @field_validator("constraint", "relevant", "calculate", "warning", mode="before")
    @classmethod
    def _parse_expression(cls, value: Any) -> Any:
        if value is None or isinstance(value, Expression):
            return value
        if not isinstance(value, str):
            raise ValueError("an expression must be a string")
        try:
            return Expression.parse(value)
        except ExpressionError as error:
            raise ValueError(str(error)) from error

    @property
    def asked(self) -> bool:
        """Calculated items are never asked: the engine computes them."""
        return self.type != "calculate"

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


def question_json(question: Question) -> dict[str, Any]:
    def text(value: Text | None) -> dict[str, str] | None:
        return value.model_dump() if value else None

    def expression(value: Expression | None) -> str | None:
        return value.source if value else None

    return {
        "section": question.section_number,
        "number": question.number,
        "name": question.name,
        "type": question.type,
        "label": question.label.model_dump(),
        "hint": text(question.hint),
        "required": question.required and question.asked,
        "constraint": expression(question.constraint),
        "constraint_message": text(question.constraint_message),
        "relevant": expression(question.relevant),
        "calculate": expression(question.calculate),
        "format": question.format,
        "warning": expression(question.warning),
        "warning_message": text(question.warning_message),
        "choices": [choice.model_dump() for choice in question.choices],
        "max_length": question.max_length if question.type == "text" else None,
        "period": question.period,
        "compare_figures": question.compare_figures,
        "min": _bound_json(question.minimum),
        "max": _bound_json(question.maximum),
    }


def _bound_json(bound: Decimal | date | None) -> str | int | float | None:
    if isinstance(bound, date):
        return bound.isoformat()
    if isinstance(bound, Decimal):
        return int(bound) if bound == bound.to_integral_value() else float(bound)
    return None
