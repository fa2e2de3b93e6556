"""A unit's report as the VP office reads it on paper: made with `kstthc-bot documents …` from a
SQLite file of its own, rendered by LibreOffice (one soffice call for the module) and read back
with pdftotext. A filled report handed in with last period's figures, a draft of another unit,
and the city summary (its header and signer block); the first pages go to docs/images/."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import re
import shutil
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.config import get_settings
from deadlines.periods import Period
from documents import ReportDocumentInfo, UnitReport
from documents.layout import issuer_lines
from documents.model import head_title
from documents.report_docx import yes_no_sentence
from documents.text_width import COMPOUND_WORDS, break_lines
from engine.answers import Answer, AnswerKind
from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.outline import Outline
from engine.views import State
from storage.campaigns import open_campaigns
from storage.database import Database
from storage.models import stamping_clock
from storage.officers import bind_identity
from storage.reports import Actor, mark_submitted, save_answer, submission_for
from storage.units import list_units
from tests.commands import cli_in_process as cli
from tests.commands import output_lines as ok
from tests.conftest import REPO, made_once
from tests.scripted_officer import BY_TYPE, script_for

IMAGES = REPO / "docs" / "images"
THIS_YEAR, LAST_YEAR = "tu-kiem-tra-2027", "tu-kiem-tra-2026"  # the seed opens 2027 on 20/12/2026
NOW = "2026-12-20T09:00:00+07:00"
HANDED_IN = datetime(2027, 10, 20, 3, 0, tzinfo=UTC)
SIGNER = "Nguyễn Văn An"
OFFICE_SIGNER = "Trần Thị Bình"
# An outline code in the body: "4.3.b", "1.1", "II.1.a" (not "2.500" nor "4,35%").
CODE = re.compile(r"(?<![\w.,/])(?:\d{1,2}|I{1,3}|IV)\.\d{1,2}(?:\.[a-zđ])?(?![\w])")


def _office() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@dataclass(frozen=True)
class Rendered:
    """A document as printed: its pages' text (pdftotext -layout) and the file."""

    pages: list[str]
    docx: Path

    @property
    def text(self) -> str:
        return "\n".join(self.pages)

    @property
    def words(self) -> str:
        return " ".join(self.text.split())


def signature_block(page: str) -> list[str]:
    """The right-hand column of the closing (pdftotext -layout): the signer's lines."""
    lines = page.split("Nơi nhận:", 1)[1].splitlines()
    lines[0] = " " * 40 + lines[0]
    block = []
    for line in lines:
        parts = re.split(r"\s{2,}", line.strip())
        if len(parts) > 1 or len(line) - len(line.lstrip()) > 15:
            block.append(parts[-1])
    return [line for line in block if line]


def recipients_block(page: str) -> list[str]:
    """The left-hand column of the closing: "- X;" lines under "Nơi nhận:"."""
    lines = page.split("Nơi nhận:", 1)[1].splitlines()[1:]
    return [re.split(r"\s{2,}", line.strip())[0] for line in lines if line.startswith("- ")]


def scripted_answers(engine: ReportEngine) -> dict[str, Answer]:
    state = engine.resume(State(answers={}, unit_level="commune")).state
    for line in script_for(engine, "commune"):
        state = engine.step(state, parse_text(line)).state
    return dict(state.answers)


async def fill(url: str, engine: ReportEngine) -> tuple[str, str]:
    """Last year's figures and this year's report of one commune, both handed in; a few answers
    of another commune's report, not handed in. Returns the two units' codes."""
    answers = scripted_answers(engine)
    last_year = {name: Answer.of(answer.value * 4 // 5) for name, answer in answers.items()
                 if engine.outline.question(name).type == "integer" and answer.kind is AnswerKind.VALUE}
    database = Database(url)
    stamped = stamping_clock.set(lambda: HANDED_IN)
    try:
        async with database.transaction() as session:
            communes = await list_units(session, "commune")
            filled, draft = communes[0], communes[1]
            campaigns = {c.code: c for c in await open_campaigns(session)}
            officer = await bind_identity(session, filled, "telegram", "5001")
            other = await bind_identity(session, draft, "telegram", "5002")
            for code, given, unit, who, hand_in in (
                (LAST_YEAR, last_year, filled, officer, True),
                (THIS_YEAR, answers, filled, officer, True),
                (THIS_YEAR, dict(list(answers.items())[:3]), draft, other, False),
            ):
                submission = await submission_for(session, campaigns[code], unit.id)
                for name, answer in given.items():
                    await save_answer(session, submission, engine.outline, name, answer, Actor(who.id, "t"))
                if hand_in:
                    await mark_submitted(session, submission, Actor(who.id, "t"))
            return filled.code, draft.code
    finally:
        stamping_clock.reset(stamped)
        await database.close()


@dataclass(frozen=True)
class Made:
    env: dict[str, str]
    out: Path
    filled: str
    draft: str
    files: dict[str, Path]
    rendered: dict[str, Rendered]


@pytest.fixture(scope="session")
def made(tmp_path_factory: pytest.TempPathFactory, engine: ReportEngine) -> Iterator[Made]:
    """The documents of the module, made through the CLI and rendered by one soffice call, by one
    worker (the tests that run the CLI again change nothing the others read)."""
    yield made_once(tmp_path_factory, "report-document", lambda: _make(tmp_path_factory, engine))
    get_settings.cache_clear()


def _make(tmp_path_factory: pytest.TempPathFactory, engine: ReportEngine) -> Made:
    office = _office()
    if office is None or not shutil.which("pdftotext"):
        pytest.skip("LibreOffice (soffice) and poppler-utils are needed; .ci/run installs them")
    root = tmp_path_factory.mktemp("report-document")
    url = f"sqlite+aiosqlite:///{root / 'bot.sqlite3'}"
    env = {"KSTTHC_DATABASE_URL": url, "KSTTHC_NOW": NOW}
    ok(cli(env, "campaign", "create", LAST_YEAR, "--title", "Báo cáo tự kiểm tra năm 2026",
           "--deadline", "31/10/2026"))
    filled, draft = asyncio.run(fill(url, engine))
    ok(cli(env, "units", "signer", filled, "--title", "TM. ỦY BAN NHÂN DÂN", "--title", "KT. CHỦ TỊCH",
           "--title", "PHÓ CHỦ TỊCH", "--name", SIGNER))
    ok(cli(env, "units", "signer", "--office", "--title", "KT. CHÁNH VĂN PHÒNG",
           "--title", "PHÓ CHÁNH VĂN PHÒNG", "--name", OFFICE_SIGNER))
    ok(cli(env, "campaign", "recipients", THIS_YEAR, "Văn phòng UBND thành phố", "Sở Nội vụ"))
    ok(cli(env, "campaign", "recipients", THIS_YEAR, "--summary", "UBND thành phố", "Sở Nội vụ",
           "Lưu: VT, KSTT"))
    out = root / "out"
    files: dict[str, Path] = {}
    for name, args in (("filled", ("report", THIS_YEAR, filled)), ("draft", ("report", THIS_YEAR, draft)),
                       ("summary", ("summary", THIS_YEAR)), ("workbook", ("workbook", THIS_YEAR)),
                       ("chart", ("chart", THIS_YEAR))):
        written = ok(cli(env, "documents", *args, "--out", str(out)))
        files[name] = Path(written[0])
    sources = [files[name] for name in ("filled", "draft", "summary")]
    converted = subprocess.run(
        [office, f"-env:UserInstallation=file://{root / 'profile'}", "--headless", "--convert-to", "pdf",
         "--outdir", str(root / "pdf"), *map(str, sources)], capture_output=True, text=True, timeout=180)
    assert converted.returncode == 0, converted.stdout + converted.stderr
    rendered = {}
    for name, source in zip(("filled", "draft", "summary"), sources, strict=True):
        pdf = root / "pdf" / source.with_suffix(".pdf").name
        assert pdf.exists(), converted.stdout + converted.stderr
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                              check=True, timeout=60).stdout
        rendered[name] = Rendered(text.split("\f")[:-1] if text.endswith("\f") else text.split("\f"), source)
        if name != "summary":  # the summary's picture belongs to the city summary's own tests
            IMAGES.mkdir(parents=True, exist_ok=True)
            subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                            str(IMAGES / f"bao-cao-don-vi-{'da-nop' if name == 'filled' else 'du-thao'}")],
                           check=True, timeout=60)
    return Made(env, out, filled, draft, files, rendered)


# ----- the filled report -----------------------------------------------------------------------


def test_the_filled_report_reads_as_a_report(made: Made, outline: Outline) -> None:
    filled = made.rendered["filled"]
    words = filled.words
    # The Đề cương's headings, in order.
    headings = [f"{part.number}. {part.title.vi}" for part in outline.parts]
    headings[1:1] = ["4. Về giải quyết thủ tục hành chính", "6. Về tiếp nhận và xử lý phản ánh, kiến nghị"]
    positions = [words.find(heading) for heading in headings]
    assert -1 not in positions, list(zip(headings, positions, strict=True))
    # No outline codes in the body, no "(chưa trả lời)", nothing left to list.
    body = words.split("như sau:", 1)[1].split("Nơi nhận:")[0]
    assert not CODE.findall(body), CODE.findall(body)[:5]
    assert "(chưa trả lời)" not in words and "Nội dung chưa báo cáo" not in words
    # Answers as sentences: "không có" says there is nothing to report; yes/no as a statement.
    assert "không có nội dung phát sinh trong kỳ báo cáo." in words
    assert "cơ quan, đơn vị có gặp vướng mắc, khó khăn." in words
    assert "Tự đánh giá mức độ hoàn thành công tác kiểm soát thủ tục hành chính của cơ quan, đơn vị: " \
           + BY_TYPE["text"] in words  # II.2 in words, as the plan asks
    # Figures as a table: this period, last period (4/5 of it) and the change.
    assert words.count("Chỉ tiêu Kỳ này Kỳ trước Tăng, giảm") >= 4  # 3.1, 4.3, 6, 8.3, 11.2
    rows = {line.strip().split("  ")[0]: line for line in filled.text.splitlines()}
    assert re.search(r"2\.450\s+1\.960\s+tăng 25,0%", rows["Số hồ sơ giải quyết đúng hạn"])
    assert re.search(r"50\s+40\s+tăng 25,0%", rows["Số hồ sơ giải quyết trễ hạn"])
    assert re.search(r"98,0%\s+98,0%\s+không thay đổi", rows["Tỷ lệ hồ sơ giải quyết đúng hạn (trên"])
    # Handed in: no DỰ THẢO; the signer set for the unit, the campaign's recipients.
    assert "DỰ THẢO" not in words
    assert signature_block(filled.pages[-1]) == [
        "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", SIGNER]
    assert "THỦ TRƯỞNG CƠ QUAN" not in words
    assert recipients_block(filled.pages[-1]) == ["- Văn phòng UBND thành phố;", "- Sở Nội vụ;", "- Lưu: VT."]
    # Dated the day it was handed in, within the period it covers.
    assert "ngày 20 tháng 10 năm 2027" in filled.pages[0]
    assert "(Kỳ báo cáo: từ ngày 15/12/2026 đến ngày 14/10/2027)" in " ".join(filled.pages[0].split())
    # Before this change the same report took 9 pages; its tables make it shorter.
    assert len(filled.pages) <= 9, len(filled.pages)


def test_a_report_not_handed_in_is_a_draft_listing_what_is_missing_once(made: Made, outline: Outline) -> None:
    draft = made.rendered["draft"]
    words = draft.words
    assert "DỰ THẢO" in draft.pages[0]
    assert all("DỰ THẢO" not in page for page in draft.pages[1:])
    assert "(chưa trả lời)" not in words and not CODE.findall(words.split("như sau:", 1)[1])
    # What is not reported yet: once, at the end, each section by its heading and a count; the
    # body holds only what is reported, not a gap for every section.
    assert words.count("Nội dung chưa báo cáo") == 1
    body, missing = words.split("Nội dung chưa báo cáo", 1)
    total = " ".join(outline.question("dossiers_total").label.vi.split())
    assert total[1:60] not in words
    assert re.search(r"4\. Về giải quyết thủ tục hành chính: (cả \d+|\d+ trong số \d+) nội dung\.", missing)
    assert "Về giải quyết thủ tục hành chính" not in body
    assert re.search(r"IV\. KIẾN NGHỊ VÀ ĐỀ XUẤT: (cả \d+|\d+ trong số \d+) nội dung\.", missing)
    # Dated today (2026) for a period ending in 2027: the title names the period, not "năm 2027".
    assert "ngày 20 tháng 12 năm 2026" in draft.pages[0]
    assert "năm 2027" not in words
    assert "Kỳ báo cáo: từ ngày 15/12/2026 đến ngày 14/10/2027" in words
    # No signer set for this unit: the title of its level and a line to write the name on.
    assert signature_block(draft.pages[-1]) == ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "." * 40]
    assert "- Sở Nội vụ;" in words  # the campaign's recipients for every unit's report
    # Three answers: a page or so, not the 6 pages of every missing item's full label.
    assert len(draft.pages) <= 3, len(draft.pages)


def test_the_summary_header_and_signer(made: Made) -> None:
    """The VP office's name broken only where the header chooses, its signer and recipients."""
    summary = made.rendered["summary"]
    first = [line.strip() for line in summary.pages[0].splitlines()]
    header = [line.split("  ")[0] for line in first[:6]]
    assert header[1:4] == ["VĂN PHÒNG", "ỦY BAN NHÂN DÂN", "THÀNH PHỐ"], header
    assert all("ỦY BAN NHÂN DÂN" in line for line in first if "ỦY BAN NHÂN" in line)
    words = summary.words
    assert signature_block(summary.pages[-1]) == ["KT. CHÁNH VĂN PHÒNG", "PHÓ CHÁNH VĂN PHÒNG", OFFICE_SIGNER]
    assert recipients_block(summary.pages[-1]) == ["- UBND thành phố;", "- Sở Nội vụ;", "- Lưu: VT, KSTT."]
    assert "THỦ TRƯỞNG CƠ QUAN" not in words


# ----- the command line ------------------------------------------------------------------------


def test_every_document_from_the_command_line_owner_only(made: Made) -> None:
    for name, suffix in (("filled", ".docx"), ("draft", ".docx"), ("summary", ".docx"),
                         ("workbook", ".xlsx"), ("chart", ".png")):
        path = made.files[name]
        assert path.suffix == suffix and path.parent == made.out
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (name, oct(path.stat().st_mode))
    assert stat.S_IMODE(made.out.stat().st_mode) == 0o700
    assert made.files["filled"].name == f"bao-cao-{made.filled}-{THIS_YEAR}.docx"
    assert made.files["chart"].read_bytes().startswith(b"\x89PNG")
    assert "Tổng hợp" in load_workbook(io.BytesIO(made.files["workbook"].read_bytes())).sheetnames

    unknown = cli(made.env, "documents", "report", "khong-co", made.filled, "--out", str(made.out))
    assert unknown.exit_code == 1
    assert "Không có đợt báo cáo mã “khong-co”; xem các đợt bằng lệnh “kstthc-bot campaign list”." \
        in unknown.output
    nobody = cli(made.env, "documents", "report", THIS_YEAR, "99999", "--out", str(made.out))
    assert nobody.exit_code == 1 and "Không có đơn vị mã “99999”" in nobody.output
    for command in ("summary", "workbook", "chart"):
        refused = cli(made.env, "documents", command, "khong-co")
        assert refused.exit_code == 1 and "Không có đợt báo cáo mã “khong-co”" in refused.output


def test_signers_and_recipients_are_shown_changed_and_reset(made: Made) -> None:
    env = made.env
    assert ok(cli(env, "units", "signer", made.filled)) == [
        f"TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH — {SIGNER}"]
    assert ok(cli(env, "units", "signer", "--office")) == [
        f"KT. CHÁNH VĂN PHÒNG / PHÓ CHÁNH VĂN PHÒNG — {OFFICE_SIGNER}"]
    assert ok(cli(env, "units", "signer", made.draft)) == [
        "(mặc định theo cấp đơn vị) — (chưa có tên người ký)"]
    both = cli(env, "units", "signer", made.draft, "--office")
    assert both.exit_code == 2 and "hoặc --office" in both.output
    assert ok(cli(env, "units", "signer", made.draft, "--name", "Lê Văn Cường")) == [
        "(mặc định theo cấp đơn vị) — Lê Văn Cường"]
    assert ok(cli(env, "units", "signer", made.draft, "--reset")) == [
        "(mặc định theo cấp đơn vị) — (chưa có tên người ký)"]
    assert ok(cli(env, "campaign", "recipients", THIS_YEAR, "--summary")) == [
        "UBND thành phố", "Sở Nội vụ", "Lưu: VT, KSTT"]
    assert ok(cli(env, "campaign", "recipients", LAST_YEAR)) == ["Văn phòng UBND thành phố"]  # the default
    refused = cli(env, "campaign", "recipients", "khong-co", "Sở Nội vụ")
    assert refused.exit_code == 1 and "Không có đợt báo cáo mã “khong-co”" in refused.output


# ----- the pieces, without LibreOffice ---------------------------------------------------------------


def test_names_are_broken_only_between_chosen_words() -> None:
    assert issuer_lines("Ủy ban nhân dân phường Ninh Kiều") == ["ỦY BAN NHÂN DÂN", "PHƯỜNG NINH KIỀU"]
    assert issuer_lines("Văn phòng Ủy ban nhân dân thành phố") == [
        "VĂN PHÒNG", "ỦY BAN NHÂN DÂN", "THÀNH PHỐ"]
    long_name = "Ban Quản lý các khu chế xuất và công nghiệp Cần Thơ"
    lines = issuer_lines(long_name)
    assert " ".join(lines) == long_name.upper() and len(lines) == 3
    assert "THÀNH PHỐ CẦN THƠ" in break_lines("ỦY BAN NHÂN DÂN THÀNH PHỐ CẦN THƠ", 12, 45)


def test_department_names_keep_their_words_whole() -> None:
    """The province's departments, longest names included: no line ends inside a word of two
    syllables ("CÔNG" over "NGHIỆP", "THƯƠNG" over "BINH"), and no name takes more lines for it."""
    places = REPO / "storage" / "data" / "can-tho-2021-departments-districts.csv"
    with places.open(encoding="utf-8") as file:
        names = [row["name"] for row in csv.DictReader(file) if row["level"] == "department"]
    assert len(names) > 15
    for name in names:
        lines = issuer_lines(name)
        assert " ".join(lines) == " ".join(name.split()).upper()
        for upper, lower in itertools.pairwise(lines):
            for word in COMPOUND_WORDS:
                first, *rest = word.split()
                assert not (upper.endswith(" " + first) or upper == first) or not lower.startswith(
                    " ".join(rest)), (name, lines)
        assert len(lines) <= 3, lines
    assert issuer_lines("Ban Quản lý các khu chế xuất và công nghiệp Cần Thơ") == [
        "BAN QUẢN LÝ", "CÁC KHU CHẾ XUẤT VÀ", "CÔNG NGHIỆP CẦN THƠ"]
    assert issuer_lines("Sở Lao động - Thương binh và Xã hội") == ["SỞ LAO ĐỘNG -", "THƯƠNG BINH VÀ XÃ HỘI"]
    assert issuer_lines("Sở Văn hóa, Thể thao và Du lịch") == ["SỞ VĂN HÓA,", "THỂ THAO VÀ DU LỊCH"]
    # A word is kept whole where the room allows; never at the cost of a longer name.
    assert break_lines("SỞ NÔNG NGHIỆP", 12, 35) == ["SỞ", "NÔNG NGHIỆP"]
    assert break_lines("SỞ NÔNG NGHIỆP", 12, 22) == ["SỞ NÔNG", "NGHIỆP"]  # the word alone is wider


def test_yes_no_answers_are_said_as_statements() -> None:
    asked = "Cơ quan, đơn vị có đề xuất thủ tục hành chính thực hiện liên thông không?"
    assert yes_no_sentence(asked, yes=False) == (
        "Cơ quan, đơn vị không đề xuất thủ tục hành chính thực hiện liên thông.")
    built = "Cơ quan, đơn vị đã xây dựng quy trình nội bộ giải quyết thủ tục hành chính chưa?"
    assert yes_no_sentence(built, yes=True) == (
        "Cơ quan, đơn vị đã xây dựng quy trình nội bộ giải quyết thủ tục hành chính.")
    assert yes_no_sentence(built, yes=False) == (
        "Cơ quan, đơn vị chưa xây dựng quy trình nội bộ giải quyết thủ tục hành chính.")
    assert yes_no_sentence("Did the unit meet any obstacles?", yes=True) is None


def test_signer_defaults_and_the_period_in_the_title() -> None:
    assert head_title("Sở Tư pháp") == "GIÁM ĐỐC" and head_title("Ban Dân tộc") == "TRƯỞNG BAN"
    assert head_title("Văn phòng Ủy ban nhân dân thành phố") == "CHÁNH VĂN PHÒNG"
    assert head_title("Thanh tra thành phố") == "CHÁNH THANH TRA"
    department = UnitReport("STP", "Sở Tư pháp", "department", None, "submitted", None, date(2027, 10, 29))
    info = ReportDocumentInfo.for_unit(department, on=date(2026, 12, 20),
                                       campaign_title="Tự kiểm tra năm 2027",
                                       period=Period(date(2026, 12, 15), date(2027, 10, 14)))
    assert info.signature_lines() == (None, "GIÁM ĐỐC")
    assert "2027" not in info.report_subject("Tình hình, kết quả thực hiện hoạt động kiểm soát")
    signed = info.with_signer(["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC"], "Phạm Văn Dũng")
    assert signed.signature_lines() == ("KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC")
    assert signed.signer_name == "Phạm Văn Dũng"
    assert info.with_signer([], None) == info
