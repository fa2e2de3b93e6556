"""The VP office's documents of a campaign of 130 units, read as the office reads them: the city
summary (.docx) and the workbook (.xlsx) rendered by LibreOffice to PDF in one call and read with
pdftotext, their page counts, and the progress chart. First pages go to docs/images/ as PNG."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import cast

import docx
import pytest
from openpyxl import load_workbook

import tests.test_documents as unit_documents
from documents import (
    ReportDocumentInfo,
    UnitReport,
    build_city_summary_docx,
    build_workbook,
    render_progress_chart,
    submissions_over_time_data,
    totals,
)
from documents.charts import date_labels
from documents.shares import share_text
from documents.totals import Totals
from engine.answers import AnswerKind
from engine.conversation import ReportEngine
from engine.outline import Outline
from locales.translation import translator
from tests import summary_campaign as campaign
from tests.conftest import REPO, made_once
from tests.test_documents import summary_rows
from tests.test_report_document import CODE

IMAGES = REPO / "docs" / "images"
TITLE = "Kiểm soát thủ tục hành chính năm 2027"
SUMMARY_PAGES = range(8, 30)  # 130 units' figures, names and quotes: 9 pages before this issue
TOTALS_SHEET_PAGES = range(1, 4)  # "Tổng hợp" on a few pages


@dataclass(frozen=True)
class Campaign:
    reports: list[UnitReport]
    totals: Totals
    previous: Totals


@dataclass(frozen=True)
class Rendered:
    summary_docx: bytes
    workbook_xlsx: bytes
    summary_pages: list[str]  # pdftotext, page by page
    workbook_pages: list[str]


def _office() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture(scope="session")
def units(engine: ReportEngine, tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    def make() -> Campaign:
        answers = unit_documents.answers_of_script(engine, "commune")
        reports = campaign.campaign_units(engine, answers)
        return Campaign(reports, totals(engine.outline, reports),
                        totals(engine.outline, campaign.previous_reports(engine, answers)))

    return made_once(tmp_path_factory, "summary-units", make)


@pytest.fixture(scope="session")
def rendered(engine: ReportEngine, units: Campaign, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    """Both documents built, and rendered to PDF by LibreOffice in one call (by one worker)."""
    return made_once(tmp_path_factory, "summary-rendered", lambda: _render(engine, units, tmp_path_factory))


def _render(engine: ReportEngine, units: Campaign, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    office = _office()
    if office is None or not shutil.which("pdftotext"):
        pytest.skip("LibreOffice and poppler-utils are needed; .ci/run installs them")
    info = ReportDocumentInfo(unit_name="Văn phòng Ủy ban nhân dân thành phố", date=campaign.TODAY,
                              campaign_title=TITLE, unit_level="department", number_suffix="BC-VPUB",
                              recipients=("UBND thành phố",), period=campaign.PERIOD)
    summary = build_city_summary_docx(engine.outline, units.totals, info, translator("vi"), units.previous,
                                      reports=units.reports, today=campaign.TODAY)
    book = build_workbook(engine.outline, units.reports, campaign.TODAY, period=campaign.PERIOD,
                          previous=units.previous, title=TITLE)
    folder = tmp_path_factory.mktemp("rendered")
    sources = [folder / "bao-cao-tong-hop.docx", folder / "tong-hop.xlsx"]
    for path, content in zip(sources, (summary, book), strict=True):
        path.write_bytes(content)
    result = subprocess.run([office, f"-env:UserInstallation=file://{folder / 'profile'}", "--headless",
                             "--convert-to", "pdf", "--outdir", str(folder), *map(str, sources)],
                            capture_output=True, text=True, timeout=180)
    pdfs = [path.with_suffix(".pdf") for path in sources]
    assert result.returncode == 0 and all(p.exists() for p in pdfs), result.stdout + result.stderr
    pages = [_pages(pdf) for pdf in pdfs]
    IMAGES.mkdir(parents=True, exist_ok=True)
    _first_page_png(pdfs[0], 1, "bao-cao-tong-hop-trang-1")
    totals_page = 1 + next(i for i, text in enumerate(pages[1]) if text.strip().startswith("Tổng hợp — "))
    _first_page_png(pdfs[1], totals_page, "bang-tong-hop-trang-tong-hop")
    return Rendered(summary, book, *pages)


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    # A form feed ends every page; a line that is only a number is the page number in the header.
    return ["\n".join(line for line in page.splitlines() if not line.strip().isdigit())
            for page in text.split("\f")[:-1]]


def _first_page_png(pdf: Path, page: int, name: str) -> None:
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                    str(IMAGES / name)], check=True, timeout=60)


def _flat(pages: list[str]) -> str:
    """The text as read, line breaks and the layout's spacing aside."""
    return " ".join(" ".join(pages).split())


def _handed_in(units: Campaign) -> list[UnitReport]:
    return [r for r in units.reports if r.submitted]


# ----- the city summary -------------------------------------------------------------------------


def test_the_summary_names_the_units_behind(units: Campaign, rendered: Rendered) -> None:
    text = _flat(rendered.summary_pages)
    handed_in = _handed_in(units)
    late = [r for r in handed_in if r.late_as_of(campaign.TODAY)]
    missing = [r for r in units.reports if not r.submitted]
    assert late and missing and len(handed_in) + len(missing) == campaign.UNITS
    assert (f"Đến ngày 03/11/2027, {len(handed_in)} trong tổng số 130 cơ quan, đơn vị đã nộp báo cáo "
            f"({len(handed_in) - len(late)} đúng hạn, {len(late)} sau hạn); {len(missing)} cơ quan, "
            "đơn vị chưa nộp.") in text
    assert (f"Các cơ quan, đơn vị nộp báo cáo sau hạn ({len(late)}): "
            + ", ".join(r.unit_name for r in late) + ".") in text
    # Every unit not handed in is past its deadline by 03/11/2027: all named, none forgotten.
    assert (f"Các cơ quan, đơn vị chưa nộp báo cáo, đã quá hạn ({len(missing)}): "
            + ", ".join(r.unit_name for r in missing) + ".") in text
    assert "1/1 đơn vị" not in text and not re.search(r"\d+/\d+ (cơ quan, )?đơn vị", text)


def test_the_summary_sets_the_figures_in_tables_beside_last_period(
    units: Campaign, rendered: Rendered, outline: Outline
) -> None:
    document = docx.Document(io.BytesIO(rendered.summary_docx))
    figures = summary_rows(document, outline)
    header = [cell.text for cell in next(t for t in document.tables[1:-1]
                                         if t.cell(0, 0).text == "Chỉ tiêu").rows[0].cells]
    assert header == ["Chỉ tiêu", "Kỳ này", "Kỳ trước", "Tăng, giảm", "Số đơn vị báo cáo"]
    handed_in = _handed_in(units)

    def summed(name: str, reports: list[UnitReport], last: bool = False) -> int:
        return sum(int(answer.value) for r in reports
                   if (answer := (r.previous if last else r.answers).get(name)) is not None
                   and answer.kind is AnswerKind.VALUE)

    dossiers = summed("dossiers_total", handed_in)
    before = int(cast(int, units.previous["dossiers_total"]))
    change = Decimal(abs(dossiers - before)) / before * 100
    way = "tăng" if dossiers > before else "giảm"
    assert figures["dossiers_total"][1:] == [
        f"{dossiers:,}".replace(",", "."), f"{before:,}".replace(",", "."), f"{way} {share_text(change)}",
        str(len(handed_in))]
    # The on-time share recomputed from the summed figures (not an average of the units' shares).
    on_time, late = summed("dossiers_on_time", handed_in), summed("dossiers_late", handed_in)
    city_share = share_text(Decimal(on_time) / (on_time + late) * 100)
    assert figures["dossiers_on_time_rate"][1] == city_share and figures["dossiers_on_time_rate"][4] == ""
    # As the reader sees it: the same row in the PDF, one decimal for every share.
    text = _flat(rendered.summary_pages)
    assert re.search(r"Kết quả giải quyết thủ tục .{0,40}" + re.escape(figures["dossiers_total"][1]), text)
    assert city_share in text and re.search(r"\d,\d%", text) and not re.search(r"\d,\d\d%", text)


def test_the_summary_names_a_unit_far_below_the_citys_on_time_share(
    units: Campaign, rendered: Rendered
) -> None:
    """The rule (documents/synthesis.py): 20 percentage points or more worse than the city."""
    lagging = units.reports[campaign.LAGGING]
    assert lagging.submitted
    city = share_text(units.totals["dossiers_on_time_rate"])
    own = share_text(lagging.calculated["dossiers_on_time_rate"])
    text = _flat(rendered.summary_pages)
    assert ("Tỷ lệ hồ sơ giải quyết đúng hạn (trên số hồ sơ đã giải quyết): "
            f"tỷ lệ chung của các cơ quan, đơn vị là {city}; 1 đơn vị có tỷ lệ thấp hơn tỷ lệ "
            f"chung từ 20 điểm phần trăm trở lên: {lagging.unit_name} ({own}).") in text


def test_the_summary_quotes_difficulties_and_proposals_with_their_unit(
    units: Campaign, rendered: Rendered
) -> None:
    text = _flat(rendered.summary_pages)
    handed_in = _handed_in(units)
    shared = [r.unit_name for r in handed_in
              if r.answers["difficulties_specific"].value == campaign.DIFFICULTY]
    assert len(shared) > 3
    # Units that wrote the same words are quoted once, together.
    assert f"- {', '.join(shared)}: “{campaign.DIFFICULTY}”." in text
    own = next(r for r in handed_in if r.unit_name not in shared
               and r.answers["proposed_solutions"].kind is AnswerKind.VALUE)
    assert f"- {own.unit_name}: “{own.answers['proposed_solutions'].value}”." in text
    drafting = next(r for r in units.reports if not r.submitted and "proposed_solutions" in r.answers
                    and r.answers["proposed_solutions"].value not in (None, campaign.PROPOSAL))
    assert f"“{drafting.answers['proposed_solutions'].value}”" not in text, "drafts are not quoted"
    nothing = sum(1 for r in handed_in if r.answers["proposed_solutions"].kind is AnswerKind.NONE)
    assert f"Các đơn vị còn lại đã báo cáo ({nothing} đơn vị) không có nội dung này (“Không có”)." in text


def test_the_summary_names_the_few_units_behind_a_rare_answer(units: Campaign, rendered: Rendered) -> None:
    few = [units.reports[index] for index in campaign.NOT_REGISTERED]
    assert all(r.submitted for r in few)
    answered = sum(1 for r in _handed_in(units) if "national_portal_account_registered" in r.answers)
    text = _flat(rendered.summary_pages)
    named = ", ".join(r.unit_name for r in few)
    assert (f"{answered - len(few)} cơ quan, đơn vị đã đăng ký tài khoản trên Cổng Dịch vụ công quốc "
            f"gia; {len(few)} cơ quan, đơn vị chưa đăng ký tài khoản trên Cổng Dịch vụ công quốc gia "
            f"({named}).") in text


def test_the_summary_reads_as_a_report_not_a_form(
    units: Campaign, rendered: Rendered, outline: Outline
) -> None:
    """Headings from the Đề cương, sentences and tables: no outline code ("II.3.b", "4.3.a") and
    no "x/N đơn vị đã báo cáo" in the body."""
    text = _flat(rendered.summary_pages)
    body = text.split("như sau:", 1)[1].split("Nơi nhận:")[0]
    assert not CODE.findall(body), CODE.findall(body)[:5]
    assert "đơn vị đã báo cáo" not in body
    for heading in ("I. TÌNH HÌNH, KẾT QUẢ KIỂM SOÁT THỦ TỤC HÀNH CHÍNH",
                    "4. Về giải quyết thủ tục hành chính", "IV. KIẾN NGHỊ VÀ ĐỀ XUẤT"):
        assert heading in body, heading
    # The items written in words and not quoted: how many units wrote on each, in a table.
    document = docx.Document(io.BytesIO(rendered.summary_docx))
    rows = summary_rows(document, outline)
    wrote = [r for r in _handed_in(units)
             if (a := r.answers.get("guidance_documents")) is not None and a.kind is AnswerKind.VALUE]
    nothing = [r for r in _handed_in(units)
               if (a := r.answers.get("guidance_documents")) is not None and a.kind is AnswerKind.NONE]
    assert rows["guidance_documents"][1:] == [str(len(wrote)), str(len(nothing))]
    assert [c.text for c in document.tables[1].rows[0].cells] == [
        "Nội dung", "Số đơn vị có báo cáo", "Số đơn vị báo cáo “Không có”"]
    lead = "Các nội dung báo cáo bằng văn bản (chi tiết tại báo cáo của từng cơ quan, đơn vị):"
    assert body.count(lead) > 5


def test_the_summary_prints_on_a_sensible_number_of_pages(rendered: Rendered) -> None:
    assert len(rendered.summary_pages) in SUMMARY_PAGES, len(rendered.summary_pages)
    assert (IMAGES / "bao-cao-tong-hop-trang-1.png").stat().st_size > 10_000


# ----- the workbook -----------------------------------------------------------------------------


def test_the_workbook_is_titled_by_the_period_and_formatted_as_figures(
    units: Campaign, rendered: Rendered
) -> None:
    book = load_workbook(io.BytesIO(rendered.workbook_xlsx))
    summary = book["Tổng hợp"]
    assert [summary.cell(row, 1).value for row in (1, 2)] == [
        f"TỔNG HỢP SỐ LIỆU BÁO CÁO KIỂM SOÁT THỦ TỤC HÀNH CHÍNH: {TITLE.upper()}",
        "Kỳ báo cáo: từ ngày 15/12/2026 đến ngày 14/10/2027"]
    rows = {row[0].value: row for row in summary.iter_rows() if row[0].value}
    assert rows["4.3.a"][2].value == units.totals["dossiers_total"]
    assert rows["4.3.a"][2].number_format == "#,##0"
    on_time = rows["4.3.o"][2]
    assert on_time.number_format == "0.0%" and 0.9 < on_time.value < 1  # a real percentage
    assert rows["4.3.a"][6].number_format == "0.0%"  # the change, in per cent
    for sheet in book.worksheets:  # A4 landscape, header rows on every page
        assert sheet.page_setup.orientation == "landscape" and sheet.page_setup.paperSize == 9
        assert sheet.print_title_rows
    # One page wide (fitToWidth left out means 1, ECMA-376 §18.3.1.63), as many pages down as it takes.
    setup = summary.page_setup
    assert summary.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (None, 1)
    assert setup.fitToHeight == 0
    # Columns wide enough for their labels.
    places = book["Đơn vị"]
    for cell in places[1]:
        assert places.column_dimensions[cell.column_letter].width >= len(str(cell.value)), cell.value


def test_the_answers_sheet_has_last_periods_figures_and_a_totals_row(
    units: Campaign, rendered: Rendered
) -> None:
    sheet = load_workbook(io.BytesIO(rendered.workbook_xlsx))["Trả lời"]
    numbers = [cell.value for cell in sheet[1]]
    column = numbers.index("4.3.a")
    assert numbers[column + 1] == "4.3.a (kỳ trước)"
    assert sheet.cell(2, column + 2).value.startswith("Kỳ trước: Kết quả giải quyết thủ tục hành chính")
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=3)}
    for report in units.reports:
        last = report.previous.get("dossiers_total")
        assert rows[report.unit_code][column + 1].value == (None if last is None else last.value)
    first = rows[units.reports[0].unit_code][column]
    assert first.number_format == "#,##0"
    totals_row = rows["Tổng cộng"]
    assert totals_row[1].value == f"{units.totals.units} báo cáo đã nộp"
    assert totals_row[column].value == units.totals["dossiers_total"]
    assert totals_row[numbers.index("4.3.o")].number_format == "0.0%"
    assert sheet.print_title_cols == "$A:$B"  # the unit on every printed page


def test_the_totals_sheet_prints_on_a_few_pages(units: Campaign, rendered: Rendered) -> None:
    by_sheet: dict[str, list[str]] = {}
    for page in rendered.workbook_pages:
        by_sheet.setdefault(page.strip().split(" — ")[0], []).append(page)
    assert list(by_sheet) == ["Đơn vị", "Trả lời", "Tổng hợp"]
    totals_pages = by_sheet["Tổng hợp"]
    assert len(totals_pages) in TOTALS_SHEET_PAGES, len(totals_pages)  # 4, cut across, before
    text = _flat(totals_pages)
    assert "Tổng hợp — Kỳ báo cáo từ ngày 15/12/2026 đến ngày 14/10/2027" in text
    assert "NĂM 2021" not in text and re.search(r"Trang \d+/\d+", text)
    # Counts with thousands separators and shares as percentages, as LibreOffice prints them.
    dossiers = int(cast(int, units.totals["dossiers_total"]))
    assert re.search(rf"4\.3\.a .*?{dossiers:,}".replace(",", "[.,]"), text)
    share = share_text(units.totals["dossiers_on_time_rate"])  # "97,6%"; LibreOffice's locale may say 97.6%
    assert re.search(share.replace(",", "[.,]"), text)
    assert len(by_sheet["Đơn vị"]) <= 5  # 130 units and a totals row, every column on the page's width
    assert (IMAGES / "bang-tong-hop-trang-tong-hop.png").stat().st_size > 10_000


# ----- the progress chart -----------------------------------------------------------------------


def test_the_progress_chart_stops_at_today_and_marks_the_deadline(units: Campaign) -> None:
    today = date(2027, 10, 25)  # four days before the due date
    moments = [r.submitted_at for r in units.reports]
    data = submissions_over_time_data(moments, campaign.DEADLINE, date(2027, 9, 25), today=today,
                                      total=len(units.reports))
    assert data.days[-1] == today and data.today == today and data.deadline == campaign.DEADLINE
    handed_by_today = sum(1 for r in units.reports if r.submitted_on is not None and r.submitted_on <= today)
    assert data.values[-1] == handed_by_today
    assert data.labels[0] == "25/09/2027" and data.labels[1] == "26/09"
    png = render_progress_chart(data)
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    IMAGES.mkdir(parents=True, exist_ok=True)
    (IMAGES / "tien-do-nop-bao-cao.png").write_bytes(png)


def test_chart_dates_show_the_year_where_it_changes() -> None:
    days = [date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2)]
    assert date_labels(days) == ["30/12/2026", "31/12", "01/01/2027", "02/01"]
    data = submissions_over_time_data([datetime(2026, 12, 31, 2, 0, tzinfo=UTC)], date(2027, 1, 15),
                                      date(2026, 12, 30), today=date(2027, 1, 2))
    assert data.labels == ("30/12/2026", "31/12", "01/01/2027", "02/01") and data.values == (0, 1, 1, 1)
    assert render_progress_chart(data).startswith(b"\x89PNG")  # the axis runs on to the deadline
