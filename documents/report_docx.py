"""One unit's report as a Word document in the layout of Nghị định 30/2020/NĐ-CP, written as a
report: the Đề cương's headings, answers as sentences and paragraphs, every group of figures as a
table beside last period's, and what is not reported yet named once at the end."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

from documents.compare import change_text
from documents.conclusion_table import ITEM_COLUMNS, ITEM_WIDTHS_MM, conclusion_rows
from documents.layout import TEXT_WIDTH_MM, AdministrativeDocument, Span, basis
from documents.model import ReportDocumentInfo, UnitReport
from documents.shares import share_text
from documents.subject import lower_first, report_opening, report_subject
from engine.answers import AnswerKind
from engine.conclusion_items import ITEMS_SECTION
from engine.conversation import ReportEngine
from engine.figures import NOT_ARISING
from engine.i18n import Translator
from engine.outline import Outline, Section
from engine.qtypes import QUESTION_TYPES
from engine.question import Question
from engine.views import ReviewItem, State

NOT_APPLICABLE = "Nội dung này không áp dụng đối với đơn vị."
NOTHING_TO_REPORT = "không có nội dung phát sinh trong kỳ báo cáo."
UNREPORTED_HEADING = "Nội dung chưa báo cáo"
UNREPORTED_LEAD = "Đến ngày lập báo cáo, đơn vị chưa báo cáo các nội dung sau:"
NAMED_MISSING = 2  # a section lacking this few items names them; more are counted
FIGURE_COLUMNS = ("Chỉ tiêu", "Kỳ này", "Kỳ trước", "Tăng, giảm")
FIGURE_WIDTHS_MM = (TEXT_WIDTH_MM - 92, 28, 28, 36)
NO_FIGURE = "—"
NOT_ARISING_CELL = "Không phát sinh"
# "… có gặp vướng mắc không?" / "… đã xây dựng quy trình chưa?": the yes/no questions of the
# Đề cương, turned into the statement the answer makes.
YES_NO_QUESTION = re.compile(r"(?P<subject>.*?\S)\s+(?P<verb>có|đã)\s+(?P<rest>.+?)\s+(?:không|chưa)\s*\??")
NEGATION = {"có": "không", "đã": "chưa"}


def build_report_docx(
    outline: Outline, report: UnitReport, info: ReportDocumentInfo, translator: Translator
) -> bytes:
    """The unit's report (.docx): header, title, an opening sentence, then the outline's parts
    and sections as headings, each answer written out under its section (figures as tables),
    the items not reported yet listed once, then the recipients and the signature block. A
    report not handed in is marked "DỰ THẢO" unless `info.draft` says otherwise.

    Relevance and the calculated rates come from the engine on the report's own answers, so an
    item hidden by a "không" answer is left out and rates always match the figures printed.
    `translator` formats the answers (numbers "1.234", "12,5%", "Có"/"Không") and picks the
    outline's labels; the frame of the document is Vietnamese."""
    engine = ReportEngine(outline)
    state = State(answers=dict(report.answers), unit_level=report.unit_level,
                  previous=dict(report.previous) or None)
    review = engine.review(state)
    values = engine.values(state)
    if info.draft is None:
        info = replace(info, draft=not report.submitted)
    document = AdministrativeDocument(info, "Báo cáo", info.report_subject(report_subject(outline)))
    document.paragraph(opening_sentence(outline, info))
    locale = translator.locale
    unreported: list[tuple[Section, list[Question]]] = []
    for part in outline.parts:
        headed = False  # a part with nothing to print has no heading: its sections are listed at the end
        for section, items in review.sections:
            if section.part != part.number:
                continue
            given = [item for item in items if reported(item)]
            missing = [item.question for item in items if not reported(item) and item.question.asked]
            pending = not items and _pending(engine, section, state, values)
            if missing or pending:
                unreported.append((section, missing))
            if not given and (missing or pending):
                continue  # nothing reported yet: named once, in the list at the end
            if not headed:
                document.heading(f"{part.number}. {part.title.get(locale)}")
                headed = True
            if section.number != part.number:
                document.heading(f"{section_number(section)}. {section.title.get(locale)}")
            if not given:
                document.paragraph([Span(NOT_APPLICABLE, italic=True)])
            elif section.number == ITEMS_SECTION and report.conclusion_items:
                document.grid(ITEM_COLUMNS, conclusion_rows(outline, report.conclusion_items, report.answers,
                                                            translator), ITEM_WIDTHS_MM, words=True)
                continue
            for numeric, run in itertools.groupby(given, key=lambda item: item.question.numeric):
                if numeric:
                    document.grid(FIGURE_COLUMNS, [figure_row(item, translator) for item in run],
                                  FIGURE_WIDTHS_MM)
                else:
                    for item in run:
                        document.paragraph(item_spans(item, translator))
    if unreported:
        write_unreported(document, unreported, locale)
    return document.closing()


def reported(item: ReviewItem) -> bool:
    """An answer given (a value or "không có"), or a rate the engine could work out."""
    if not item.question.asked:
        return item.calculated is not None
    return item.answer is not None and item.answer.given


def opening_sentence(outline: Outline, info: ReportDocumentInfo) -> str:
    """"Thực hiện <the basis>, <the unit> <the outline's opening> <the period> như sau:"."""
    subject = f"{report_opening(outline)} {info.span()}"
    implemented = basis(outline.meta.source) if info.basis is None else info.basis
    if implemented:
        return f"Thực hiện {implemented}, {info.unit_name} {subject} như sau:"
    return f"{info.unit_name} {subject} như sau:"


def section_number(section: Section) -> str:
    """The number printed before a section's title: "I.4" → "4" within part I."""
    return section.number.removeprefix(section.part + ".")


def label_of(question: Question, translator: Translator) -> str:
    return " ".join(question.label.get(translator.locale).split())


def item_spans(item: ReviewItem, translator: Translator) -> list[Span]:
    """One answer (not a figure) as the report says it: a yes/no question as the statement its
    answer makes, otherwise the item's label as a lead-in and the answer after it; "không có"
    as a sentence saying there is nothing to report."""
    question, answer = item.question, item.answer
    assert answer is not None
    label = label_of(question, translator)
    if question.type == "yes_no" and answer.kind is AnswerKind.VALUE:
        said = yes_no_sentence(label, answer.value == "yes")
        if said:
            return [Span(said)]
    lead = Span(label if label.endswith(("?", ":")) else label + ":", italic=True)
    if answer.kind is AnswerKind.NONE:
        return [lead, Span(" " + NOTHING_TO_REPORT)]
    text = _shown(question, answer.value, translator)
    if question.type != "text" and not text.endswith((".", "!", "?")):
        text += "."
    return [lead, Span(" " + text)]


def yes_no_sentence(label: str, yes: bool) -> str | None:
    """"Cơ quan, đơn vị có đề xuất … không?" answered "không" → "Cơ quan, đơn vị không đề xuất
    …."; None for a question not put that way."""
    match = YES_NO_QUESTION.fullmatch(label)
    if not match:
        return None
    verb = match["verb"] if yes else NEGATION[match["verb"]]
    return f"{match['subject']} {verb} {match['rest']}."


def figure_row(item: ReviewItem, translator: Translator) -> list[str]:
    """Chỉ tiêu / kỳ này / kỳ trước / tăng, giảm: a figure ("không có" is 0) or a rate, beside
    the unit's own of last period where it has one; a figure's change in per cent of last
    period's, a rate's in percentage points."""
    question, answer = item.question, item.answer
    if question.asked:
        assert answer is not None
        current = answer.value if answer.kind is AnswerKind.VALUE else 0
    else:
        current = item.calculated
    previous = item.previous
    change = change_text(current, previous, rate=_is_rate(question), locale=translator.locale)
    return [label_of(question, translator), _figure(question, current, translator),
            NO_FIGURE if previous is None else _figure(question, previous, translator),
            change or NO_FIGURE]


def _figure(question: Question, value: object, translator: Translator) -> str:
    """A figure in its cell: a rate of nothing in words, the dash being the cell with no figure;
    shares at the one precision every document prints them in."""
    if value is NOT_ARISING:
        return NOT_ARISING_CELL
    return share_text(value, translator.locale) if _is_rate(question) else _shown(question, value, translator)


def _is_rate(question: Question) -> bool:
    return question.type == "percent" or question.format == "percent"


def write_unreported(document: AdministrativeDocument, unreported: list[tuple[Section, list[Question]]],
                     locale: str) -> None:
    """The items still without an answer, once, compactly: each section's heading and how many
    items it still lacks, naming them only where one or two are left, so a report barely begun
    is a few pages, not a copy of the Đề cương."""
    document.heading(UNREPORTED_HEADING)
    document.paragraph(UNREPORTED_LEAD)
    for section, questions in unreported:
        heading = f"{section_number(section)}. {section.title.get(locale)}"
        asked = sum(1 for question in section.questions if question.asked)
        if not questions:
            said = "các nội dung của mục"
        elif len(questions) <= NAMED_MISSING:
            said = "; ".join(lower_first(" ".join(q.label.get(locale).split()).rstrip(" ?:"))
                             for q in questions)
        elif len(questions) >= asked:
            said = f"cả {len(questions)} nội dung"
        else:
            said = f"{len(questions)} trong số {asked} nội dung"
        document.paragraph([Span(f"{heading}: "), Span(f"{said}.", italic=True)])


def _shown(question: Question, value: object, translator: Translator) -> str:
    return QUESTION_TYPES[question.type].show(value, question, translator).strip()


def _pending(engine: ReportEngine, section: Section, state: State, values: dict[str, object]) -> bool:
    """Whether some asked question of the section waits on an answer not given yet."""
    return any(engine.relevance(q, state, values) is None for q in section.questions if q.asked)
