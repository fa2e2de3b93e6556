"""One unit's report as a Word document in the layout of Nghị định 30/2020/NĐ-CP."""

from __future__ import annotations

from documents.compare import SAME_PERIOD_LAST_YEAR, change_text
from documents.layout import UNANSWERED, AdministrativeDocument, Span, basis
from documents.model import ReportDocumentInfo, UnitReport
from engine.answers import AnswerKind
from engine.conversation import ReportEngine
from engine.figures import NOT_ARISING
from engine.i18n import N_, Translator
from engine.outline import Outline, Section
from engine.qtypes import QUESTION_TYPES
from engine.question import Question
from engine.views import ReviewItem, State

NOT_APPLICABLE = "Nội dung này không áp dụng đối với đơn vị."


def build_report_docx(
    outline: Outline, report: UnitReport, info: ReportDocumentInfo, translator: Translator
) -> bytes:
    """The unit's report (.docx): header, title, an opening sentence, then the outline's parts
    and sections with every relevant question as "number label: answer", then the recipients
    and the signature block.

    Relevance and the calculated rates come from the engine on the report's own answers, so an
    item hidden by a "không" answer is left out and rates always match the figures printed.
    `translator` formats the answers (numbers "1.234", "12,5%", "Có"/"Không") and picks the
    outline's labels; the frame of the document is Vietnamese."""
    engine = ReportEngine(outline)
    state = State(answers=dict(report.answers), unit_level=report.unit_level,
                  previous=dict(report.previous) or None)
    review = engine.review(state)
    values = engine.values(state)
    document = AdministrativeDocument(info, "Báo cáo", info.report_subject())
    document.paragraph(opening_sentence(outline, info))
    locale = translator.locale
    for part in outline.parts:
        document.heading(f"{part.number}. {part.title.get(locale)}")
        for section, items in review.sections:
            if section.part != part.number:
                continue
            if section.number != part.number:
                document.heading(f"{section_number(section)}. {section.title.get(locale)}")
            if not items and not _pending(engine, section, state, values):
                document.paragraph([Span(NOT_APPLICABLE, italic=True)])
            for item in items:
                document.paragraph(item_spans(item, translator))
                if item.question.compare_figures:
                    drafted = comparison_draft(engine, state, translator)
                    if drafted:
                        document.paragraph(drafted)
    return document.closing()


def opening_sentence(outline: Outline, info: ReportDocumentInfo) -> str:
    span = info.period.text() if info.period else f"năm {info.year}"
    subject = f"báo cáo tình hình, kết quả thực hiện hoạt động kiểm soát thủ tục hành chính {span}"
    implemented = basis(outline.meta.source) if info.basis is None else info.basis
    if implemented:
        return f"Thực hiện {implemented}, {info.unit_name} {subject} như sau:"
    return f"{info.unit_name} {subject} như sau:"


def section_number(section: Section) -> str:
    """The number printed before a section's title: "I.4" → "4" within part I."""
    return section.number.removeprefix(section.part + ".")


def item_spans(item: ReviewItem, translator: Translator) -> list[Span]:
    """"number label: answer" for one question of the review."""
    question = item.question
    label = " ".join(question.label.get(translator.locale).split())
    separator = " " if label.endswith(("?", ":")) else ": "
    lead = Span(f"{question.number}. {label}{separator}")
    spans = [lead, answer_span(item, translator)]
    beside = comparison(item, translator)
    if beside:
        spans.append(Span(beside))
    return spans


def comparison(item: ReviewItem, translator: Translator) -> str | None:
    """" (cùng kỳ năm trước: 2.000; tăng 25%)" after a figure or rate the unit also reported last
    period: a figure's change in per cent of last period's, a rate's in percentage points."""
    question, previous = item.question, item.previous
    if previous is None or not question.numeric:
        return None
    if question.asked:
        answer = item.answer
        if answer is None or not answer.given:
            return None
        current = answer.value if answer.kind is AnswerKind.VALUE else 0
    else:
        current = item.calculated
    shown = "— (không phát sinh)" if previous is NOT_ARISING else _shown(question, previous, translator)
    rate = question.type == "percent" or question.format == "percent"
    change = change_text(current, previous, rate=rate, locale=translator.locale)
    return f" ({SAME_PERIOD_LAST_YEAR}: {shown}" + (f"; {change})" if change else ")")


def comparison_draft(engine: ReportEngine, state: State, translator: Translator) -> str | None:
    """Đề cương II's comparison drafted from the figures: each figure and rate of this period
    beside the same period last year, by its number, with the change."""
    parts = []
    for question, now, before in engine.comparisons(state):
        rate = question.type == "percent" or question.format == "percent"
        shown = [_shown(question, value, translator) for value in (now, before)]
        change = change_text(now, before, rate=rate, locale=translator.locale)
        parts.append(f"mục {question.number}: {shown[0]} ({SAME_PERIOD_LAST_YEAR}: {shown[1]}"
                     + (f"; {change})" if change else ")"))
    if not parts:
        return None
    return "Số liệu kỳ này so với cùng kỳ năm trước: " + "; ".join(parts) + "."


def answer_span(item: ReviewItem, translator: Translator) -> Span:
    question, answer = item.question, item.answer
    if not question.asked:
        if item.calculated is None:
            return Span(UNANSWERED, italic=True)
        return Span(_shown(question, item.calculated, translator))
    if answer is None or answer.kind is AnswerKind.SKIPPED:
        return Span(UNANSWERED, italic=True)
    if answer.kind is AnswerKind.NONE:
        return Span(translator.gettext(N_("Không có")))
    return Span(_shown(question, answer.value, translator))


def _shown(question: Question, value: object, translator: Translator) -> str:
    return QUESTION_TYPES[question.type].show(value, question, translator).strip()


def _pending(engine: ReportEngine, section: Section, state: State, values: dict[str, object]) -> bool:
    """Whether some asked question of the section waits on an answer not given yet."""
    return any(engine.relevance(q, state, values) is None for q in section.questions if q.asked)
