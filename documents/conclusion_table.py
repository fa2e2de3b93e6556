"""A remediation report's conclusion items as one table (STT / what the conclusion required /
the result / the measures taken), as the plan's §V.1.d report takes each item in turn."""

from __future__ import annotations

from collections.abc import Mapping

from documents.layout import TEXT_WIDTH_MM
from engine.answers import Answer, AnswerKind
from engine.conclusion_items import measures_name, status_name
from engine.i18n import Translator
from engine.outline import Outline
from engine.qtypes import QUESTION_TYPES

ITEM_COLUMNS = ("STT", "Nội dung Kết luận kiểm tra yêu cầu", "Kết quả thực hiện", "Biện pháp đã thực hiện")
ITEM_WIDTHS_MM = (15, 55, 36, TEXT_WIDTH_MM - 106)  # "STT" and "Đang khắc phục" on one line
NOT_GIVEN = "Chưa báo cáo"
NOTHING = "Không có"


def conclusion_rows(outline: Outline, requirements: tuple[str, ...], answers: Mapping[str, Answer],
                    translator: Translator) -> list[list[str]]:
    """One row per item the outline asks about, with the answers as the report states them."""
    return [[str(number), requirement, _said(outline, status_name(number), answers, translator),
             _said(outline, measures_name(number), answers, translator)]
            for number, requirement in enumerate(requirements, start=1)
            if outline.has_question(status_name(number))]


def _said(outline: Outline, name: str, answers: Mapping[str, Answer], translator: Translator) -> str:
    answer = answers.get(name)
    if answer is None or not answer.given:
        return NOT_GIVEN
    if answer.kind is AnswerKind.NONE:
        return NOTHING
    question = outline.question(name)
    return QUESTION_TYPES[question.type].show(answer.value, question, translator).strip()
