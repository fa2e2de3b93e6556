"""Outline versions: a campaign keeps the outline it was opened with, whatever becomes of the
outline file (asked, reviewed and rendered with its own version); existing databases keep the
current file for their campaigns; `kstthc-bot outline versions|export|import` from the VP
office's terminal, once through the installed command in a process of its own."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result
from docx import Document as read_docx
from openpyxl import load_workbook

from bot.config import get_settings
from deadlines.workdays import WorkingCalendar
from documents.outline_form_read import read_outline_form
from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.outline import Outline, default_outline_path, load_outline, text_checksum
from engine.views import QuestionView, State
from handlers.campaigns import create_campaign
from handlers.documents import unit_report_docx
from handlers.outline_versions import outline_of
from handlers.report import open_report, resume, submission_review, take_turn
from storage.database import Database
from storage.migrate import upgrade
from storage.models import Campaign, OutlineVersion, UnitLevel
from storage.officers import bind_identity
from storage.outline_versions import version_uses
from storage.reports import submission_for
from storage.units import UnitRecord, import_units, unit_by_code
from tests.commands import cli_in_process as cli
from tests.commands import command

VERSION = load_outline(default_outline_path()).meta.version  # the shipped outline's label

CAL = WorkingCalendar()
COMMUNE = "31120"  # Phường Cái Khế, from the seed
FIRST, CHANGED = "guidance_documents", "control_urging"  # the 1st and 2nd questions of section I.1
OLD_LABEL = "Tình hình đôn đốc, tổ chức thực hiện kiểm soát thủ tục hành chính"
NEW_LABEL = "Tình hình đôn đốc, kiểm tra việc thực hiện kiểm soát thủ tục hành chính (sửa năm 2027)"
REWORDED = "Việc ban hành văn bản hướng dẫn kiểm soát thủ tục hành chính (sửa năm 2030)"
NEW_QUESTION = ("    questions:\n      - name: digital_signatures\n        number: \"1.0\"\n"
                "        type: text\n        label: {vi: \"Việc sử dụng chữ ký số (câu mới)\",\n"
                "                en: \"Use of digital signatures (new)\"}\n")


def questions_asked(outline: Outline) -> int:
    """How many questions a commune's officer is told the report has ("câu 1/77")."""
    view = ReportEngine(outline).resume(State(answers={}, unit_level="commune")).view
    assert isinstance(view, QuestionView)
    return view.total


def edit_outline(path: Path) -> None:
    """Next year's edits: one question's label reworded, a question added at the top of I.1."""
    text = path.read_text(encoding="utf-8")
    assert text.count(OLD_LABEL) == 1
    text = text.replace(OLD_LABEL, NEW_LABEL).replace("    questions:\n", NEW_QUESTION, 1)
    path.write_text(text, encoding="utf-8")


async def test_a_campaign_keeps_asking_and_rendering_the_outline_it_was_opened_with(
        db: Database, tmp_path: Path) -> None:
    outline_file = tmp_path / "de-cuong.yaml"
    shutil.copy(default_outline_path(), outline_file)
    async with db.transaction() as session:
        await import_units(session, [UnitRecord("92", "Thành phố Cần Thơ", UnitLevel.PROVINCE),
                                     UnitRecord(COMMUNE, "Phường Cái Khế", UnitLevel.COMMUNE, "92")])
        old = await create_campaign(session, "dot-2026", "Tự kiểm tra 2026", "fixed_date",
                                    date(2026, 10, 30), str(outline_file))
        unit = await unit_by_code(session, COMMUNE)
        assert unit is not None
        officer = await bind_identity(session, unit, "telegram", "5001")
        report = await open_report(session, officer, unit, "telegram")
        assert report is not None
        await take_turn(session, report, parse_text("Quyết định số 12/QĐ-UBND"))  # answers FIRST

    edit_outline(outline_file)  # ... and the next campaign is opened with the edited file
    async with db.transaction() as session:
        new = await create_campaign(session, "dot-2027", "Tự kiểm tra 2027", "fixed_date",
                                    date(2027, 10, 29), str(outline_file))
        uses = await version_uses(session)
    assert [(use.label, use.campaigns) for use in uses] == [(VERSION, ["dot-2026"]),
                                                            (VERSION, ["dot-2027"])]
    assert uses[0].checksum != uses[1].checksum

    async with db.transaction() as session:  # the officer carries on with the open campaign
        report = await open_report(session, officer, unit, "telegram")
        assert report is not None and report.campaign.id == old.id
        outcome = await resume(session, report)
        submission = await submission_for(session, report.campaign, unit.id)
        review = await submission_review(session, submission.id)
        document = await unit_report_docx(session, submission.id, CAL, date(2026, 9, 1))
        newer = (await outline_of(session, await session.get_one(Campaign, new.id))).outline
    # Asked with the wording it was opened with, and without the question added since.
    assert isinstance(outcome.view, QuestionView)
    assert (outcome.view.question.name, outcome.view.question.label.vi) == (CHANGED, OLD_LABEL)
    assert (outcome.view.position, outcome.view.total) == (2, questions_asked(report.outline))
    assert questions_asked(newer) == outcome.view.total + 1
    assert not report.outline.has_question("digital_signatures")
    assert review is not None
    labels = [item.question.label.vi for _, items in review[1].sections for item in items]
    assert OLD_LABEL in labels and NEW_LABEL not in labels
    assert not any("chữ ký số" in label for label in labels)
    assert document is not None
    body = "\n".join(p.text for p in read_docx(io.BytesIO(document.content)).paragraphs)
    assert "Quyết định số 12/QĐ-UBND" in body
    assert NEW_LABEL not in body and "chữ ký số" not in body
    # The new campaign has the edits.
    assert newer.question(CHANGED).label.vi == NEW_LABEL and newer.has_question("digital_signatures")


async def test_migration_keeps_the_current_outline_file_for_existing_campaigns(
        database_url: tuple[str, str | None]) -> None:
    url, schema = database_url
    db = Database(url, schema=schema)
    try:
        async with db.engine.begin() as connection:
            await connection.run_sync(upgrade, "0007")
            await connection.execute(sa.text(
                "INSERT INTO campaigns (code, title, outline_file, outline_id, outline_version, "
                "deadline_kind, deadline, settings, created_at) VALUES (:code, 'Tự kiểm tra', "
                "'ke-hoach-20-2021.yaml', 'kstthc-2021', '2021.1', 'fixed_date', :deadline, '{}', :now)"),
                [{"code": code, "deadline": date(2027, 10, 31), "now": date(2027, 1, 4)}
                 for code in ("dot-a", "dot-b")])
        await db.upgrade()
        async with db.transaction() as session:
            versions = list(await session.scalars(sa.select(OutlineVersion)))
            campaigns = list(await session.scalars(sa.select(Campaign).order_by(Campaign.code)))
            engine = await outline_of(session, campaigns[0])
    finally:
        await db.close()
    text = default_outline_path().read_text(encoding="utf-8")
    assert [(v.label, v.outline_id, v.checksum, v.content) for v in versions] == [
        (VERSION, "kstthc-2021", text_checksum(text), text)]
    assert {c.outline_checksum for c in campaigns} == {text_checksum(text)}
    assert engine.outline.as_json() == load_outline(default_outline_path()).as_json()


# ----- from the VP office's terminal -------------------------------------------------------------


def ok(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


def edit_workbook(path: Path) -> None:
    """What the VP office does in the spreadsheet: reword a label, add a question row."""
    book = load_workbook(path)
    survey = book["survey"]
    headers = [cell.value for cell in survey[1]]
    column = {header: index for index, header in enumerate(headers, start=1)}
    rows = {survey.cell(r, column["name"]).value: r for r in range(2, survey.max_row + 1)}
    survey.cell(rows[FIRST], column["label::Vietnamese (vi)"]).value = REWORDED
    row = rows[CHANGED]
    survey.insert_rows(row)
    for header, value in {"type": "integer", "name": "digital_signatures", "number": "1.1.b",
                          "label::Vietnamese (vi)": "Số văn bản ký số (câu mới)",
                          "label::English (en)": "Documents signed digitally (new)",
                          "required": "no", "period": "yes"}.items():
        survey.cell(row, column[header]).value = value
    book.save(path)


def test_the_office_edits_the_outline_as_a_workbook_and_the_open_campaign_keeps_its_own(
        tmp_path: Path) -> None:
    outline_file = tmp_path / "de-cuong.yaml"
    shutil.copy(default_outline_path(), outline_file)
    env = {"KSTTHC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
           "KSTTHC_OUTLINE_FILE": str(outline_file)}
    workbook, edited = tmp_path / "de-cuong.xlsx", tmp_path / "de-cuong-2027.yaml"

    ok(cli(env, "outline", "versions"))  # the first command seeds the campaign of the file as it is
    exported = ok(cli(env, "outline", "export", str(workbook)))
    assert exported[0].startswith(f"{workbook}: kstthc-2021 {VERSION}")
    assert workbook.stat().st_mode & 0o777 == 0o600
    edit_workbook(workbook)
    assert ok(cli(env, "outline", "check", str(workbook)))[0].startswith(f"{workbook}: OK")
    ok(cli(env, "outline", "import", str(workbook), "--output", str(edited)))
    again = cli(env, "outline", "import", str(workbook), "--output", str(edited))
    assert again.exit_code == 1 and "--force" in again.output
    imported = load_outline(edited)
    assert imported.question(FIRST).label.vi == REWORDED
    assert imported.questions[1].name == "digital_signatures"  # where the row was put
    env["KSTTHC_OUTLINE_FILE"] = str(edited)
    ok(cli(env, "campaign", "create", "tu-kiem-tra-2030", "--title", "Tự kiểm tra 2030",
           "--deadline", "31/10/2030"))

    versions = ok(cli(env, "outline", "versions"))
    assert len(versions) == 2
    first, second = (line.split("\t") for line in versions)
    assert first[:2] == second[:2] == [VERSION, "kstthc-2021"]
    assert first[2] == text_checksum(default_outline_path().read_text(encoding="utf-8"))[:12]
    assert first[4].startswith("1 campaigns: tu-kiem-tra-20") and second[4] == "1 campaigns: tu-kiem-tra-2030"
    seeded = first[4].removeprefix("1 campaigns: ")
    ok(cli(env, "outline", "export", str(tmp_path / "cu.xlsx"), "--campaign", seeded))
    assert read_outline_form(tmp_path / "cu.xlsx").question(FIRST).label.vi != REWORDED  # its own

    # A process of its own (nothing cached): the officer's open campaign asks its own version.
    chat = subprocess.run([*command(), "chat", "--unit", COMMUNE], input="", capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env}, cwd=tmp_path, check=True)
    total = questions_asked(load_outline(default_outline_path()))
    assert total + 1 == questions_asked(imported)
    assert f"câu 1/{total}\n" in chat.stdout
    assert "1.1. Việc ban hành các văn bản hướng dẫn" in chat.stdout and REWORDED not in chat.stdout


@pytest.fixture(autouse=True)
def _fresh_settings() -> None:
    get_settings.cache_clear()
