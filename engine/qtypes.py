"""Question types as a table: how each one parses what an officer types, stores and shows it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal

from engine.figures import NOT_ARISING, SHARE_DECIMALS, share_rounded
from engine.i18n import N_, Message, Translator
from engine.number_format import format_number
from engine.question import Question
from engine.text import clean, fold, visible


class AnswerProblem(ValueError):
    """What the officer typed is not an answer of this type; `message` says what is expected."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.msgid)
        self.message = message


# Vietnamese officers write "1.234" or "1 234" for a thousand and "12,5" for twelve and a half.
_GROUPED_WITH_DOTS = re.compile(r"^\d{1,3}(\.\d{3})+(,\d+)?$")
_GROUPED_WITH_SPACES = re.compile(r"^\d{1,3}( \d{3})+(,\d+)?$")
_PLAIN = re.compile(r"^\d+([.,]\d+)?$")
# ...and often name what they count: "42 hồ sơ", "3 cuộc.", "12,5 phần trăm", "7 (văn bản)".
# A few words of letters after the figure are read past; a second figure never is.
_COUNTED_WORDS = re.compile(
    r"^(?P<number>[\d., \u00a0\u202f]*\d)\s+\(?(?P<words>[^\W\d_]+(\s+[^\W\d_]+){0,4})\)?\.?$")


def parse_number(text: str) -> Decimal | None:
    """Read a number typed the Vietnamese way; None if it is not one."""
    cleaned = " ".join(clean(text).replace("\u00a0", " ").replace("\u202f", " ").split())
    if counted := _COUNTED_WORDS.match(cleaned):
        cleaned = counted["number"].strip()
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


def _negative(text: str) -> bool:
    return clean(text).strip().startswith(("-", "−"))


def _parse_text(text: str, question: Question) -> str:
    value = clean(text).strip()
    if not visible(value):
        raise AnswerProblem(Message(N_("Vui lòng nhập nội dung trả lời.")))
    if len(value) > question.max_length:
        raise AnswerProblem(Message(
            N_("Nội dung quá dài ({length} ký tự); câu này nhận tối đa {limit} ký tự. Câu trả lời "
               "chưa được lưu: vui lòng rút gọn rồi gửi lại."),
            {"length": _Figure(len(value)), "limit": _Figure(question.max_length)},
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
    stripped = clean(text).strip().removesuffix("%").strip()
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
    # 0-9 only, and few of them: "²" is a digit to isdigit() but not to int(), and int() of a
    # text stops at 4,300 digits.
    if folded.isascii() and folded.isdigit() and len(folded) <= 4 \
            and 1 <= int(folded) <= len(question.choices):
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


@dataclass(frozen=True)
class AnswerWindow:
    """What bounds an answer beyond its question: the campaign it is given in."""

    deadline: date | None = None


class _Figure:
    """A number in a message, formatted for the officer's locale when rendered."""

    def __init__(self, value: Decimal | int) -> None:
        self.value = value

    def render(self, translator: Translator) -> str:
        return format_number(self.value, translator.locale)


class _Day:
    def __init__(self, value: date) -> None:
        self.value = value

    def render(self, translator: Translator) -> str:
        return self.value.strftime("%d/%m/%Y")


def number_bounds(question: Question) -> tuple[Decimal, Decimal]:
    """The smallest and largest figure a numeric question accepts: its own `min`/`max` from the
    outline, else its type's."""
    row = QUESTION_TYPES[question.type]
    low = question.minimum if isinstance(question.minimum, Decimal) else row.minimum
    high = question.maximum if isinstance(question.maximum, Decimal) else row.maximum
    return Decimal(low or 0), Decimal(high if high is not None else NUMBER_CEILING)


def _check_number(value: Any, question: Question, window: AnswerWindow) -> Message | None:
    low, high = number_bounds(question)
    row = QUESTION_TYPES[question.type]
    shown = _show_percent if question.type == "percent" else _show_number
    if value > high:
        return Message(N_("Số liệu quá lớn: câu này nhận số liệu tối đa là {maximum}. Câu trả lời "
                          "chưa được lưu; vui lòng kiểm tra lại."),
                       {"maximum": _Shown(shown, high, question)})
    if value < low:
        return Message(N_("Số liệu quá nhỏ: câu này nhận số liệu từ {minimum} trở lên. Câu trả lời "
                          "chưa được lưu; vui lòng kiểm tra lại."),
                       {"minimum": _Shown(shown, low, question)})
    exponent = Decimal(value).as_tuple().exponent
    if isinstance(exponent, int) and -exponent > row.decimals:
        return Message(N_("Vui lòng nhập số có tối đa {decimals} chữ số sau dấu phẩy."),
                       {"decimals": row.decimals})
    return None


def date_bounds(question: Question, window: AnswerWindow) -> tuple[date, date | None]:
    """The earliest and latest date a date question accepts: its own `min`/`max`, else from 2000
    to the end of the year of the campaign's deadline."""
    earliest = question.minimum if isinstance(question.minimum, date) else EARLIEST_DATE
    if isinstance(question.maximum, date):
        return earliest, question.maximum
    return earliest, date(window.deadline.year, 12, 31) if window.deadline else None


def _check_date(value: Any, question: Question, window: AnswerWindow) -> Message | None:
    earliest, latest = date_bounds(question, window)
    if latest is not None and not earliest <= value <= latest:
        return Message(N_("Ngày {date} nằm ngoài thời gian hợp lý của báo cáo; vui lòng nhập ngày "
                          "từ {earliest} đến {latest}."),
                       {"date": _Day(value), "earliest": _Day(earliest), "latest": _Day(latest)})
    if value < earliest:
        return Message(N_("Ngày {date} nằm ngoài thời gian hợp lý của báo cáo; vui lòng nhập ngày "
                          "từ {earliest} trở về sau."),
                       {"date": _Day(value), "earliest": _Day(earliest)})
    return None


def _unchecked(value: Any, question: Question, window: AnswerWindow) -> Message | None:
    return None


class _Shown:
    def __init__(self, show: Callable[[Any, Question, Translator], str], value: Any,
                 question: Question) -> None:
        self.show, self.value, self.question = show, value, question

    def render(self, translator: Translator) -> str:
        return self.show(self.value, self.question, translator)


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
    if question.format == "percent":
        share = format_decimal(share_rounded(value), format="#,##0." + "0" * SHARE_DECIMALS,
                               locale=translator.locale, decimal_quantization=True)
        return f"{share}%"
    return format_number(value, translator.locale)


def _check_choices(question: Question) -> list[str]:
    if len(question.choices) < 2:
        return ["select_one needs at least two choices"]
    values = [choice.value for choice in question.choices]
    unique = ["choice values must be unique"] if len(set(values)) != len(values) else []
    return unique + _no_checks(question)


def _check_calculate(question: Question) -> list[str]:
    problems = []
    if question.calculate is None:
        problems.append("a calculate question needs a calculate expression")
    if question.format is None:
        problems.append("a calculate question needs a format (percent, integer or decimal)")
    return problems + _no_checks(question)


def _no_checks(question: Question) -> list[str]:
    if question.minimum is not None or question.maximum is not None:
        return ["min and max apply only to integer, decimal, percent and date questions"]
    return []


def _check_number_definition(question: Question) -> list[str]:
    problems = []
    for key, bound in (("min", question.minimum), ("max", question.maximum)):
        if bound is not None and not isinstance(bound, Decimal):
            problems.append(f"{key} of a {question.type} question must be a number")
        elif isinstance(bound, Decimal) and not 0 <= bound <= NUMBER_CEILING:
            problems.append(f"{key} must be from 0 to {NUMBER_CEILING:,}")
    if not problems:
        low, high = number_bounds(question)
        if low > high:
            problems.append("min must not exceed max")
        if question.type == "percent" and high > 100:
            problems.append("a percent question's max cannot exceed 100")
    return problems


def _check_date_definition(question: Question) -> list[str]:
    problems = []
    for key, bound in (("min", question.minimum), ("max", question.maximum)):
        if bound is not None and not isinstance(bound, date):
            problems.append(f"{key} of a date question must be a date (yyyy-mm-dd)")
    low, high = question.minimum, question.maximum
    if not problems and isinstance(low, date) and isinstance(high, date) and low > high:
        problems.append("min must not be after max")
    return problems


@dataclass(frozen=True)
class QuestionType:
    """One row of the type table."""

    parse: Callable[[str, Question], Any]
    show: Callable[[Any, Question, Translator], str]
    to_storage: Callable[[Any], str]
    from_storage: Callable[[str], Any]
    check_definition: Callable[[Question], list[str]] = _no_checks
    example: str = ""
    # Bounds of a sane answer, unless the question sets its own `min`/`max` in the outline.
    check_value: Callable[[Any, Question, AnswerWindow], Message | None] = _unchecked
    minimum: Any = None
    maximum: Any = None
    decimals: int = 0  # digits after the decimal comma

    def read(self, text: str, question: Question, window: AnswerWindow = AnswerWindow()) -> Any:
        """What the officer typed as this type's value, within its bounds; AnswerProblem else."""
        value = self.parse(text, question)  # each parser cleans what it reads
        problem = self.check_value(value, question, window)
        if problem is not None:
            raise AnswerProblem(problem)
        return value


# A count of dossiers, documents or inspections in one unit's report: ten million is beyond any
# unit of a province; figures are also kept below 10^15, where expressions (floats) stay exact.
INTEGER_MAXIMUM = Decimal(10_000_000)
DECIMAL_MAXIMUM = Decimal(1_000_000_000)
NUMBER_CEILING = Decimal(10**15)
EARLIEST_DATE = date(2000, 1, 1)


def _stored_integer(stored: str) -> int:
    return int(Decimal(stored))  # int() of a string stops at 4,300 digits; Decimal does not


QUESTION_TYPES: dict[str, QuestionType] = {
    "text": QuestionType(_parse_text, _show_text, str, str),
    "integer": QuestionType(_parse_integer, _show_number, str, _stored_integer,
                            check_definition=_check_number_definition, check_value=_check_number,
                            minimum=Decimal(0), maximum=INTEGER_MAXIMUM),
    "decimal": QuestionType(_parse_decimal, _show_number, str, Decimal,
                            check_definition=_check_number_definition, check_value=_check_number,
                            minimum=Decimal(0), maximum=DECIMAL_MAXIMUM, decimals=4),
    "percent": QuestionType(_parse_percent, _show_percent, str, Decimal,
                            check_definition=_check_number_definition, check_value=_check_number,
                            minimum=Decimal(0), maximum=Decimal(100), decimals=4),
    "yes_no": QuestionType(_parse_yes_no, _show_yes_no, str, str),
    "select_one": QuestionType(_parse_select_one, _show_choice, str, str,
                               check_definition=_check_choices),
    "date": QuestionType(_parse_date, _show_date, date.isoformat, date.fromisoformat,
                         check_definition=_check_date_definition, check_value=_check_date,
                         minimum=EARLIEST_DATE),
    "calculate": QuestionType(_parse_nothing, _show_calculated, str, Decimal,
                              check_definition=_check_calculate),
}
