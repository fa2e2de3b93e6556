"""Documents built from reports: the unit's report and the city summary (.docx, also through
LibreOffice to PDF), the VP office's workbook and CSV, and the charts."""

from __future__ import annotations

import csv
import io
import re
import shutil
import struct
import subprocess
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from statistics import mean
from typing import Any, cast

import docx
import pytest
from docx.document import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Length
from docx.table import Table
from docx.text.paragraph import Paragraph
from openpyxl import load_workbook

from documents import (
    STATUS_LABELS,
    ReportDocumentInfo,
    UnitReport,
    build_city_summary_docx,
    build_csv,
    build_report_docx,
    build_workbook,
    render_progress_chart,
    render_status_chart,
    status_chart_data,
    submissions_over_time_data,
    totals,
    vietnamese_date,
)
from documents.report_docx import YES_NO_QUESTION, yes_no_sentence
from documents.shares import share_text
from documents.subject import report_subject
from engine.answers import NONE_ANSWER, SKIPPED_ANSWER, Answer, AnswerKind
from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.figures import NOT_ARISING
from engine.outline import Outline
from engine.qtypes import QUESTION_TYPES
from engine.views import State
from locales.translation import translator
from tests.conftest import REPO
from tests.scripted_officer import BY_TYPE, script_for

ARTIFACTS = REPO / "test-artifacts"
VI = translator("vi")
DEADLINE = date(2021, 10, 29)
CAMPAIGN = "Kiểm soát thủ tục hành chính năm 2021"
SUBJECT = "Tình hình, kết quả thực hiện hoạt động kiểm soát thủ tục hành chính năm 2021"
SUBMITTED_LIKE = ("submitted", "resubmitted", "accepted")


# ----- building reports ------------------------------------------------------------------------


def answers_of_script(engine: ReportEngine, unit_level: str) -> dict[str, Answer]:
    """The answers of the scripted officer, walked through the real engine turn by turn."""
    state = engine.resume(State(answers={}, unit_level=unit_level)).state
    for line in script_for(engine, unit_level):
        state = engine.step(state, parse_text(line)).state
    assert state.cursor is None, "the script left questions open"
    return dict(state.answers)


@pytest.fixture(scope="session")
def commune_answers(engine: ReportEngine) -> dict[str, Answer]:
    return answers_of_script(engine, "commune")


@pytest.fixture(scope="session")
def department_answers(engine: ReportEngine) -> dict[str, Answer]:
    return answers_of_script(engine, "department")


def unit_report(
    engine: ReportEngine, answers: dict[str, Answer], *, level: str = "commune", code: str = "31135",
    name: str = "Phường Ninh Kiều", parent: str | None = None, status: str = "submitted",
    submitted_at: datetime | None = datetime(2021, 10, 28, 2, 30, tzinfo=UTC),
) -> UnitReport:
    state = State(answers=answers, unit_level=level)
    return UnitReport(code, name, level, parent, status, submitted_at, DEADLINE, answers,
                      engine.calculated(state))


def read_docx(data: bytes) -> Document:
    return docx.Document(io.BytesIO(data))


def body_texts(document: Document) -> list[str]:
    return [p.text for p in document.paragraphs]


def shown(outline: Outline, name: str, value: Any) -> str:
    question = outline.question(name)
    return QUESTION_TYPES[question.type].show(value, question, VI)


def line_of(document: Document, number: str) -> str:
    """The paragraph printed for the question numbered `number`."""
    found = [text for text in body_texts(document) if text.startswith(number + ". ")]
    assert len(found) == 1, f"{number}: {found}"
    return found[0]


@pytest.fixture(scope="session")
def commune_docx(engine: ReportEngine, commune_answers: dict[str, Answer]) -> bytes:
    report = unit_report(engine, commune_answers)
    info = ReportDocumentInfo.for_unit(report, on=date(2021, 10, 29), campaign_title=CAMPAIGN,
                                       signer_name="Nguyễn Văn An")
    return build_report_docx(engine.outline, report, info, VI)


# ----- the unit's report (.docx) -----------------------------------------------------------------


def label_of(outline: Outline, name: str) -> str:
    return " ".join(outline.question(name).label.vi.split())


def paragraph_of(document: Document, start: str) -> str:
    """The one body paragraph that starts with `start` (an item's label, a statement)."""
    found = [text for text in body_texts(document) if text.startswith(start)]
    assert len(found) == 1, f"{start}: {found}"
    return found[0]


def figure_rows(document: Document) -> dict[str, list[str]]:
    """The figures tables (between the header and the closing): chỉ tiêu → the other cells."""
    return {cells[0]: cells[1:] for table in document.tables[1:-1]
            for cells in ([cell.text for cell in row.cells] for row in table.rows)}


def test_the_report_writes_every_relevant_answer_under_its_section(
    engine: ReportEngine, outline: Outline, commune_answers: dict[str, Answer], commune_docx: bytes
) -> None:
    """Each answer under its section's heading, without its outline code: figures in the tables,
    yes/no as a statement, text after its label, "không có" as nothing to report."""
    document = read_docx(commune_docx)
    texts = body_texts(document)
    rows = figure_rows(document)
    review = engine.review(State(answers=commune_answers, unit_level="commune"))
    printed = 0
    positions = []
    for section, items in review.sections:
        if section.number != section.part:
            heading = f"{section.number.removeprefix(section.part + '.')}. {section.title.vi}"
            assert heading in texts, heading
        for item in items:
            question, answer = item.question, item.answer
            label = label_of(outline, question.name)
            printed += 1
            if question.numeric:
                value = item.calculated if not question.asked else (
                    answer.value if answer is not None and answer.kind is AnswerKind.VALUE else 0)
                rate = question.type == "percent" or question.format == "percent"
                expected = share_text(value) if rate else shown(outline, question.name, value).strip()
                assert rows[label][0] == expected, label  # shares at the documents' one precision
                continue
            assert answer is not None
            if question.type == "yes_no":
                text = yes_no_sentence(label, answer.value == "yes") or ""
                assert texts.count(text) == 1, (label, text)
            elif answer.kind is AnswerKind.NONE:
                text = paragraph_of(document, label)
                assert text == f"{label}: không có nội dung phát sinh trong kỳ báo cáo."
            else:
                text = paragraph_of(document, label)
                expected = shown(outline, question.name, answer.value).strip()
                assert text == f"{label}: {expected}" + ("" if question.type == "text" else "."), text
            positions.append(texts.index(text))
            if section.number != section.part:
                assert positions[-1] > texts.index(heading)
    assert positions == sorted(positions), "items are printed in the outline's order"
    assert printed == len(engine.relevant_questions(State(commune_answers, unit_level="commune"))) + sum(
        1 for q in outline.questions if not q.asked)
    # No outline codes, nothing unanswered.
    assert not [t for t in texts if re.match(r"\d+\.\d+(\.[a-zđ])?\. ", t)]
    assert not [t for t in texts if "(chưa trả lời)" in t or t == "Nội dung chưa báo cáo"]
    # Figures the Vietnamese way, rates recomputed, in the tables' "kỳ này" column.
    assert rows["Chỉ tiêu"] == ["Kỳ này", "Kỳ trước", "Tăng, giảm"]
    assert rows[label_of(outline, "procedures_total")][0] == "1.234"
    assert rows[label_of(outline, "dossiers_total")] == ["2.500", "—", "—"]  # no last period here
    # Rates on the plan's own bases: received by post of the 2.300 NEW dossiers (not of the 2.500
    # with the carried-over ones), results by post of the 2.500 RESOLVED (2.450 on time + 50 late).
    assert rows[label_of(outline, "dossiers_postal_rate")][0] == "4,3%"  # 100 / 2.300
    assert rows[label_of(outline, "results_postal_rate")][0] == "3,6%"  # 90 / 2.500
    assert rows[label_of(outline, "dossiers_resolved")][0] == "2.500"  # 2.450 + 50, computed
    assert rows[label_of(outline, "dossiers_pending")][0] == "0"  # 2.500 − 2.500: nothing pending
    assert rows[label_of(outline, "dossiers_on_time_rate")][0] == "98,0%"  # 2.450 / 2.500
    assert rows[label_of(outline, "dossiers_late_rate")][0] == "2,0%"  # 50 / 2.500
    assert rows[label_of(outline, "self_inspection_coverage")][0] == "62,5%"  # 5 / 8
    assert rows[label_of(outline, "late_dossiers_apologised")][0] == "40"
    assert rows[label_of(outline, "late_dossiers_apology_rate")][0] == "80,0%"  # 40 of the 50 late
    assert BY_TYPE["text"] in paragraph_of(document, label_of(outline, "self_assessment"))  # II.2 in words
    assert paragraph_of(document, label_of(outline, "review_plan_date")).endswith(": 15/03/2026.")
    # The plan asks every unit every item: a commune's report has I.2 and 10.5 too.
    assert "Nội dung này không áp dụng đối với đơn vị." not in texts
    # Parts as headings, the opening sentence.
    for part in outline.parts:
        assert f"{part.number}. {part.title.vi}" in texts
    assert any(t.startswith("Thực hiện Kế hoạch số 20/KH-UBND ngày 21 tháng 01 năm 2021 của Ủy ban nhân dân "
                            "thành phố Cần Thơ, Ủy ban nhân dân phường Ninh Kiều báo cáo") for t in texts)


def test_the_report_has_the_header_title_and_closing_of_an_administrative_document(
    commune_docx: bytes,
) -> None:
    document = read_docx(commune_docx)
    header, closing = document.tables[0], document.tables[-1]
    cells = [[cell.text for cell in row.cells] for row in header.rows]
    assert cells[0][0] == "UBND THÀNH PHỐ CẦN THƠ\nỦY BAN NHÂN DÂN\nPHƯỜNG NINH KIỀU\n"
    assert cells[0][1] == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
    assert re.fullmatch(r"Số: +/BC-UBND", cells[1][0])
    assert cells[1][1] == "Ninh Kiều, ngày 29 tháng 10 năm 2021"
    left, right = header.cell(0, 0).paragraphs, header.cell(0, 1).paragraphs
    assert not left[0].runs[0].bold and left[1].runs[0].bold and left[2].runs[0].bold
    assert right[0].runs[0].bold and right[1].runs[0].bold
    assert header.cell(1, 1).paragraphs[0].runs[0].italic
    assert _has_bottom_rule(left[3]) and _has_bottom_rule(right[2])
    assert _borderless(header) and _borderless(closing)

    texts = body_texts(document)
    title = texts.index("BÁO CÁO")
    assert texts[title + 1].replace("\u00a0", " ") == SUBJECT
    for paragraph in document.paragraphs[title:title + 2]:
        assert paragraph.alignment == WD_ALIGN_PARAGRAPH.CENTER
        assert all(run.bold for run in paragraph.runs)

    recipients = closing.cell(0, 0).paragraphs
    assert [p.text for p in recipients] == ["Nơi nhận:", "- Văn phòng UBND thành phố;", "- Lưu: VT."]
    heading = recipients[0].runs[0]
    assert heading.bold and heading.italic and heading.font.size.pt == 12
    assert all(p.runs[0].font.size.pt == 11 for p in recipients[1:])
    signature = [p.text for p in closing.cell(0, 1).paragraphs if p.text]
    assert signature == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Nguyễn Văn An"]
    assert len(closing.cell(0, 1).paragraphs) >= 6, "room to sign between the title and the name"


def _has_bottom_rule(paragraph: Paragraph) -> bool:
    return bool(paragraph._p.xpath("./w:pPr/w:pBdr/w:bottom[@w:val='single']"))


def _borderless(table: Table) -> bool:
    edges = table._tbl.xpath("./w:tblPr/w:tblBorders/*")
    return len(edges) == 6 and all(edge.get(qn("w:val")) == "nil" for edge in edges)


def test_the_report_is_on_a4_with_the_decree_margins_and_times_new_roman(commune_docx: bytes) -> None:
    document = read_docx(commune_docx)
    section = document.sections[0]

    def mm(length: Length | None) -> float:
        assert length is not None
        return float(length.mm)

    assert mm(section.page_width) == pytest.approx(210, abs=0.5)
    assert mm(section.page_height) == pytest.approx(297, abs=0.5)
    def within(length: Length | None, low: float, high: float) -> bool:
        return low - 0.05 <= mm(length) <= high + 0.05  # Word stores twentieths of a point

    assert within(section.top_margin, 20, 25) and within(section.bottom_margin, 20, 25)
    assert within(section.left_margin, 30, 35) and within(section.right_margin, 15, 20)
    normal = document.styles["Normal"].font
    assert normal.name == "Times New Roman" and normal.size is not None and normal.size.pt == 14

    header, closing = document.tables[0], document.tables[-1]
    runs: list[tuple[str, Any]] = [("body", run) for p in document.paragraphs for run in p.runs]
    runs += [("header", run) for cell in header._cells for p in cell.paragraphs for run in p.runs]
    runs += [("recipients", run) for p in closing.cell(0, 0).paragraphs for run in p.runs]
    runs += [("body", run) for p in closing.cell(0, 1).paragraphs for run in p.runs]
    runs += [("body", run) for table in document.tables[1:-1] for cell in table._cells
             for p in cell.paragraphs for run in p.runs]
    sizes = {"body": (13, 14), "header": (12, 14), "recipients": (11, 12)}
    assert len(runs) > 100
    for place, run in runs:
        if not run.text.strip():
            continue
        assert run.font.name == "Times New Roman", run.text
        low, high = sizes[place]
        assert low <= run.font.size.pt <= high, (place, run.text, run.font.size.pt)
    # Page numbers in the header from the second page on.
    assert section.different_first_page_header_footer
    assert section.header._element.xpath(".//w:fldSimple[@w:instr='PAGE']")


def test_answers_hidden_by_a_no_are_left_out_and_open_items_say_so(
    engine: ReportEngine, outline: Outline, department_answers: dict[str, Answer]
) -> None:
    answers = dict(department_answers)
    answers["ria_assigned"] = Answer.of("no")
    answers["implementation_difficulties_any"] = Answer.of("no")
    documents = "Quyết định số 12/QĐ-STP ngày 05/02/2021;\nCông văn số 30/STP-VP."
    answers["guidance_documents"] = Answer.of(documents)
    answers["publicity"] = SKIPPED_ANSWER
    del answers["procedures_total"], answers["procedures_online"], answers["control_urging"]
    report = unit_report(engine, answers, level="department", code="000.00.10.H13", name="Sở Tư pháp")
    info = ReportDocumentInfo.for_unit(report, on=date(2021, 10, 27), campaign_title=CAMPAIGN,
                                       number="215", number_suffix="BC-STP")
    document = read_docx(build_report_docx(outline, report, info, VI))
    texts = body_texts(document)

    assert "Trong kỳ báo cáo, cơ quan, đơn vị không chủ trì lập đề nghị xây dựng" in texts[
        texts.index(paragraph_of(document, "Trong kỳ báo cáo, cơ quan"))]
    assert paragraph_of(document, "Trong quá trình triển khai thực hiện") == (
        "Trong quá trình triển khai thực hiện công tác chỉ đạo, điều hành, tổ chức thực hiện và bố trí, "
        "sử dụng kinh phí kiểm soát thủ tục hành chính, cơ quan, đơn vị không gặp vướng mắc, khó khăn.")
    for hidden in ("ria_assessment", "ria_comments_response", "implementation_difficulties"):
        assert not [t for t in texts if label_of(outline, hidden) in t], hidden
    guidance = paragraph_of(document, label_of(outline, "guidance_documents"))
    assert guidance.endswith(": " + documents), "line breaks are kept"
    # Open items: out of the body, listed once at the end under their section.
    assert "(chưa trả lời)" not in "\n".join(texts)
    missing = texts[texts.index("Nội dung chưa báo cáo"):]
    assert texts.count("Nội dung chưa báo cáo") == 1
    # Compact: the section's heading and how many items it lacks, not each label.
    listed = [t for t in missing if t.startswith("3. Về công bố, công khai thủ tục hành chính: ")]
    assert len(listed) == 1 and re.fullmatch(r".*: 3 trong số \d+ nội dung\.", listed[0]), listed
    for name in ("publicity", "procedures_total", "procedures_online"):
        assert not [t for t in texts if label_of(outline, name)[1:] in t], name
    # One item left in a section: named, once.
    urging = label_of(outline, "control_urging")
    assert [t for t in texts if urging[1:] in t] == [
        f"1. {outline.section('I.1').title.vi}: {urging[:1].lower()}{urging[1:]}."]
    assert label_of(outline, "procedures_total") not in figure_rows(document)
    # A department is asked 10.5 too (the plan's one Đề cương; "không có" if it certifies none).
    assert paragraph_of(document, label_of(outline, "electronic_certified_copies"))

    header, closing = document.tables[0], document.tables[-1]
    assert header.cell(0, 0).text == "UBND THÀNH PHỐ CẦN THƠ\nSỞ TƯ PHÁP\n"
    assert header.cell(1, 0).text == "Số: 215/BC-STP"
    assert header.cell(1, 1).text == "Cần Thơ, ngày 27 tháng 10 năm 2021"
    # The head of a Sở, never a placeholder; a line left for the name.
    assert [p.text for p in closing.cell(0, 1).paragraphs if p.text] == ["GIÁM ĐỐC", "." * 40]
    opening = [t for t in texts if t.startswith("Thực hiện Kế hoạch số 20/KH-UBND")]
    assert len(opening) == 1 and ", Sở Tư pháp báo cáo" in opening[0]


def test_document_particulars(outline: Outline) -> None:
    assert vietnamese_date(date(2021, 1, 5)) == "ngày 05 tháng 01 năm 2021"
    assert vietnamese_date(date(2021, 2, 28)) == "ngày 28 tháng 02 năm 2021"
    assert vietnamese_date(date(2021, 10, 29)) == "ngày 29 tháng 10 năm 2021"
    assert vietnamese_date(date(2021, 3, 9)) == "ngày 09 tháng 3 năm 2021"
    ward = UnitReport("31144", "Phường 1", "commune", "Quận Ninh Kiều", "in_progress", None, DEADLINE)
    info = ReportDocumentInfo.for_unit(ward, on=date(2021, 10, 1), campaign_title=CAMPAIGN)
    assert (info.unit_name, info.superior, info.place) == (
        "Ủy ban nhân dân phường 1", "UBND QUẬN NINH KIỀU", "Phường 1")
    assert info.report_subject(report_subject(outline)) == SUBJECT
    assert info.signature_lines() == ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH")
    # Late: submitted after the deadline (Việt Nam date), or not submitted once it has passed.
    on_time = UnitReport("1", "Xã A", "commune", None, "submitted",
                         datetime(2021, 10, 29, 16, 59, tzinfo=UTC), DEADLINE)  # 23:59 in Cần Thơ
    late = UnitReport("2", "Xã B", "commune", None, "submitted",
                      datetime(2021, 10, 29, 17, 0, tzinfo=UTC), DEADLINE)  # 00:00 on the 30th
    assert not on_time.late_as_of(date(2022, 1, 1)) and not on_time.late
    assert late.late_as_of(date(2021, 10, 29)) and late.late
    assert not ward.late_as_of(DEADLINE) and ward.late_as_of(DEADLINE + timedelta(days=1))


# ----- through LibreOffice -----------------------------------------------------------------------


def _office() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _page_count(pdf: Path) -> int:
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, timeout=60, check=True)
        match = re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE)
        assert match, info.stdout
        return int(match.group(1))
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))


@pytest.mark.skipif(_office() is None, reason="LibreOffice (soffice) is not installed; .ci/run installs it")
def test_the_report_converts_to_pdf_with_libreoffice(commune_docx: bytes, tmp_path: Path) -> None:
    office = _office()
    assert office is not None
    source = tmp_path / "bao-cao-phuong-ninh-kieu.docx"
    source.write_bytes(commune_docx)
    result = subprocess.run(
        [office, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=120,
    )
    pdf = source.with_suffix(".pdf")
    assert result.returncode == 0 and pdf.exists(), result.stdout + result.stderr
    assert pdf.read_bytes().startswith(b"%PDF-")
    pages = _page_count(pdf)
    assert 3 <= pages <= 15, pages
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(source, ARTIFACTS / source.name)
    shutil.copy(pdf, ARTIFACTS / pdf.name)
    if shutil.which("pdftoppm"):  # the first page as a picture, to look at
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                        str(ARTIFACTS / "bao-cao-phuong-ninh-kieu-trang")], check=True, timeout=60)


# ----- the workbook of many units ----------------------------------------------------------------

STATUS_CYCLE = ("submitted", "accepted", "in_progress", "resubmitted", "not_started", "returned",
                "submitted", "accepted", "submitted", "in_progress")


def scaled(answers: dict[str, Answer], factor: int, outline: Outline) -> dict[str, Answer]:
    """The answers with every whole-number figure multiplied: every cross-field rule of the
    outline is linear, so they all still hold."""
    return {
        name: Answer.of(answer.value * factor)
        if answer.kind is AnswerKind.VALUE and outline.question(name).type == "integer" else answer
        for name, answer in answers.items()
    }


@pytest.fixture(scope="session")
def hundred_units(engine: ReportEngine, commune_answers: dict[str, Answer]) -> list[UnitReport]:
    outline = engine.outline
    order = [q.name for q in outline.asked_questions if q.name in commune_answers]
    reports = []
    for index in range(100):
        status = STATUS_CYCLE[index % len(STATUS_CYCLE)]
        answers = scaled(commune_answers, 1 + index % 7, outline)
        if status in SUBMITTED_LIKE and index % 4 == 0:  # nothing received by post this year
            answers["dossiers_postal"] = answers["results_postal"] = NONE_ANSWER
        if status in SUBMITTED_LIKE and index % 3 == 0:  # no inspection at all: a real 0
            answers["inspections_count"] = Answer.of(0)
        if status in ("in_progress", "returned"):
            answers = {name: answers[name] for name in order[: 10 + index % 40]}
        elif status == "not_started":
            answers = {}
        submitted_at = None
        if status in SUBMITTED_LIKE or status == "returned":
            # Early evening in UTC is the next morning in Cần Thơ; a few come in after the deadline.
            submitted_at = datetime(2021, 10, 20, 18, 15, tzinfo=UTC) + timedelta(days=index % 11)
        reports.append(unit_report(engine, answers, code=f"{31000 + index}", name=f"Xã Số {index}",
                                   parent="Huyện Phong Điền", status=status, submitted_at=submitted_at))
    reports[0] = unit_report(
        engine, {**reports[0].answers, "other_matters": Answer.of("=HYPERLINK(\"x\")"),
                 "publicity": SKIPPED_ANSWER}, code="31000", name="Xã Số 0", parent="Huyện Phong Điền",
        status="submitted", submitted_at=reports[0].submitted_at)
    return reports


@pytest.fixture(scope="session")
def workbook_bytes(outline: Outline, hundred_units: list[UnitReport]) -> bytes:
    return build_workbook(outline, hundred_units, today=date(2021, 11, 2))


def column_of(sheet: Any, number: str) -> int:
    for cell in sheet[1]:
        if cell.value == number:
            return int(cell.column)
    raise AssertionError(f"no column {number}")


def test_the_workbook_lists_every_unit_with_its_status_and_lateness(
    workbook_bytes: bytes, hundred_units: list[UnitReport]
) -> None:
    book = load_workbook(io.BytesIO(workbook_bytes))
    assert book.sheetnames == ["Đơn vị", "Trả lời", "Tổng hợp"]
    units = book["Đơn vị"]
    assert [c.value for c in units[1]] == ["Mã đơn vị", "Tên đơn vị", "Cấp", "Đơn vị cấp trên", "Trạng thái",
                                           "Thời điểm nộp", "Hạn nộp", "Trễ hạn"]
    assert units.max_row == 102
    late_units = sum(1 for r in hundred_units if r.late_as_of(date(2021, 11, 2)))
    assert [c.value for c in units[102]] == ["Tổng cộng", "100 đơn vị", None, None,
                                             f"Đã nộp: {sum(r.submitted for r in hundred_units)}", None, None,
                                             f"Có: {late_units}"]
    rows = {row[0].value: row for row in units.iter_rows(min_row=2)}
    first = rows["31000"]
    assert [c.value for c in first[:5]] == ["31000", "Xã Số 0", "Cấp xã", "Huyện Phong Điền", "Đã nộp"]
    assert first[5].value == datetime(2021, 10, 21, 1, 15)  # 18:15 UTC → 01:15 the next day in Cần Thơ
    assert first[5].number_format == "DD/MM/YYYY HH:MM"
    assert first[6].value == datetime(2021, 10, 29) and first[6].number_format == "DD/MM/YYYY"
    assert first[7].value == "Không"
    for report in hundred_units:
        row = rows[report.unit_code]
        assert row[4].value == STATUS_LABELS[report.status]
        assert row[7].value == ("Có" if report.late_as_of(date(2021, 11, 2)) else "Không")
    late_submitted = rows["31020"]  # submitted on 30/10 local time
    assert late_submitted[5].value == datetime(2021, 10, 30, 1, 15) and late_submitted[7].value == "Có"
    never = rows["31004"]  # not started, deadline passed
    assert never[5].value is None and never[7].value == "Có"


def test_the_answers_sheet_keeps_numbers_none_and_empty_apart(
    outline: Outline, workbook_bytes: bytes, hundred_units: list[UnitReport]
) -> None:
    sheet = load_workbook(io.BytesIO(workbook_bytes))["Trả lời"]
    numbers = [c.value for c in sheet[1]]
    labels = [c.value for c in sheet[2]]
    assert numbers[:3] == ["Mã đơn vị", "Tên đơn vị", "Trạng thái"]
    assert numbers[3:] == [q.number for q in outline.questions]
    assert labels[3 + [q.name for q in outline.questions].index("dossiers_postal_rate")].endswith("(%)")
    assert sheet.max_row == 3 + len(hundred_units)  # and the totals row
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=3)}

    def cell(code: str, number: str) -> Any:
        return rows[code][column_of(sheet, number) - 1]

    # Unit 0: submitted in full, figures × 1, nothing by post, no inspection (0), a formula-like text.
    assert cell("31000", "3.1.c").value == 1234 and type(cell("31000", "3.1.c").value) is int
    assert cell("31000", "4.3.e").value == "Không có" and cell("31000", "4.3.k").value == "Không có"
    assert cell("31000", "11.2.a").value == 0 and type(cell("31000", "11.2.a").value) is int
    assert cell("31000", "4.3.g").value == 0 and cell("31000", "11.2.e").value == pytest.approx(0.625)
    assert cell("31000", "11.2.e").number_format == "0.0%" and cell("31000", "3.1.c").number_format == "#,##0"
    assert cell("31000", "11.6").value == "=HYPERLINK(\"x\")" and cell("31000", "11.6").data_type == "s"
    assert cell("31000", "3.2").value is None  # left for later
    review_date = cell("31000", "5.1.b")
    assert review_date.value == datetime(2026, 3, 15) and review_date.number_format == "DD/MM/YYYY"
    assert cell("31000", "1.4.b").value == "Có" and cell("31000", "II.2").value == BY_TYPE["text"]
    # Unit 1 (figures × 2): real numbers, a computed rate, "Không có" for a text item.
    assert cell("31001", "4.3.a").value == 5000 and cell("31001", "4.3.e").value == 200
    rate = cell("31001", "4.3.l").value
    assert isinstance(rate, float) and rate == pytest.approx(0.036)  # a real percentage: 3,6%
    assert cell("31001", "1.1").value == "Không có"
    # Unit 2 is in progress: its first answers, then empty cells; unit 4 has not started.
    partial = hundred_units[2]
    for question in outline.asked_questions:
        value = cell("31002", question.number).value
        if question.name not in partial.answers:
            assert value is None, question.number
        elif partial.answers[question.name].kind is AnswerKind.NONE:
            assert value == "Không có"
        else:
            assert value not in (None, "Không có"), question.number
    assert all(cell("31004", q.number).value is None for q in outline.questions)
    # No number was written as text anywhere.
    for question in outline.questions:
        if question.numeric:
            for row in rows.values():
                value = row[column_of(sheet, question.number) - 1].value
                assert value in (None, "Không có") or type(value) in (int, float), (question.number, value)


def test_the_totals_sum_the_submitted_figures_and_recompute_the_rates(
    outline: Outline, workbook_bytes: bytes, hundred_units: list[UnitReport]
) -> None:
    submitted = [r for r in hundred_units if r.status in SUBMITTED_LIKE]

    def figure_sum(name: str, reports: list[UnitReport]) -> int:
        return sum(int(r.answers[name].value) for r in reports
                   if name in r.answers and r.answers[name].kind is AnswerKind.VALUE)

    def none_count(name: str) -> int:
        return sum(1 for r in submitted if name in r.answers and r.answers[name].kind is AnswerKind.NONE)

    result = totals(outline, hundred_units)
    assert result.units == len(submitted) and result.all_units == 100
    for question in outline.asked_questions:
        if question.type == "integer":
            assert result[question.name] == figure_sum(question.name, submitted), question.name
    postal, dossiers = figure_sum("dossiers_postal", submitted), figure_sum("dossiers_total", submitted)
    new = figure_sum("dossiers_new", submitted)
    resolved = figure_sum("dossiers_on_time", submitted) + figure_sum("dossiers_late", submitted)
    assert 0 < none_count("dossiers_postal") == result.none["dossiers_postal"]
    # Received by post: a share of the city's NEW dossiers, recomputed from the sums.
    expected_rate = (Decimal(postal) / Decimal(new) * 100).quantize(Decimal("0.0001"))
    assert result["dossiers_postal_rate"] == expected_rate
    # ... which is not the average of the units' rates.
    unit_rates = [float(cast(Decimal, r.calculated["dossiers_postal_rate"])) for r in submitted]
    assert abs(mean(unit_rates) - float(expected_rate)) > 0.01
    everyone = totals(outline, hundred_units, statuses=None)
    assert everyone.units == 100
    assert everyone["procedures_total"] == figure_sum("procedures_total", hundred_units)
    assert "self_assessment" not in result.choices  # II.2 is asked in words: nothing to tally
    assert result["late_dossiers_apologised"] == figure_sum("late_dossiers_apologised", submitted)
    late = figure_sum("dossiers_late", submitted)
    apologised = (Decimal(result["late_dossiers_apologised"]) / late * 100).quantize(Decimal("0.01"))
    assert result["late_dossiers_apology_rate"] == apologised  # of the city's late dossiers

    sheet = load_workbook(io.BytesIO(workbook_bytes))["Tổng hợp"]
    rows = {row[0].value: [c.value for c in row] for row in sheet.iter_rows() if row and row[0].value}
    assert rows["Số"][:5] == ["Số", "Nội dung", "Tổng cộng", "Số đơn vị có số liệu",
                              "Số đơn vị báo cáo “Không có”"]
    assert rows["4.3.a"][2:5] == [dossiers, len(submitted), 0]
    assert rows["4.3.e"][2:5] == [postal, len(submitted) - none_count("dossiers_postal"),
                                  none_count("dossiers_postal")]
    assert rows["11.2.a"][2] == figure_sum("inspections_count", submitted)
    assert rows["4.3.g"][2] == pytest.approx(float(expected_rate) / 100, abs=0.0005)
    results_rate = figure_sum("results_postal", submitted) / resolved * 100  # of the resolved
    assert rows["4.3.m"][2] == resolved and rows["4.3.n"][2] == dossiers - resolved
    assert rows["4.3.l"][2] == pytest.approx(results_rate / 100, abs=0.0005)
    coverage = figure_sum("subunits_self_inspected", submitted) / figure_sum("subunits_handling_procedures",
                                                                               submitted) * 100
    assert rows["11.2.e"][2] == pytest.approx(coverage / 100, abs=0.0005)
    assert "1.1" not in rows, "text items are not totalled"
    statuses = {row[1].value: row[2].value for row in sheet.iter_rows()
                if row[1].value in STATUS_LABELS.values()}
    assert statuses == {label: sum(1 for r in hundred_units if r.status == key)
                        for key, label in STATUS_LABELS.items()}


def test_the_csv_has_the_answer_columns_for_excel(
    outline: Outline, hundred_units: list[UnitReport]
) -> None:
    data = build_csv(outline, hundred_units)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 101
    header = rows[0]
    assert header[:3] == ["Mã đơn vị", "Tên đơn vị", "Trạng thái"]
    index = {q.name: 3 + i for i, q in enumerate(outline.questions)}
    assert header[index["dossiers_total"]].startswith("4.3.a Kết quả giải quyết thủ tục hành chính")
    first, second = rows[1], rows[2]
    assert first[:3] == ["31000", "Xã Số 0", "Đã nộp"]
    assert first[index["procedures_total"]] == "1234" and first[index["dossiers_postal"]] == "Không có"
    assert first[index["inspections_count"]] == "0" and first[index["publicity"]] == ""
    assert first[index["other_matters"]] == "'=HYPERLINK(\"x\")"
    assert first[index["review_plan_date"]] == "2026-03-15"
    assert second[index["results_postal_rate"]] == "3.6" and second[index["dossiers_total"]] == "5000"


def test_the_city_summary_fills_the_totals_into_the_outline(
    outline: Outline, hundred_units: list[UnitReport]
) -> None:
    result = totals(outline, hundred_units)
    info = ReportDocumentInfo(unit_name="Ủy ban nhân dân thành phố Cần Thơ", superior=None,
                              date=date(2021, 11, 15), campaign_title=CAMPAIGN, unit_level="city",
                              recipients=("Văn phòng Chính phủ (Cục Kiểm soát TTHC)", "TT. Thành ủy"))
    document = read_docx(build_city_summary_docx(outline, result, info, VI))
    texts = body_texts(document)
    n = result.units
    assert document.tables[0].cell(0, 0).text == "ỦY BAN NHÂN DÂN\nTHÀNH PHỐ CẦN THƠ\n"
    opening = [t for t in texts if t.startswith("Thực hiện Kế hoạch số 20/KH-UBND")]
    assert len(opening) == 1 and f"báo cáo của {n} trong tổng số 100 cơ quan, đơn vị đã nộp" in opening[0]
    # The figures as tables: chỉ tiêu / kỳ này / units reporting; rates recomputed from the sums.
    figures = summary_rows(document, outline)
    total = f"{result['dossiers_total']:,}".replace(",", ".")
    assert figures["dossiers_total"][1:] == [total, str(n)]
    assert figures["dossiers_postal"][2] == str(n)  # figures and "Không có" alike
    assert figures["dossiers_postal_rate"][1:] == [share_text(result["dossiers_postal_rate"]), ""]
    label = " ".join(outline.question("dossiers_total").label.vi.split())
    assert not [t for t in texts if t.startswith(label)], "figures are not repeated as text"
    # What the units said in words, without quoting them (no reports given): counted in a table.
    assert figures["self_assessment"][1:] == [str(n - result.none["self_assessment"]),
                                              str(result.none["self_assessment"])]
    nones = result.none["guidance_documents"]
    assert figures["guidance_documents"][1:] == [str(n - nones), str(nones)]
    # A yes/no item as the statement its answers make, with no outline code nor "x/N" count.
    asked = next(q for q in outline.questions if q.number == "2.1.a")
    said = YES_NO_QUESTION.fullmatch(" ".join(asked.label.vi.split()))
    assert said is not None
    assert f"{n} cơ quan, đơn vị {said['verb']} {said['rest']}." in texts
    assert not [t for t in texts if re.search(r"\d+/\d+ đơn vị|^\d+\.\d+(\.[a-zđ])?\. ", t)]
    signature = [p.text for p in document.tables[-1].cell(0, 1).paragraphs if p.text]
    assert signature == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "." * 40]  # a line for the name


def summary_rows(document: Document, outline: Outline) -> dict[str, list[str]]:
    """The rows of the summary's tables (between the header and the closing), by the name of
    the question whose label starts the row (the summary prints no outline codes)."""
    names = {" ".join(q.label.vi.split()): q.name for q in outline.questions}
    return {names[row.cells[0].text]: [cell.text for cell in row.cells]
            for table in document.tables[1:-1] for row in table.rows[1:]}


# ----- charts --------------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_status_chart_counts_every_status(hundred_units: list[UnitReport]) -> None:
    counts = Counter(report.status for report in hundred_units)
    data = status_chart_data(counts)
    assert data.labels == ("Chưa bắt đầu", "Đang thực hiện", "Đã nộp", "Trả lại để chỉnh sửa",
                           "Đã nộp lại", "Đã tiếp nhận")
    assert dict(zip(data.keys, data.values, strict=True)) == {key: counts[key] for key in STATUS_LABELS}
    assert data.total == 100
    assert status_chart_data({"accepted": 3}).values == (0, 0, 0, 0, 0, 3)
    with pytest.raises(ValueError, match="draft"):
        status_chart_data({"draft": 1})
    png = render_status_chart(data)
    assert png_size(png) == (900, 500) and len(png) > 10_000


def test_the_progress_chart_accumulates_submissions_by_local_day() -> None:
    start = date(2021, 10, 20)
    moments: list[datetime | None] = [
        datetime(2021, 10, 18, 9, 0),  # before the campaign's start: counted on the first day
        datetime(2021, 10, 21, 16, 59, tzinfo=UTC),  # 23:59 on the 21st in Cần Thơ
        datetime(2021, 10, 21, 17, 0, tzinfo=UTC),  # 00:00 on the 22nd in Cần Thơ
        datetime(2021, 10, 29, 8, 0), datetime(2021, 10, 29, 15, 0),
        None,  # not submitted
    ]
    data = submissions_over_time_data(moments, DEADLINE, start, total=6)
    assert data.days[0] == start and data.days[-1] == DEADLINE and len(data.days) == 10
    assert data.labels[:3] == ("20/10/2021", "21/10", "22/10")  # the year on the first day
    assert data.values == (1, 2, 3, 3, 3, 3, 3, 3, 3, 5)
    late = submissions_over_time_data([*moments, datetime(2021, 11, 2, 10, 0)], DEADLINE, start)
    assert late.days[-1] == date(2021, 11, 2) and late.values[-1] == 6 and late.deadline == DEADLINE
    png = render_progress_chart(data)
    assert png_size(png) == (900, 500) and len(png) > 10_000
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "tien-do-nop-bao-cao.png").write_bytes(png)
    (ARTIFACTS / "trang-thai-bao-cao.png").write_bytes(
        render_status_chart(status_chart_data(Counter(submitted=40, accepted=25, in_progress=20,
                                                      not_started=10, returned=3, resubmitted=2))))


# ----- rates of nothing ----------------------------------------------------------------------------

NO_DOSSIERS = {"dossiers_total": 0, "dossiers_new": 0, "dossiers_carried_over": 0, "dossiers_one_stop": 0,
               "dossiers_online": 0, "dossiers_postal": 0, "dossiers_on_time": 0, "dossiers_late": 0,
               "results_postal": 0}


def test_a_rate_whose_denominator_is_0_prints_a_dash_never_0_percent(
    engine: ReportEngine, outline: Outline, commune_answers: dict[str, Answer]
) -> None:
    """A commune that received and resolved no dossier at all: its postal, on-time and late rates
    did not arise. The clerk reads "—" (không phát sinh) in the report, the workbook and the city
    summary, never a 0% that would pass for a real share."""
    answers = {**commune_answers, **{name: Answer.of(value) for name, value in NO_DOSSIERS.items()}}
    answers["procedures_total"] = answers["procedures_one_stop"] = Answer.of(0)
    answers["procedures_postal"] = answers["procedures_online"] = NONE_ANSWER
    answers["procedures_at_one_stop_desk"] = Answer.of(0)
    report = unit_report(engine, answers)
    info = ReportDocumentInfo.for_unit(report, on=date(2021, 10, 29), campaign_title=CAMPAIGN)
    document = read_docx(build_report_docx(outline, report, info, VI))
    figures = figure_rows(document)
    for name in ("dossiers_postal_rate", "results_postal_rate", "dossiers_on_time_rate", "dossiers_late_rate",
                 "one_stop_desk_rate"):
        assert figures[label_of(outline, name)][0] == "Không phát sinh", name
    assert figures[label_of(outline, "dossiers_resolved")][0] == "0"
    assert figures[label_of(outline, "dossiers_pending")][0] == "0"
    assert not [cells for cells in figures.values() if cells[0].endswith("0%")]

    other = unit_report(engine, commune_answers, code="31136", name="Phường Cái Khế")
    book = load_workbook(io.BytesIO(build_workbook(outline, [report, other], today=date(2021, 11, 2))))
    sheet = book["Trả lời"]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=3)}
    assert rows["31135"][column_of(sheet, "4.3.g") - 1].value == "—"
    assert rows["31135"][column_of(sheet, "4.3.o") - 1].value == "—"
    assert rows["31135"][column_of(sheet, "4.3.m") - 1].value == 0
    assert rows["31136"][column_of(sheet, "4.3.o") - 1].value == pytest.approx(0.98)
    # The city's rates are recomputed from the sums: one unit with dossiers is enough for a rate.
    summary = {row[0].value: row[2].value for row in book["Tổng hợp"].iter_rows() if row[0].value}
    assert summary["4.3.g"] == pytest.approx(100 / 2300, abs=0.0005)
    # ... and with none anywhere, the city's rate does not arise either.
    nobody = totals(outline, [report])
    assert nobody["dossiers_postal_rate"] is NOT_ARISING
    city = read_docx(build_city_summary_docx(outline, nobody, ReportDocumentInfo(
        unit_name="Ủy ban nhân dân thành phố Cần Thơ", superior=None, date=date(2021, 11, 15),
        campaign_title=CAMPAIGN, unit_level="city"), VI))
    assert summary_rows(city, outline)["dossiers_postal_rate"][1] == "—"
    lone = load_workbook(io.BytesIO(build_workbook(outline, [report], today=date(2021, 11, 2))))["Tổng hợp"]
    assert {row[0].value: row[2].value for row in lone.iter_rows() if row[0].value}["4.3.l"] == "—"
