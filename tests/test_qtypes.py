"""The question-type table: what an officer may type for each type, and how it is shown back.

Every row goes through `QUESTION_TYPES[type].parse(text, question)` on a real question of the
Kế hoạch 20 outline (or a small constructed one), exactly as the engine calls it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from engine.outline import Outline
from engine.qtypes import QUESTION_TYPES, AnswerProblem, parse_number
from engine.question import NUMERIC_TYPES, QUESTION_TYPE_NAMES, Question, Text
from locales.translation import translator

VI = translator("vi")
EN = translator("en")


def question(type_: str, **extra: Any) -> Question:
    """A small question of one type, as the loader would build it."""
    return Question.model_validate({
        "name": f"sample_{type_}",
        "number": "1.1",
        "type": type_,
        "label": {"vi": "Câu hỏi mẫu", "en": "Sample question"},
        "section_number": "I.1",
        **extra,
    })


# A three-level scale, as an outline may list one (the shipped outline asks II.2 in words, as
# the plan does, so the list is made here).
LEVELS = question("select_one", name="completion_level", choices=[
    {"value": "completed_well", "label": {"vi": "Hoàn thành tốt", "en": "Completed well"}},
    {"value": "completed", "label": {"vi": "Hoàn thành", "en": "Completed"}},
    {"value": "not_completed", "label": {"vi": "Chưa hoàn thành", "en": "Not completed"}},
])


def parse(type_: str, text: str, q: Question | None = None) -> Any:
    return QUESTION_TYPES[type_].parse(text, q or question(type_))


def problem(type_: str, text: str, q: Question | None = None) -> str:
    """The Vietnamese sentence the officer reads when `text` is refused."""
    with pytest.raises(AnswerProblem) as caught:
        parse(type_, text, q)
    return caught.value.message.render(VI)


def assert_vietnamese_sentence(message: str) -> None:
    assert message[0].isupper(), message
    assert message.rstrip().endswith("."), message
    assert "{" not in message and "}" not in message, f"unfilled placeholder: {message}"
    assert any(ord(ch) > 127 for ch in message), f"not Vietnamese: {message}"


def test_every_type_an_outline_may_name_has_a_row_in_the_table() -> None:
    assert sorted(QUESTION_TYPES) == sorted(QUESTION_TYPE_NAMES)
    assert NUMERIC_TYPES.issubset(QUESTION_TYPE_NAMES)


# ----- text -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "stored"), [
    ("Đã ban hành Kế hoạch số 12/KH-UBND", "Đã ban hành Kế hoạch số 12/KH-UBND"),
    ("  có khoảng trắng hai đầu  ", "có khoảng trắng hai đầu"),
    ("<b>&", "<b>&"),
    ("Tốt lắm 👍🎉 <i>x</i> & y", "Tốt lắm 👍🎉 <i>x</i> & y"),
    ("dòng 1\ndòng 2", "dòng 1\ndòng 2"),
    ("0", "0"),
])
def test_text_is_kept_verbatim(typed: str, stored: str) -> None:
    assert parse("text", typed) == stored


@pytest.mark.parametrize("typed", ["", "   ", "\n\t"])
def test_empty_text_is_refused(typed: str) -> None:
    message = problem("text", typed)
    assert_vietnamese_sentence(message)
    assert "nhập nội dung" in message


def test_text_over_max_length_names_length_and_limit() -> None:
    short = question("text", max_length=10)
    assert parse("text", "a" * 10, short) == "a" * 10
    message = problem("text", "Đủ dài rồi!!", short)  # 12 characters
    assert_vietnamese_sentence(message)
    assert "12" in message and "10" in message


def test_real_outline_text_limit(outline: Outline) -> None:
    forms = outline.question("inspection_forms")  # max_length: 500 in the outline
    assert parse("text", "ồ" * 500, forms) == "ồ" * 500
    message = problem("text", "ồ" * 501, forms)
    assert "501" in message and "500" in message


# ----- integer ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "value"), [
    ("1234", 1234),
    ("1.234", 1234),
    ("1 234", 1234),
    ("1 234 567", 1234567),
    ("1.234.567", 1234567),
    (" 25 ", 25),
    ("1\u00a0234", 1234),
    ("1\u202f234", 1234),
    ("0", 0),
    ("007", 7),
    # Officers name what they count.
    ("42 hồ sơ", 42),
    ("1.234 hồ sơ.", 1234),
    ("3 (cuộc)", 3),
    ("12 thủ tục hành chính", 12),
    # Invisible characters a copy from a web page brings along.
    ("\u200b42\ufeff", 42),
])
def test_integer_accepts_vietnamese_grouping(typed: str, value: int) -> None:
    parsed = parse("integer", typed)
    assert parsed == value
    assert type(parsed) is int


@pytest.mark.parametrize(("typed", "explains"), [
    ("1.5", "số nguyên"),
    ("12,5", "số nguyên"),
    ("1,234", "số nguyên"),  # the comma is the decimal separator: 1,234 is not a whole number
    ("-3", "không được âm"),
    ("−3", "không được âm"),
    ("abc", "số nguyên"),
    ("", "số nguyên"),
    ("12 34", "số nguyên"),
    ("1.23.456", "số nguyên"),
    ("3 hồ sơ, 2 trễ hạn", "số nguyên"),  # two figures: which one is meant is not ours to guess
])
def test_integer_refusals_explain_in_vietnamese(typed: str, explains: str) -> None:
    message = problem("integer", typed)
    assert_vietnamese_sentence(message)
    assert explains in message


def test_integer_on_real_question(outline: Outline) -> None:
    assert parse("integer", "1.234", outline.question("dossiers_total")) == 1234


# ----- decimal and percent ----------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "value"), [
    ("12,5", Decimal("12.5")),
    ("1.234,5", Decimal("1234.5")),
    ("1 234,5", Decimal("1234.5")),
    ("12.5", Decimal("12.5")),
    ("0", Decimal("0")),
    ("1.234", Decimal("1234")),
])
def test_decimal(typed: str, value: Decimal) -> None:
    assert parse("decimal", typed) == value


@pytest.mark.parametrize("typed", ["abc", "-1,5", "12,5,3", "", "1,2.3"])
def test_decimal_refusals(typed: str) -> None:
    assert_vietnamese_sentence(problem("decimal", typed))


@pytest.mark.parametrize(("typed", "value"), [
    ("12,5%", Decimal("12.5")),
    ("12,5 %", Decimal("12.5")),
    ("100%", Decimal("100")),
    ("0%", Decimal("0")),
    ("50", Decimal("50")),
    (" 99,99 % ", Decimal("99.99")),
])
def test_percent(typed: str, value: Decimal) -> None:
    assert parse("percent", typed) == value


@pytest.mark.parametrize(("typed", "explains"), [
    ("101%", "từ 0 đến 100%"),
    ("100,5%", "từ 0 đến 100%"),
    ("-1%", "từ 0 đến 100%"),
    ("%", "tỷ lệ phần trăm"),
    ("nhiều %", "tỷ lệ phần trăm"),
])
def test_percent_refusals(typed: str, explains: str) -> None:
    message = problem("percent", typed)
    assert_vietnamese_sentence(message)
    assert explains in message


# ----- yes / no ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "value"), [
    ("có", "yes"), ("Có", "yes"), ("CO", "yes"), ("c", "yes"), ("yes", "yes"), ("1", "yes"),
    ("  CÓ ", "yes"), ("đã có", "yes"), ("rồi", "yes"),
    ("không", "no"), ("Không", "no"), ("khong", "no"), ("k", "no"), ("ko", "no"), ("no", "no"),
    ("2", "no"), ("chưa", "no"), ("CHƯA", "no"),
])
def test_yes_no(typed: str, value: str, outline: Outline) -> None:
    assert parse("yes_no", typed, outline.question("implementation_difficulties_any")) == value


@pytest.mark.parametrize("typed", ["maybe", "có lẽ", "3", "", "0"])
def test_yes_no_refusals(typed: str) -> None:
    message = problem("yes_no", typed)
    assert_vietnamese_sentence(message)
    assert "Có" in message and "Không" in message


# ----- select one -------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "value"), [
    ("1", "completed_well"),
    ("2", "completed"),
    ("3", "not_completed"),
    (" 3 ", "not_completed"),
    ("Hoàn thành tốt", "completed_well"),
    ("hoan thanh tot", "completed_well"),
    ("HOÀN THÀNH", "completed"),
    ("hoan thanh", "completed"),
    ("Chưa hoàn thành", "not_completed"),
    ("chua hoan thanh", "not_completed"),
    ("Completed well", "completed_well"),
])
def test_select_one_by_number_or_label(typed: str, value: str) -> None:
    assert parse("select_one", typed, LEVELS) == value


@pytest.mark.parametrize("typed", ["4", "99", "-1", "xuất sắc", ""])
def test_select_one_refusal_names_the_count(typed: str) -> None:
    message = problem("select_one", typed, LEVELS)
    assert_vietnamese_sentence(message)
    assert "từ 1 đến 3" in message


# ----- date -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "value"), [
    ("29/10/2021", date(2021, 10, 29)),
    ("1/2/2021", date(2021, 2, 1)),
    ("01/02/2021", date(2021, 2, 1)),
    ("29-10-2021", date(2021, 10, 29)),
    ("29.10.2021", date(2021, 10, 29)),
    ("2021-10-29", date(2021, 10, 29)),
    (" 29/02/2020 ", date(2020, 2, 29)),
])
def test_date(typed: str, value: date, outline: Outline) -> None:
    assert parse("date", typed, outline.question("review_plan_date")) == value


@pytest.mark.parametrize("typed", [
    "31/02/2021", "29/02/2021", "2021/13/01", "2021-13-01", "32/01/2021", "10/29/2021x",
    "hôm qua", "29/10/21", "",
])
def test_date_refusals(typed: str) -> None:
    message = problem("date", typed)
    assert_vietnamese_sentence(message)
    assert "29/10/2021" in message  # the example shows the expected form


def test_calculated_items_are_never_typed(outline: Outline) -> None:
    assert_vietnamese_sentence(problem("calculate", "12", outline.question("dossiers_postal_rate")))


# ----- parse_number -----------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "value"), [
    ("1234", Decimal("1234")),
    ("1.234", Decimal("1234")),
    ("1 234", Decimal("1234")),
    ("1\u00a0234\u00a0567", Decimal("1234567")),
    ("1.234.567,89", Decimal("1234567.89")),
    ("12,5", Decimal("12.5")),
    ("12.5", Decimal("12.5")),
    ("1,234", Decimal("1.234")),
    ("  7  ", Decimal("7")),
    ("0", Decimal("0")),
])
def test_parse_number(typed: str, value: Decimal) -> None:
    assert parse_number(typed) == value


@pytest.mark.parametrize("typed", [
    "", " ", "abc", "1,2,3", "12.34.56", "1 23", "1e5", "+5", "-5", "12%", "1.234,5,6", "..",
])
def test_parse_number_refuses(typed: str) -> None:
    assert parse_number(typed) is None


# ----- show: how an answer is printed back --------------------------------------------------------

@pytest.mark.parametrize(("type_", "value", "vi", "en"), [
    ("integer", 1234, "1.234", "1,234"),
    ("integer", 1234567, "1.234.567", "1,234,567"),
    ("integer", 0, "0", "0"),
    ("decimal", Decimal("1234.5"), "1.234,5", "1,234.5"),
    ("percent", Decimal("12.5"), "12,5%", "12.5%"),
    ("date", date(2021, 10, 29), "29/10/2021", "29/10/2021"),
    ("date", date(2021, 2, 1), "01/02/2021", "01/02/2021"),
    ("text", "<b>&", "<b>&", "<b>&"),
])
def test_show_formats_per_locale(type_: str, value: Any, vi: str, en: str) -> None:
    q = question(type_)
    assert QUESTION_TYPES[type_].show(value, q, VI) == vi
    assert QUESTION_TYPES[type_].show(value, q, EN) == en


def test_show_yes_no_and_choice(outline: Outline) -> None:
    gate = outline.question("implementation_difficulties_any")
    assert QUESTION_TYPES["yes_no"].show("yes", gate, VI) == "Có"
    assert QUESTION_TYPES["yes_no"].show("no", gate, VI) == "Không"
    assessment = LEVELS
    assert QUESTION_TYPES["select_one"].show("completed_well", assessment, VI) == "Hoàn thành tốt"
    assert QUESTION_TYPES["select_one"].show("completed_well", assessment, EN) == "Completed well"


@pytest.mark.parametrize(("value", "vi", "en"), [
    (Decimal("12.50"), "12,5%", "12.5%"),
    (Decimal("50.00"), "50,0%", "50.0%"),
    (Decimal("33.3333"), "33,3%", "33.3%"),
    (Decimal("0.00"), "0,0%", "0.0%"),
    (Decimal("4.3478"), "4,3%", "4.3%"),  # rounded once: never 4,35% then 4,4%,
])
def test_show_calculated_percent(value: Decimal, vi: str, en: str, outline: Outline) -> None:
    rate = outline.question("dossiers_postal_rate")
    assert QUESTION_TYPES["calculate"].show(value, rate, VI) == vi
    assert QUESTION_TYPES["calculate"].show(value, rate, EN) == en


@pytest.mark.parametrize(("type_", "value"), [
    ("text", "Có <b>&</b> 👍"),
    ("integer", 1234),
    ("decimal", Decimal("1234.5")),
    ("percent", Decimal("12.5")),
    ("yes_no", "no"),
    ("select_one", "completed"),
    ("date", date(2021, 10, 29)),
])
def test_storage_round_trip(type_: str, value: Any) -> None:
    row = QUESTION_TYPES[type_]
    assert row.from_storage(row.to_storage(value)) == value


def test_every_type_has_a_row() -> None:
    assert set(QUESTION_TYPES) == {
        "text", "integer", "decimal", "percent", "yes_no", "select_one", "date", "calculate",
    }


def test_text_labels_in_both_languages() -> None:
    label = Text(vi="Tổng số hồ sơ", en="Total dossiers")
    assert label.get("vi") == "Tổng số hồ sơ"
    assert label.get("en") == "Total dossiers"
