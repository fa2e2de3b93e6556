"""The city-wide summary of the units' reports as a Word document, in the same layout.

It synthesizes rather than counts: who handed in, late or not at all, by name; per section of the
outline, the summed figures and the rates recomputed from them as a table (chỉ tiêu / kỳ này /
kỳ trước / tăng, giảm); the units whose shares stand far from the city's; the units behind a
rare answer; and the units' own words on difficulties and proposals, each with its unit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from documents.compare import change_text
from documents.docx_tables import ruled_table
from documents.layout import TEXT_WIDTH_MM, AdministrativeDocument, Span, basis
from documents.model import ReportDocumentInfo, UnitReport
from documents.report_docx import NEGATION, YES_NO_QUESTION, section_number
from documents.shares import count_text, share_text
from documents.subject import summary_phrase
from documents.synthesis import (
    FEW_UNITS,
    NORM_GAP_POINTS,
    NORMS,
    choosers,
    names,
    outliers,
    quoted,
    quotes,
    standing,
)
from documents.totals import COUNTED_CHOICE_TYPES, SUMMED_TYPES, Totals
from engine.i18n import Translator
from engine.number_format import format_number
from engine.outline import Outline, Section
from engine.question import Question

NO_REPORT = "chưa có đơn vị báo cáo"
YES_NO_TEXT = {"yes": "Có", "no": "Không"}
FIGURE_HEADERS = ("Chỉ tiêu", "Kỳ này", "Số đơn vị báo cáo")
WORDED_HEADERS = ("Nội dung", "Số đơn vị có báo cáo", "Số đơn vị báo cáo “Không có”")
WORDED_LEAD = "Các nội dung báo cáo bằng văn bản (chi tiết tại báo cáo của từng cơ quan, đơn vị):"
COMPARED_HEADERS = ("Chỉ tiêu", "Kỳ này", "Kỳ trước", "Tăng, giảm", "Số đơn vị báo cáo")
# Millimetres of the text width (165) per column, with and without last period's figures.
FIGURE_WIDTHS = (101.0, 32.0, 32.0)
WORDED_WIDTHS = (95.0, 35.0, 35.0)
COMPARED_WIDTHS = (67.0, 24.0, 24.0, 28.0, 22.0)


def build_city_summary_docx(
    outline: Outline, totals: Totals, info: ReportDocumentInfo, translator: Translator,
    previous: Totals | None = None, *, reports: Sequence[UnitReport] | None = None,
    today: date | None = None,
) -> bytes:
    """The summary (.docx). `totals` are the city's (documents.totals.totals over the handed-in
    reports); `previous` last period's, for the kỳ trước columns. With `reports` (every unit of
    the campaign) the summary also names who is behind (as of `today`, by default the document's
    date), the units outside the norm, and quotes the units' difficulties and proposals; without
    them it gives the totals and counts only."""
    subject = info.subject or f"Tổng hợp {summary_phrase(outline)} năm {info.year}"
    document = AdministrativeDocument(info, "Báo cáo", subject)
    document.paragraph(_opening(outline, totals, info))
    if reports is not None:
        for text in standing_texts(reports, today or info.date):
            document.paragraph(text)
    locale = translator.locale
    for part in outline.parts:
        document.heading(f"{part.number}. {part.title.get(locale)}")
        for section in outline.sections:
            if section.part != part.number:
                continue
            if section.number != part.number:
                document.heading(f"{section_number(section)}. {section.title.get(locale)}")
            _section(document, section, totals, translator, previous, reports)
    return document.closing()


def _opening(outline: Outline, totals: Totals, info: ReportDocumentInfo) -> str:
    implemented = basis(outline.meta.source) if info.basis is None else info.basis
    lead = f"Thực hiện {implemented}, trên" if implemented else "Trên"
    due = f" (hạn nộp {info.due})" if info.due else ""
    return (f"{lead} cơ sở báo cáo của {totals.units} trong tổng số {totals.all_units} cơ quan, đơn vị "
            f"đã nộp{due}, "
            f"{info.unit_name} tổng hợp {summary_phrase(outline)} {info.span()} như sau:")


def standing_texts(reports: Sequence[UnitReport], today: date) -> list[str]:
    """Who handed in, on time or late, and who has not, by name."""
    where = standing(reports, today)
    handed, total = len(where.handed_in), len(reports)
    texts = [f"Đến ngày {today:%d/%m/%Y}, {handed} trong tổng số {total} cơ quan, đơn vị đã nộp báo cáo "
             f"({len(where.on_time)} đúng hạn, {len(where.late)} sau hạn); "
             f"{len(where.missing)} cơ quan, đơn vị chưa nộp."]
    if where.late:
        texts.append(f"Các cơ quan, đơn vị nộp báo cáo sau hạn ({len(where.late)}): {names(where.late)}.")
    if where.overdue:
        texts.append(f"Các cơ quan, đơn vị chưa nộp báo cáo, đã quá hạn ({len(where.overdue)}): "
                     f"{names(where.overdue)}.")
    waiting = [r for r in where.missing if r not in where.overdue]
    if waiting:
        texts.append(f"Các cơ quan, đơn vị chưa nộp báo cáo, chưa đến hạn ({len(waiting)}): "
                     f"{names(waiting)}.")
    return texts


def _section(document: AdministrativeDocument, section: Section, totals: Totals, translator: Translator,
             previous: Totals | None, reports: Sequence[UnitReport] | None) -> None:
    figures = [q for q in section.questions if _is_figure(q)]
    worded: list[Question] = []  # reported in the units' words, not quoted: counted in one table
    for question in section.questions:
        if _is_figure(question):
            if question is figures[0]:  # the section's figures as one table, where they begin
                figures_table(document, figures, totals, translator, previous)
                for figure in figures:
                    text = _outlier_text(figure, totals, reports) if reports is not None else None
                    if text:
                        document.paragraph(text)
            continue
        if reports is not None and quoted(question):
            _quotes(document, _lead(question, translator), question, totals, reports)
        elif question.type in COUNTED_CHOICE_TYPES:
            document.paragraph(choice_text(question, totals, translator, reports))
        else:
            worded.append(question)
    if worded:
        worded_table(document, worded, totals, translator)


def _is_figure(question: Question) -> bool:
    return question.type == "calculate" or question.type in SUMMED_TYPES


def _label(question: Question, locale: str) -> str:
    return " ".join(question.label.get(locale).split())


def _lead(question: Question, translator: Translator) -> str:
    label = _label(question, translator.locale)
    return label + (" " if label.endswith(("?", ":")) else ": ")


def figures_table(document: AdministrativeDocument, figures: Sequence[Question], totals: Totals,
                  translator: Translator, previous: Totals | None) -> None:
    """The section's figures: this period's city total (rates recomputed from the totals, "—"
    where the denominator is 0), last period's and the change where known, the units reporting."""
    locale = translator.locale
    rows: list[tuple[str, ...]] = []
    for question in figures:
        label = _label(question, locale)
        now = totals.get(question.name)
        answered = totals.answered(question.name)
        reporting = "" if question.type == "calculate" else format_number(answered, locale)
        if previous is None:
            rows.append((label, figure_text(question, now, locale), reporting))
            continue
        before = previous.get(question.name)
        change = change_text(now, before, rate=question.format == "percent", locale=locale)
        rows.append((label, figure_text(question, now, locale), figure_text(question, before, locale),
                     change or "", reporting))
    headers, widths = (FIGURE_HEADERS, FIGURE_WIDTHS) if previous is None else (COMPARED_HEADERS,
                                                                                 COMPARED_WIDTHS)
    assert abs(sum(widths) - TEXT_WIDTH_MM) < 1, "the table spans the text width"
    document.document.add_paragraph()
    ruled_table(document.document, headers, rows, widths)
    document.document.add_paragraph()


def figure_text(question: Question, value: object, locale: str) -> str:
    """A total or rate as the table prints it: "12.500", "96,2%", "—" (did not arise); nothing
    where no unit gave the figure."""
    if value is None:
        return ""
    if question.format == "percent" or question.type == "percent":
        return share_text(value, locale)
    return count_text(value, locale)


def _outlier_text(question: Question, totals: Totals, reports: Sequence[UnitReport]) -> str | None:
    city = totals.get(question.name)
    found = outliers(question, reports, city)
    if not found:
        return None
    norm = NORMS[question.name]
    worse = "thấp hơn" if norm.higher_is_better else "cao hơn"
    gap = format_number(NORM_GAP_POINTS, "vi")
    rule = f"{worse} tỷ lệ chung từ {gap} điểm phần trăm trở lên"
    if norm.floor is not None:
        floor = format_number(norm.floor, "vi")
        rule += f" hoặc chưa vượt mức {floor}% theo yêu cầu của Kế hoạch"
    city_text = share_text(city) if city is not None else "chưa tính được"
    listed = ", ".join(f"{o.unit.unit_name} ({share_text(o.share)})" for o in found)
    label = " ".join(question.label.vi.split())
    return (f"{label}: tỷ lệ chung của các cơ quan, đơn vị là {city_text}; "
            f"{len(found)} đơn vị có tỷ lệ {rule}: {listed}.")


def _quotes(document: AdministrativeDocument, lead: str, question: Question, totals: Totals,
            reports: Sequence[UnitReport]) -> None:
    """The item's lead, then each text with the units that wrote it, then who had nothing."""
    said = quotes(question, reports)
    nothing = totals.none[question.name]
    if not said:
        document.paragraph([Span(lead), Span(f"{NO_REPORT}." if not nothing else
                                             f"{nothing} đơn vị báo cáo “Không có”.")])
        return
    document.paragraph([Span(lead.rstrip())])
    for quote in said:
        document.paragraph([Span(f"- {names(quote.units)}: ", italic=True), Span(f"“{quote.text}”.")])
    if nothing:
        document.paragraph(f"Các đơn vị còn lại đã báo cáo ({format_number(nothing, 'vi')} đơn vị) "
                           "không có nội dung này (“Không có”).")


def choice_text(question: Question, totals: Totals, translator: Translator,
                reports: Sequence[UnitReport] | None) -> list[Span]:
    """A yes/no or single-choice item as sentences: the statement each answer makes and the
    units that made it ("118 cơ quan, đơn vị đã đăng ký …; 2 cơ quan, đơn vị chưa đăng ký …
    (Xã Số 4, Phường Số 8)."), the few named; an item put otherwise keeps its label as a lead."""
    name, locale = question.name, translator.locale
    label = _label(question, locale)
    if not totals.answered(name):
        return [Span(_lead(question, translator)), Span(f"{NO_REPORT[:1].upper()}{NO_REPORT[1:]}.")]
    chosen = totals.choices.get(name, Counter[str]())
    by_value = choosers(question, reports) if reports is not None else {}
    labels = ({c.value: c.label.get(locale) for c in question.choices} if question.choices
              else YES_NO_TEXT)
    statement = YES_NO_QUESTION.fullmatch(label) if question.type == "yes_no" else None
    parts = []
    for value, shown in labels.items():
        count = chosen.get(value, 0)
        if not count:
            continue
        if statement is not None:
            verb = statement["verb"] if value == "yes" else NEGATION[statement["verb"]]
            part = f"{format_number(count, locale)} cơ quan, đơn vị {verb} {statement['rest']}"
        else:
            part = f"“{shown}”: {format_number(count, locale)} cơ quan, đơn vị"
        few = by_value.get(value, ())
        if few and len(few) <= FEW_UNITS and 2 * len(few) < totals.answered(name):
            part += f" ({names(few)})"
        parts.append(part)
    if totals.none[name]:
        parts.append(f"{format_number(totals.none[name], locale)} cơ quan, đơn vị báo cáo “Không có”")
    said = "; ".join(parts) + "."
    if statement is not None:
        return [Span(said[:1].upper() + said[1:])]
    return [Span(_lead(question, translator)), Span(said)]


def worded_table(document: AdministrativeDocument, questions: Sequence[Question], totals: Totals,
                 translator: Translator) -> None:
    """The items the units report in their own words and the summary does not quote: how many
    units wrote on each, and how many had nothing ("Không có"); their texts are in the units'
    reports and the workbook."""
    locale = translator.locale
    rows = [(_label(q, locale), format_number(totals.answered(q.name) - totals.none[q.name], locale),
             format_number(totals.none[q.name], locale)) for q in questions]
    document.paragraph(WORDED_LEAD)
    ruled_table(document.document, WORDED_HEADERS, rows, WORDED_WIDTHS)
    document.document.add_paragraph()
