"""The remediation report asked item by item: an outline with, for each item of the unit's
inspection conclusion, what became of it (done / in progress / not yet) and the measures taken.
Pure: the outline and the items' requirements in, the outline the unit is asked out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from engine.expressions import Expression
from engine.outline import Outline, Section
from engine.question import Choice, Question, Text

# After section II's counts (2.1–2.4), as the plan's §V.1.d report takes each item in turn.
ITEMS_PART: Final = "II"
ITEMS_SECTION: Final = "II.5"
ITEMS_TITLE: Final = Text(vi="Kết quả thực hiện từng nội dung kết luận",
                          en="What was done about each item of the conclusion")
ITEMS_SHORT: Final = Text(vi="Từng nội dung kết luận", en="Each conclusion item")
STATUS_CHOICES: Final = (
    Choice(value="done", label=Text(vi="Đã khắc phục", en="Remedied")),
    Choice(value="in_progress", label=Text(vi="Đang khắc phục", en="Being remedied")),
    Choice(value="not_started", label=Text(vi="Chưa khắc phục", en="Not yet remedied")),
)
# The remediation outline's count of the items the conclusion requires (2.1.a): told, not
# refused, when it differs from the items the VP office recorded (either may be wrong).
TOTAL_QUESTION: Final = "conclusion_items_total"
# Long enough for a requirement of a few lines, short enough to keep a chat message readable.
QUOTED_LENGTH: Final = 300


def status_name(number: int) -> str:
    return f"item_{number}_status"


def measures_name(number: int) -> str:
    return f"item_{number}_measures"


def _quoted(requirement: str) -> str:
    text = " ".join(requirement.split())
    return text if len(text) <= QUOTED_LENGTH else text[:QUOTED_LENGTH - 1].rstrip() + "…"


def item_questions(number: int, requirement: str) -> tuple[Question, Question]:
    """Item `number`'s two questions, citing what the conclusion required."""
    quoted = _quoted(requirement)
    status = Question(
        name=status_name(number), number=f"2.5.{number}.a", type="select_one", choices=STATUS_CHOICES,
        label=Text(vi=f"Nội dung kết luận số {number}: “{quoted}”. Kết quả thực hiện",
                   en=f"Conclusion item {number}: “{quoted}”. Result"),
        section_number=ITEMS_SECTION)
    measures = Question(
        name=measures_name(number), number=f"2.5.{number}.b", type="text", max_length=2000,
        label=Text(vi=f"Nội dung kết luận số {number}: biện pháp đã thực hiện",
                   en=f"Conclusion item {number}: measures taken"),
        hint=Text(vi=f"Yêu cầu của Kết luận: “{quoted}”. Nêu biện pháp đã thực hiện, kết quả và văn "
                     "bản, tài liệu chứng minh (số, ngày văn bản).",
                  en=f"The conclusion required: “{quoted}”. Give the measures taken, their result and "
                     "the documents that show it (number and date)."),
        section_number=ITEMS_SECTION)
    return status, measures


def with_conclusion_items(outline: Outline, requirements: Sequence[str]) -> Outline:
    """`outline` with a section asking about each requirement, after the last section of part
    II (or at the end when it has no part II); `outline` itself when there are none."""
    if not requirements:
        return outline
    section = Section(number=ITEMS_SECTION, part=ITEMS_PART if _has_part(outline, ITEMS_PART) else
                      outline.parts[-1].number, title=ITEMS_TITLE, short=ITEMS_SHORT,
                      questions=tuple(q for number, text in enumerate(requirements, start=1)
                                      for q in item_questions(number, text)))
    after = max((index for index, s in enumerate(outline.sections) if s.part == section.part),
                default=len(outline.sections) - 1)
    checked = tuple(_with_total_check(s, len(requirements)) for s in outline.sections)
    sections = (*checked[:after + 1], section, *checked[after + 1:])
    # A new Outline, not a copy: its name index is built from the sections it is given.
    return Outline(meta=outline.meta, parts=outline.parts, sections=sections, path=outline.path,
                   text=outline.text)


def item_count(outline: Outline) -> int:
    """How many conclusion items the outline asks about (0 for a plain outline)."""
    return sum(1 for q in outline.questions if q.section_number == ITEMS_SECTION and q.type == "select_one")


def _with_total_check(section: Section, count: int) -> Section:
    """The section with 2.1.a warning when its count differs from the items recorded."""
    questions = tuple(
        q.model_copy(update={
            "warning": Expression.parse(f". != {count}"),
            "warning_message": Text(
                vi=f"Văn phòng UBND thành phố đã ghi {count} nội dung của Kết luận kiểm tra đối với đơn "
                   f"vị, khác số nội dung anh/chị báo cáo tại mục {q.number} ({{value}}). Vui lòng kiểm "
                   "tra lại số liệu hoặc liên hệ Văn phòng UBND thành phố.",
                en=f"The VP office recorded {count} items of the conclusion for your unit, which differs "
                   f"from the items you reported in item {q.number} ({{value}}). Please check the figure "
                   "or contact the VP office.")})
        if q.name == TOTAL_QUESTION and q.warning is None else q
        for q in section.questions)
    return section if questions == section.questions else section.model_copy(update={"questions": questions})


def _has_part(outline: Outline, number: str) -> bool:
    return any(part.number == number for part in outline.parts)
