"""Question types as a table: how each one parses what an officer types, stores and shows it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Literal

from babel.dates import format_date
from babel.numbers import format_decimal

from engine.figures import NOT_ARISING
from engine.i18n import N_, Message, Translator
from engine.text import fold

if TYPE_CHECKING:
    from engine.outline import Question

CalculatedFormat = Literal["percent", "integer", "decimal"]


class AnswerProblem(ValueError):
    """What the officer typed is not an answer of this type; `message` says what is expected."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.msgid)
        self.message = message


# Vietnamese officers write "1.234" or "1 234" for a thousand and "12,5" for twelve and a half.
_GROUPED_WITH_DOTS = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$")
_GROUPED_WITH_SPACES = re.compile(r"^\d{1,3}( \d{3})+(,\d+)?$")
_PLAIN = re.compile(r"^\d+([.,]\d+)?$")


def parse_number(text: str) -> Decimal | None:
    """Read a number typed the Vietnamese way; None if it is not one."""
    cleaned = " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())
    if _GROUPED_WITH_DOTS.match(cleaned):
        cleaned = cleaned.replace(".", "")
    elif _GROUPED_WITH_SPACES.match(cleaned):
        cleaned = cleaned.replace(" ", "")
    elif not _PLAIN.match(cleaned):
        return None
    try:
        return Decimal(cleaned.replace(",", "."))
    except InvalidOperation:
        return None


def format_number(value: Decimal | int | float, locale: str) -> str:
    return format_decimal(value, format="#,##0.##", locale=locale)


def _negative(text: str) -> bool:
    return text.strip().startswith(("-", "−"))


def _parse_text(text: str, question: Question) -> str:
    value = text.strip()
    if not value:
        raise AnswerProblem(Message(N_("Vui lòng nhập nội dung trả lời.")))
    if len(value) > question.max_length:
        raise AnswerProblem(Message(
            N_("Nội dung quá dài ({length} ký tự); tối đa {limit} ký tự."),
            {"length": len(value), "limit": question.max_length},
        ))
    return value


def _parse_integer(text: str, question: Question) -> int:
    if _negative(text):
        raise AnswerProblem(Message(N_("Số liệu không được âm. Vui lòng nhập số nguyên từ 0 trở lên.")))
    number = parse_number(text)
    if number is None or number != number.to_integral_value():
        raise AnswerProblem(Message(
            N_("Vui lòng nhập một số nguyên từ 0 trở lên, ví dụ: 25 hoặc 1.234.")
        ))
    return int(number)


def _parse_decimal(text: str, question: Question) -> Decimal:
    if _negative(text):
        raise AnswerProblem(Message(N_("Số liệu không được âm. Vui lòng nhập số từ 0 trở lên.")))
    number = parse_number(text)
    if number is None:
        raise AnswerProblem(Message(N_("Vui lòng nhập một số, ví dụ: 12,5 hoặc 1.234.")))
    return number


def _parse_percent(text: str, question: Question) -> Decimal:
    stripped = text.strip().removesuffix("%").strip()
    if _negative(stripped):
        raise AnswerProblem(Message(N_("Tỷ lệ phải từ 0 đến 100%.")))
    number = parse_number(stripped)
    if number is None:
        raise AnswerProblem(Message(N_("Vui lòng nhập tỷ lệ phần trăm, ví dụ: 12,5%.")))
    if number > 100:
        raise AnswerProblem(Message(N_("Tỷ lệ phải từ 0 đến 100%.")))
    return number


YES_WORDS = frozenset({"co", "c", "yes", "y", "da co", "roi", "da"})
NO_WORDS = frozenset({"khong", "k", "ko", "no", "n", "chua"})


def _parse_yes_no(text: str, question: Question) -> str:
    folded = fold(text)
    if folded in YES_WORDS or folded == "1":
        return "yes"
    if folded in NO_WORDS or folded == "2":
        return "no"
    raise AnswerProblem(Message(N_("Vui lòng trả lời “Có” hoặc “Không”.")))


def _parse_select_one(text: str, question: Question) -> str:
    folded = fold(text)
    if folded.isdigit() and 1 <= int(folded) <= len(question.choices):
        return question.choices[int(folded) - 1].value
    for choice in question.choices:
        if folded in (fold(choice.label.vi), fold(choice.label.en), choice.value):
            return choice.value
    raise AnswerProblem(Message(
        N_("Vui lòng chọn một trong các phương án (gõ số thứ tự từ 1 đến {count})."),
        {"count": len(question.choices)},
    ))


_DAY_FIRST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def _parse_date(text: str, question: Question) -> date:
    cleaned = text.strip()
    try:
        if match := _DAY_FIRST.match(cleaned):
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        if match := _ISO.match(cleaned):
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
    except ValueError:
        pass
    raise AnswerProblem(Message(N_("Vui lòng nhập ngày theo dạng ngày/tháng/năm, ví dụ: 29/10/2021.")))


def _parse_nothing(text: str, question: Question) -> Any:
    raise AnswerProblem(Message(N_("Mục này được tính tự động, không cần nhập.")))


def _show_text(value: Any, question: Question, translator: Translator) -> str:
    return str(value)


def _show_number(value: Any, question: Question, translator: Translator) -> str:
    return format_number(value, translator.locale)


def _show_percent(value: Any, question: Question, translator: Translator) -> str:
    return format_number(value, translator.locale) + "%"


def _show_yes_no(value: Any, question: Question, translator: Translator) -> str:
    return translator.gettext(N_("Có") if value == "yes" else N_("Không"))


def _show_choice(value: Any, question: Question, translator: Translator) -> str:
    for choice in question.choices:
        if choice.value == value:
            return choice.label.get(translator.locale)
    return str(value)


def _show_date(value: Any, question: Question, translator: Translator) -> str:
    return format_date(value, "dd/MM/yyyy", locale=translator.locale)


def _show_calculated(value: Any, question: Question, translator: Translator) -> str:
    if value is NOT_ARISING:  # a rate of nothing: never "0%"
        return translator.gettext(N_("— (không phát sinh)"))
    shown = format_number(value, translator.locale)
    return shown + "%" if question.format == "percent" else shown


def _check_choices(question: Question) -> list[str]:
    if len(question.choices) < 2:
        return ["select_one needs at least two choices"]
    values = [choice.value for choice in question.choices]
    return ["choice values must be unique"] if len(set(values)) != len(values) else []


def _check_calculate(question: Question) -> list[str]:
    problems = []
    if question.calculate is None:
        problems.append("a calculate question needs a calculate expression")
    if question.format is None:
        problems.append("a calculate question needs a format (percent, integer or decimal)")
    return problems


def _no_checks(question: Question) -> list[str]:
    return []


@dataclass(frozen=True)
class QuestionType:
    """One row of the type table."""

    parse: Callable[[str, Question], Any]
    show: Callable[[Any, Question, Translator], str]
    to_storage: Callable[[Any], str]
    from_storage: Callable[[str], Any]
    numeric: bool = False
    check_definition: Callable[[Question], list[str]] = _no_checks
    example: str = ""


QUESTION_TYPES: dict[str, QuestionType] = {
    "text": QuestionType(_parse_text, _show_text, str, str),
    "integer": QuestionType(_parse_integer, _show_number, str, int, numeric=True),
    "decimal": QuestionType(_parse_decimal, _show_number, str, Decimal, numeric=True),
    "percent": QuestionType(_parse_percent, _show_percent, str, Decimal, numeric=True),
    "yes_no": QuestionType(_parse_yes_no, _show_yes_no, str, str),
    "select_one": QuestionType(_parse_select_one, _show_choice, str, str,
                               check_definition=_check_choices),
    "date": QuestionType(_parse_date, _show_date, date.isoformat, date.fromisoformat),
    "calculate": QuestionType(_parse_nothing, _show_calculated, str, Decimal, numeric=True,
                              check_definition=_check_calculate),
}
