"""Reporting periods (kỳ báo cáo) and the one due date: what a campaign's figures cover, set by
the VP office when it opens the campaign, and the due date worded the same everywhere, as the
plan words it, with the last working day it really means when that day is off."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import docx
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from bot.config import Settings
from bot.seed import seed_if_empty
from deadlines.periods import Period, PeriodError, default_period, last_cut_off_before
from deadlines.workdays import WorkingCalendar
from documents import ReportDocumentInfo, UnitReport, build_report_docx
from engine.answers import Answer
from engine.conversation import ReportEngine
from engine.views import QuestionView, State
from handlers.admin_commands import AdminContext, run_admin_command
from handlers.documents import campaign_exports
from handlers.due import due_text
from handlers.overview import campaign_overview, overview_texts
from locales.translation import translator
from storage.campaigns import campaign_period
from storage.database import Database
from storage.migrate import upgrade
from storage.models import Campaign
from storage.reports import Actor
from tests.commands import command
from tests.conftest import REPO
from tests.scripted_officer import script_for

VI, EN = translator("vi"), translator("en")
CAL = WorkingCalendar()
OUTLINE_FILE = "ke-hoach-20-2021.yaml"
ARTIFACTS = REPO / "test-artifacts"


# ----- the default period: Decree 09/2019/NĐ-CP's cut-off dates ----------------------------------

@pytest.mark.parametrize(("due", "start", "end"), [
    # "trước ngày 31/10": the last cut-off (the 14th) before it, from 15/12 of the year before.
    (date(2027, 10, 31), date(2026, 12, 15), date(2027, 10, 14)),
    (date(2021, 10, 31), date(2020, 12, 15), date(2021, 10, 14)),
    # Due early in a month: the 14th of the month before.
    (date(2027, 11, 10), date(2026, 12, 15), date(2027, 10, 14)),
    (date(2027, 11, 14), date(2026, 12, 15), date(2027, 10, 14)),
    (date(2027, 11, 15), date(2026, 12, 15), date(2027, 11, 14)),
    # Due in January: the whole annual period, 15/12 to 14/12, as the decree has it.
    (date(2028, 1, 10), date(2026, 12, 15), date(2027, 12, 14)),
    (date(2027, 12, 20), date(2026, 12, 15), date(2027, 12, 14)),
    # Due just after 14/12: the new year's period has not begun; the old one is whole.
    (date(2028, 1, 14), date(2026, 12, 15), date(2027, 12, 14)),
])
def test_the_default_period_follows_the_decrees_cut_off_dates(due: date, start: date, end: date) -> None:
    assert default_period(due) == Period(start, end)
    assert last_cut_off_before(due) == end < due


def test_a_period_names_its_days_and_its_year_and_cannot_run_backwards() -> None:
    period = Period(date(2026, 12, 15), date(2027, 10, 14))
    assert period.text() == "từ ngày 15/12/2026 đến ngày 14/10/2027"
    assert period.year == 2027
    assert period.previous_year() == Period(date(2025, 12, 15), date(2026, 10, 14))
    assert Period(date(2024, 1, 1), date(2024, 2, 29)).previous_year().end == date(2023, 2, 28)
    with pytest.raises(PeriodError):
        Period(date(2027, 10, 14), date(2026, 12, 15))


# ----- the one due date --------------------------------------------------------------------------

def test_the_due_date_is_the_plans_wording_with_the_working_day_it_means() -> None:
    sunday = Campaign(deadline=date(2027, 10, 31), deadline_kind="fixed_date")
    real = CAL.last_working_day_on_or_before(date(2027, 10, 31))
    assert real == date(2027, 10, 29)
    assert due_text(sunday, real, VI) == ("trước ngày 31/10/2027 (Chủ nhật, ngày nghỉ; hạn thực tế: "
                                          "thứ Sáu, ngày 29/10/2027)")
    assert due_text(sunday, real, EN) == ("before 31/10/2027 (Sunday, a day off; actual deadline: "
                                          "Friday, 29/10/2027)")
    friday = Campaign(deadline=date(2026, 10, 30), deadline_kind="fixed_date")
    assert due_text(friday, date(2026, 10, 30), VI) == "trước ngày 30/10/2026"
    visit = Campaign(deadline=date(2026, 3, 1), deadline_kind="before_visit")
    assert due_text(visit, date(2026, 10, 19), VI) == "chậm nhất ngày 19/10/2026"
    assert due_text(visit, None, VI) == "theo lịch kiểm tra của từng đơn vị (chưa có lịch)"


# ----- in the database: migration, /taodot, /hannop, progress, the documents ---------------------

@pytest.fixture
def db(unmigrated_db: Database) -> Database:
    return unmigrated_db  # the migrations under test make the schema


async def test_migration_0007_gives_older_campaigns_their_default_period(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(upgrade, "0006")
        await connection.execute(sa.text(
            "INSERT INTO campaigns (code, title, outline_file, outline_id, outline_version, deadline_kind, "
            "deadline, settings, created_at) VALUES ('tu-kiem-tra-2027', 'Tự kiểm tra 2027', :file, "
            "'kstthc-2021', '2021.1', 'fixed_date', :deadline, '{}', :now)"),
            {"file": OUTLINE_FILE, "deadline": date(2027, 10, 31), "now": date(2027, 1, 4)})
    await db.upgrade()
    async with db.transaction() as session:
        campaign = await session.scalar(sa.select(Campaign))
        assert campaign is not None
        assert (campaign.period_start, campaign.period_end) == (date(2026, 12, 15), date(2027, 10, 14))
    async with db.engine.begin() as connection:  # and back down: the columns go
        await connection.run_sync(upgrade_to, "0006")
        columns = await connection.run_sync(
            lambda c: {col["name"] for col in sa.inspect(c).get_columns("campaigns")})
        assert "period_start" not in columns and "deadline" in columns


def upgrade_to(connection: sa.Connection, revision: str) -> None:
    from alembic import command as alembic

    from storage.migrate import alembic_config
    alembic.downgrade(alembic_config(connection), revision)


async def admin(db: Database, name: str, args: str, today: date = date(2027, 10, 1)) -> list[str]:
    async with db.transaction() as session:
        context = AdminContext(session=session, t=VI, calendar=CAL, today=today, outline_file=OUTLINE_FILE,
                               actor=Actor(0, "telegram"))
        return await run_admin_command(context, name, args)


async def test_the_vp_office_opens_a_campaign_with_its_period_and_every_place_shows_it(db: Database) -> None:
    await db.upgrade()
    async with db.transaction() as session:
        await seed_if_empty(session, Settings(_env_file=None),  # type: ignore[call-arg]
                            date(2026, 11, 2))  # due 31/10/2027
    # /taodot with the period written out, and without (the decree's default).
    created = await admin(db, "taodot",
                          "6-thang-2027 codinh 20/06/2027 15/12/2026-14/06/2027 Báo cáo 6 tháng")
    assert created == ["Đã tạo đợt báo cáo 6-thang-2027: Báo cáo 6 tháng. Kỳ báo cáo: từ ngày 15/12/2026 "
                       "đến ngày 14/06/2027. Hạn nộp: trước ngày 20/06/2027 (Chủ nhật, ngày nghỉ; hạn thực "
                       "tế: thứ Sáu, ngày 18/06/2027)."]
    refused = await admin(db, "taodot", "nguoc codinh 20/06/2027 14/06/2027-15/12/2026 Ngược")
    assert refused == ["⚠️ Kỳ báo cáo 14/06/2027-15/12/2026 không hợp lệ: ngày bắt đầu phải trước ngày kết "
                       "thúc."]
    no_title = await admin(db, "taodot", "khong-ten codinh 20/06/2027 15/12/2026-14/06/2027")
    assert no_title == ["⚠️ Vui lòng ghi tên đợt báo cáo sau ngày."]
    async with db.transaction() as session:
        codes = {c.code: c for c in await session.scalars(sa.select(Campaign))}
        assert set(codes) == {"tu-kiem-tra-2027", "6-thang-2027"}
        assert campaign_period(codes["tu-kiem-tra-2027"]) == Period(date(2026, 12, 15), date(2027, 10, 14))
        seeded = codes["tu-kiem-tra-2027"]

    # /hannop and the progress say the period and the one due date, worded alike.
    due = "trước ngày 31/10/2027 (Chủ nhật, ngày nghỉ; hạn thực tế: thứ Sáu, ngày 29/10/2027)"
    deadlines = await admin(db, "hannop", "tu-kiem-tra-2027")
    assert deadlines[0].splitlines()[0] == (
        "HẠN NỘP — Báo cáo tự kiểm tra hoạt động kiểm soát thủ tục hành chính năm 2027 "
        "(mã tu-kiem-tra-2027); "
        f"kỳ báo cáo: từ ngày 15/12/2026 đến ngày 14/10/2027; hạn nộp {due}:")
    async with db.transaction() as session:
        progress = overview_texts(await campaign_overview(session, seeded), VI, CAL)[0]
        assert "(Kỳ báo cáo: từ ngày 15/12/2026 đến ngày 14/10/2027), hạn nộp " + due + ":" in progress

        # The VP office's workbook and city summary name the period; the summary the due date too.
        exports = await campaign_exports(session, seeded, CAL, date(2027, 11, 2))
        files = {d.filename: d.content for d in exports}
    book = load_workbook(io.BytesIO(files["tong-hop-tu-kiem-tra-2027.xlsx"]))
    first_rows = [row[0].value for row in book["Tổng hợp"].iter_rows(max_row=3)]
    assert "Kỳ báo cáo: từ ngày 15/12/2026 đến ngày 14/10/2027" in first_rows
    assert book.properties.title.endswith("Kỳ báo cáo: từ ngày 15/12/2026 đến ngày 14/10/2027")
    city = docx.Document(io.BytesIO(files["bao-cao-tong-hop-tu-kiem-tra-2027.docx"]))
    summary = [p.text for p in city.paragraphs]
    assert "(Kỳ báo cáo: từ ngày 15/12/2026 đến ngày 14/10/2027)" in summary
    opening = next(t for t in summary if t.startswith("Thực hiện Kế hoạch số 20/KH-UBND"))
    assert f"(hạn nộp {due})" in opening
    assert "thủ tục hành chính từ ngày 15/12/2026 đến ngày 14/10/2027 như sau:" in opening


# ----- the officer's chat: the greeting and the figures counted within the period ----------------

def test_the_chat_greets_with_the_period_and_names_it_under_each_figure_of_the_period(
    tmp_path: Path, engine: ReportEngine
) -> None:
    """`kstthc-bot chat` on a drill's clock (20/10/2027): the seeded self-inspection campaign is
    due "trước ngày 31/10/2027", a Sunday, and covers 15/12/2026–14/10/2027."""
    script = script_for(engine, "commune")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KSTTHC_")}
    env.update(KSTTHC_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}", PYTHONUNBUFFERED="1",
               KSTTHC_NOW="2027-10-20T09:00:00+07:00")
    until_new = script.index("2.500") + 1  # up to 4.3.a answered: 4.3.b is asked next
    result = subprocess.run([*command(), "chat"], input="".join(f"{line}\n" for line in script[:until_new]),
                            capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, env=env,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert ("Đợt báo cáo: Báo cáo tự kiểm tra hoạt động kiểm soát thủ tục hành chính năm 2027. "
            "Kỳ báo cáo: từ ngày 15/12/2026 đến ngày 14/10/2027. Căn cứ: Đề cương kèm theo Kế hoạch số "
            "20/KH-UBND ngày 21/01/2021 của Ủy ban nhân dân thành phố Cần Thơ. Hạn nộp: trước ngày "
            "31/10/2027 (Chủ nhật, ngày nghỉ; hạn thực tế: thứ Sáu, ngày 29/10/2027).") in out
    prompts = re.split(r"\n(?=Mục \d+ · )", out)
    period = "📅 Kỳ báo cáo: từ ngày 15/12/2026 đến ngày 14/10/2027"
    numbered = ((re.search(r"\n(\d+\.\d+(?:\.\w)?)\. ", prompt), prompt) for prompt in prompts)
    by_number = {found.group(1): prompt for found, prompt in numbered if found}
    assert period in by_number["4.3.a"] and period in by_number["4.3.b"]  # dossiers of the period
    assert period not in by_number["3.1.c"]  # procedures in force: a state, not a count of the period


def test_the_engine_names_the_period_only_for_figures_of_the_period(engine: ReportEngine) -> None:
    state = State(answers={}, period=(date(2026, 12, 15), date(2027, 10, 14)))
    for name, shown in (("dossiers_total", True), ("feedback_total", True), ("inspections_count", True),
                        ("procedures_total", False), ("guidance_documents", False)):
        view = engine.view_at(state, name)
        assert isinstance(view, QuestionView)
        assert (view.period == state.period) is shown, name


# ----- the unit's report as a person reads it: LibreOffice's pages --------------------------------

def _office() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_office() is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice and pdftotext are needed (.ci/run installs LibreOffice)")
def test_the_printed_report_says_its_period_and_prints_a_dash_for_a_rate_of_nothing(
    engine: ReportEngine, tmp_path: Path
) -> None:
    """A commune that received and resolved no dossier at all: its printed report (LibreOffice →
    PDF, read as text page by page) names the period under the title and in the opening
    sentence, and prints "—" for the rates that did not arise."""
    state = engine.resume(State(answers={}, unit_level="commune")).state
    from engine.commands import parse_text
    for line in script_for(engine, "commune"):
        state = engine.step(state, parse_text(line)).state
    answers: dict[str, Answer] = dict(state.answers)
    for name in ("dossiers_total", "dossiers_new", "dossiers_carried_over", "dossiers_one_stop",
                 "dossiers_online", "dossiers_postal", "dossiers_on_time", "dossiers_late", "results_postal"):
        answers[name] = Answer.of(0)
    period = Period(date(2026, 12, 15), date(2027, 10, 14))
    report = UnitReport("31135", "Phường Ninh Kiều", "commune", None, "submitted", None, date(2027, 10, 29),
                        answers, engine.calculated(State(answers=answers, unit_level="commune")))
    info = ReportDocumentInfo.for_unit(report, on=date(2027, 10, 27),
                                       campaign_title="Báo cáo tự kiểm tra năm 2027", period=period)
    source = tmp_path / "bao-cao-ky-bao-cao.docx"
    source.write_bytes(build_report_docx(engine.outline, report, info, VI))
    office = _office()
    assert office is not None
    converted = subprocess.run(
        [office, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(source)], capture_output=True, text=True, timeout=120)
    pdf = source.with_suffix(".pdf")
    assert converted.returncode == 0 and pdf.exists(), converted.stdout + converted.stderr
    first = subprocess.run(["pdftotext", "-layout", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True,
                           text=True, check=True, timeout=60).stdout
    whole = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True,
                                    timeout=60).stdout.split())
    # Under the title, on the first page: which period the figures cover.
    assert "(Kỳ báo cáo: từ ngày 15/12/2026 đến ngày 14/10/2027)" in " ".join(first.split())
    assert ("Ủy ban nhân dân phường Ninh Kiều báo cáo tình hình, kết quả thực hiện hoạt động kiểm soát "
            "thủ tục hành chính từ ngày 15/12/2026 đến ngày 14/10/2027 như sau:") in whole
    # Rates of nothing: said in words in the figures table, never 0%.
    table = whole.split("Kết quả giải quyết thủ tục hành chính tại cơ quan", 1)[1].split(
        "Việc triển khai mẫu văn bản xin lỗi", 1)[0]
    assert table.count("Không phát sinh") == 4, table  # 4.3.g, l, o, p
    assert "0%" not in table
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(pdf, ARTIFACTS / pdf.name)
    if shutil.which("pdftoppm"):  # the pages to look at
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf),
                        str(ARTIFACTS / "bao-cao-ky-bao-cao-trang")], check=True, timeout=60)
