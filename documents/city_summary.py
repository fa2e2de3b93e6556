"""The city-wide summary of the units' reports as a Word document, in the same layout."""

from __future__ import annotations

from collections import Counter

from documents.compare import SAME_PERIOD_LAST_YEAR, change_text
from documents.layout import AdministrativeDocument, Span, basis
from documents.model import ReportDocumentInfo
from documents.report_docx import section_number
from documents.totals import COUNTED_CHOICE_TYPES, SUMMED_TYPES, Totals
from engine.figures import NOT_ARISING
from engine.i18n import Translator
from engine.outline import Outline
from engine.qtypes import QUESTION_TYPES, format_number
from engine.question import Question

NO_REPORT = "chưa có đơn vị báo cáo"
YES_NO_TEXT = {"yes": "Có", "no": "Không"}


def build_city_summary_docx(
    outline: Outline, totals: Totals, info: ReportDocumentInfo, translator: Translator,
    previous: Totals | None = None,
) -> bytes:
    """The summary (.docx): every figure item with its city total, every rate recomputed from
    the totals, choice items as units per answer, text items as "x/N đơn vị đã báo cáo", where
    N is the number of reports the totals counted (`documents.totals.totals`). With `previous`
    (the totals of the previous campaign of the same kind), each figure and rate is followed by
    last period's and the change ("cùng kỳ năm trước: 2.000; tăng 25%")."""
    subject = info.subject or (
        f"Tổng hợp tình hình, kết quả thực hiện hoạt động kiểm soát thủ tục hành chính năm {info.year}")
    document = AdministrativeDocument(info, "Báo cáo", subject)
    document.paragraph(_opening(outline, totals, info))
    locale = translator.locale
    for part in outline.parts:
        document.heading(f"{part.number}. {part.title.get(locale)}")
        for section in outline.sections:
            if section.part != part.number:
                continue
            if section.number != part.number:
                document.heading(f"{section_number(section)}. {section.title.get(locale)}")
            for question in section.questions:
                label = " ".join(question.label.get(locale).split())
                separator = " " if label.endswith(("?", ":")) else ": "
                text = summary_text(question, totals, translator, previous)
                if separator == " ":  # after a question mark, a new sentence
                    text = text[:1].upper() + text[1:]
                document.paragraph([Span(f"{question.number}. {label}{separator}"), Span(text)])
    return document.closing()


def _opening(outline: Outline, totals: Totals, info: ReportDocumentInfo) -> str:
    implemented = basis(outline.meta.source) if info.basis is None else info.basis
    lead = f"Thực hiện {implemented}, trên" if implemented else "Trên"
    span = info.period.text() if info.period else f"năm {info.year}"
    due = f" (hạn nộp {info.due})" if info.due else ""
    return (f"{lead} cơ sở báo cáo của {totals.units}/{totals.all_units} cơ quan, đơn vị đã nộp{due}, "
            f"{info.unit_name} tổng hợp tình hình, kết quả thực hiện hoạt động kiểm soát thủ tục "
            f"hành chính {span} như sau:")


def summary_text(question: Question, totals: Totals, translator: Translator,
                 previous: Totals | None = None) -> str:
    """What the summary says of one item."""
    text = _summary_text(question, totals, translator)
    earlier = previous.get(question.name) if previous is not None else None
    if earlier is None or not (question.type == "calculate" or question.type in SUMMED_TYPES):
        return text
    shown = QUESTION_TYPES[question.type].show(earlier, question, translator)
    change = change_text(totals.get(question.name), earlier, rate=question.format == "percent",
                         locale=translator.locale)
    beside = f"{SAME_PERIOD_LAST_YEAR}: {shown}" + (f"; {change}" if change else "")
    return text[:-1] + f"; {beside})" if text.endswith(")") else f"{text} ({beside})"


def _summary_text(question: Question, totals: Totals, translator: Translator) -> str:
    name, units = question.name, totals.units
    locale = translator.locale
    answered = totals.answered(name)
    none_note = f"{format_number(totals.none[name], locale)} đơn vị báo cáo “Không có”"
    if question.type == "calculate":
        rate = totals.get(name)
        if rate is None:
            return "chưa đủ số liệu để tính"
        if rate is NOT_ARISING:
            return QUESTION_TYPES["calculate"].show(rate, question, translator)
        return QUESTION_TYPES["calculate"].show(rate, question, translator) + " (tính trên số liệu tổng hợp)"
    if not answered:
        return NO_REPORT
    reported = f"{format_number(answered, locale)}/{format_number(units, locale)} đơn vị đã báo cáo"
    if question.type in SUMMED_TYPES:
        total = QUESTION_TYPES[question.type].show(totals[name], question, translator)
        notes = [f"{format_number(totals.given[name], locale)}/{format_number(units, locale)} "
                 "đơn vị có số liệu"]
        if totals.none[name]:
            notes.append(none_note)
        return f"{total} ({'; '.join(notes)})"
    if question.type in COUNTED_CHOICE_TYPES:
        chosen = totals.choices.get(name, Counter[str]())
        names = ({c.value: c.label.get(locale) for c in question.choices} if question.choices
                 else YES_NO_TEXT)
        parts = [f"{shown}: {format_number(chosen[value], locale)} đơn vị"
                 for value, shown in names.items() if chosen.get(value)]
        if totals.none[name]:
            parts.append(f"Không có: {format_number(totals.none[name], locale)} đơn vị")
        return f"{'; '.join(parts)} ({reported})"
    if totals.none[name]:
        return f"{reported} (trong đó {none_note})"
    return reported
