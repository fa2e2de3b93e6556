"""Reports on inspection conclusions item by item (issue 15): the VP office records what each item
of a unit's conclusion required (`kstthc-bot campaign conclusion-items`), the officer answers each
in the chat (`kstthc-bot chat`, a real subprocess), and the unit's .docx reports each item."""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import docx
import pytest

from bot.config import Settings, get_settings
from bot.seed import seed_if_empty
from bot.telegram.render import Act, question_keyboard, view_messages
from deadlines.workdays import WorkingCalendar
from engine.answers import Answer
from engine.conclusion_items import measures_name, status_name, with_conclusion_items
from engine.conversation import ReportEngine
from engine.outline import load_outline
from engine.views import Action, Outcome, QuestionView, State, Turn
from handlers.campaigns import create_campaign, outline_for, record_conclusion_items, set_conclusion
from handlers.documents import report_of, unit_report_docx
from handlers.render import question_text
from handlers.report import Report, take_turn
from locales.translation import translator
from storage.database import Database
from storage.models import UnitLevel
from storage.reports import mark_submitted, submission_for
from storage.units import list_units
from tests.commands import cli_in_process as cli
from tests.commands import output_lines as lines
from tests.conftest import REPO
from tests.test_console_chat import run_chat
from tests.test_storage import asking, officer_report, say, stored_answers

COMMUNE = "31120"  # Phường Cái Khế, from the seed
ITEMS = ("Niêm yết công khai đầy đủ thủ tục hành chính tại Bộ phận Một cửa",
         "Xin lỗi người dân đối với hồ sơ giải quyết quá hạn")
VI = translator("vi")
MEASURES_1 = "Niêm yết lại 45 thủ tục tại Bộ phận Một cửa (Biên bản ngày 03/12/2026)"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    values = {"KSTTHC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'chat.sqlite3'}"}
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()


def test_each_item_is_asked_after_the_counts_citing_its_requirement() -> None:
    outline = load_outline(REPO / "outlines" / "khac-phuc-ket-luan-kiem-tra-2021.yaml")
    assert with_conclusion_items(outline, ()) is outline
    expanded = with_conclusion_items(outline, ITEMS)
    names = [q.name for q in expanded.questions]
    assert names[names.index("remaining_items") + 1:] == [
        "item_1_status", "item_1_measures", "item_2_status", "item_2_measures", "remediation_recommendations"]
    status = expanded.question(status_name(2))
    assert ITEMS[1] in status.label.vi and [c.label.vi for c in status.choices] == [
        "Đã khắc phục", "Đang khắc phục", "Chưa khắc phục"]
    assert ITEMS[0] in (expanded.question(measures_name(1)).hint or status.label).vi
    assert not outline.has_question("item_1_status")  # the campaign's own outline is untouched
    engine = ReportEngine(expanded)
    assert {q.name for q in engine.relevant_questions(State(answers={}, unit_level="commune"))} >= {
        "item_1_status", "item_2_measures"}
    # 2.1.a (the items the conclusion requires) is checked against the items recorded: told, not refused.
    told = engine.warnings(State(answers={"conclusion_items_total": Answer.of(3)}))
    assert [n.message.render(VI) for n in told] == [
        "Văn phòng UBND thành phố đã ghi 2 nội dung của Kết luận kiểm tra đối với đơn vị, khác số nội "
        "dung anh/chị báo cáo tại mục 2.1.a (3). Vui lòng kiểm tra lại số liệu hoặc liên hệ Văn phòng "
        "UBND thành phố."]
    assert engine.warnings(State(answers={"conclusion_items_total": Answer.of(2)})) == ()
    assert ReportEngine(outline).warnings(State(answers={"conclusion_items_total": Answer.of(3)})) == ()


def test_recorded_items_are_answered_in_the_chat_and_reported_in_the_docx(
    env: dict[str, str], tmp_path: Path
) -> None:
    lines(cli(env, "campaign", "create", "khac-phuc", "--title", "Báo cáo khắc phục", "--kind",
              "after_conclusion"))
    lines(cli(env, "campaign", "conclusion", "khac-phuc", COMMUNE, "01/12/2026"))
    assert lines(cli(env, "campaign", "conclusion-items", "khac-phuc", COMMUNE)) == [
        f"no conclusion items recorded for {COMMUNE} in khac-phuc"]
    assert lines(cli(env, "campaign", "conclusion-items", "khac-phuc", COMMUNE, *ITEMS)) == [
        f"1\t{ITEMS[0]}", f"2\t{ITEMS[1]}"]
    assert lines(cli(env, "campaign", "conclusion-items", "khac-phuc", COMMUNE)) == [
        f"1\t{ITEMS[0]}", f"2\t{ITEMS[1]}"]
    # Bad input is refused and loses nothing recorded.
    blank = cli(env, "campaign", "conclusion-items", "khac-phuc", COMMUNE, "  ")
    assert blank.exit_code == 2 and "blank" in blank.output
    lines(cli(env, "campaign", "create", "co-dinh", "--title", "x", "--deadline", "31/12/2027"))
    wrong_kind = cli(env, "campaign", "conclusion-items", "co-dinh", COMMUNE, "x")
    assert wrong_kind.exit_code == 1 and "after_conclusion" in wrong_kind.output
    assert len(lines(cli(env, "campaign", "conclusion-items", "khac-phuc", COMMUNE))) == 2

    chat = run_chat(tmp_path, [
        "Kết luận số 12/KL-VPUB ngày 25/11/2026, nhận ngày 01/12/2026", "2", "1", "1",
        "Đã niêm yết lại; đang tổ chức xin lỗi", "không", "Hoàn thành việc xin lỗi trước 31/12/2026",
        "1", MEASURES_1,
        "Đang khắc phục", "Đã gửi 3 thư xin lỗi, còn 2 hồ sơ", "không có",
        "nộp", "xác nhận"], "--unit", COMMUNE)
    assert chat.returncode == 0, chat.stderr
    # Each item is asked citing what the conclusion required.
    assert f"Nội dung kết luận số 1: “{ITEMS[0]}”" in chat.stdout
    assert f"Nội dung kết luận số 2: “{ITEMS[1]}”" in chat.stdout
    with sqlite3.connect(tmp_path / "chat.sqlite3") as connection:
        saved = dict(connection.execute("select question, value from answers where question like 'item_%'"))
        status = connection.execute("select s.status from submissions s join campaigns c on c.id = "
                                    "s.campaign_id where c.code = 'khac-phuc'").fetchall()
    assert set(saved) == {"item_1_status", "item_1_measures", "item_2_status", "item_2_measures"}
    assert status == [("submitted",)], chat.stdout[-2000:]

    lines(cli(env, "documents", "report", "khac-phuc", COMMUNE, "--out", str(tmp_path / "out")))
    written = tmp_path / "out" / f"bao-cao-{COMMUNE}-khac-phuc.docx"
    document = docx.Document(io.BytesIO(written.read_bytes()))
    headings = [" ".join(p.text.split()) for p in document.paragraphs]
    assert "5. Kết quả thực hiện từng nội dung kết luận" in headings
    # Item by item, in one table: STT / what the conclusion required / result / measures taken.
    table = next(t for t in document.tables if t.rows[0].cells[0].text == "STT")
    assert [[" ".join(c.text.split()) for c in row.cells] for row in table.rows] == [
        ["STT", "Nội dung Kết luận kiểm tra yêu cầu", "Kết quả thực hiện", "Biện pháp đã thực hiện"],
        ["1", ITEMS[0], "Đã khắc phục", MEASURES_1],
        ["2", ITEMS[1], "Đang khắc phục", "Đã gửi 3 thư xin lỗi, còn 2 hồ sơ"]]
    # As printed (LibreOffice to PDF, pdftotext): every item's requirement beside its result.
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None or not shutil.which("pdftotext"):
        pytest.skip("LibreOffice (soffice) and poppler-utils are needed; .ci/run installs them")
    converted = subprocess.run(
        [office, f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path / "pdf"), str(written)], capture_output=True, text=True, timeout=180)
    assert converted.returncode == 0, converted.stdout + converted.stderr
    printed = subprocess.run(["pdftotext", str(tmp_path / "pdf" / written.with_suffix(".pdf").name), "-"],
                             capture_output=True, text=True, check=True, timeout=60).stdout
    words = " ".join(printed.split())
    assert "STT" in words.split() and "Đang khắc phục" in words  # neither broken across lines
    for requirement, result in zip(ITEMS, ("Đã khắc phục", "Đang khắc phục"), strict=True):
        assert " ".join(requirement.split()[:4]) in words
        assert words.index(" ".join(requirement.split()[:4])) < words.index(result)
    assert "Đã gửi 3 thư xin lỗi, còn 2 hồ sơ" in words


async def test_items_are_the_units_own_and_survive_being_recorded_again(db: Database) -> None:
    """On SQLite and PostgreSQL: only the unit whose items are recorded is asked them; recording
    them again keeps the answers given to the items that keep their number; its .docx lists them."""
    async with db.transaction() as session:
        await seed_if_empty(session, Settings(_env_file=None), date(2026, 11, 1))  # type: ignore[call-arg]
        campaign = await create_campaign(session, "khac-phuc", "Báo cáo khắc phục", "after_conclusion",
                                         date(2026, 12, 1), outline_for("after_conclusion", ""))
        first, second = (await list_units(session, UnitLevel.COMMUNE))[:2]
        for unit in (first, second):
            await set_conclusion(session, campaign, unit, date(2026, 12, 1))
        await record_conclusion_items(session, campaign, first, ITEMS)
        unit, codes = first, (first.code, second.code)
    other = await officer_report(db, codes[1], "console", "other")
    assert not other.outline.has_question("item_1_status")
    report = await officer_report(db, codes[0], "console", "local")
    assert report.campaign.code == "khac-phuc"
    assert asking(await say(db, report, "mục lục 2.5.2.a")) == "item_2_status"
    assert list((await say(db, report, "Chưa khắc phục")).saved) == ["item_2_status"]
    assert list((await say(db, report, "Chờ kinh phí năm 2027")).saved) == ["item_2_measures"]
    async with db.transaction() as session:
        await record_conclusion_items(session, campaign, unit, [*ITEMS, "Rà soát quy trình nội bộ"])
    report = await officer_report(db, codes[0], "console", "local")
    assert report.outline.has_question("item_3_status")
    kept = await stored_answers(db, report)
    assert kept["item_2_status"].value == "not_started"
    assert kept["item_2_measures"].value == "Chờ kinh phí năm 2027"
    async with db.transaction() as session:
        submission = await report_of(session, campaign.id, unit.id)
        assert submission is not None
        made = await unit_report_docx(session, submission, WorkingCalendar(), date(2026, 12, 10))
    assert made is not None
    tables = docx.Document(io.BytesIO(made.content)).tables
    table = next(t for t in tables if t.rows[0].cells[0].text == "STT")
    assert [[c.text for c in row.cells] for row in table.rows[1:]] == [
        ["1", ITEMS[0], "Chưa báo cáo", "Chưa báo cáo"],
        ["2", ITEMS[1], "Chưa khắc phục", "Chờ kinh phí năm 2027"],
        ["3", "Rà soát quy trình nội bộ", "Chưa báo cáo", "Chưa báo cáo"]]


async def remediation_handed_in(db: Database) -> tuple[str, str, str]:
    """A remediation report handed in with its items and one with its counts only, and the
    self-inspection after it: the codes of those two units and of one that handed in none."""
    async with db.transaction() as session:
        await seed_if_empty(session, Settings(_env_file=None), date(2026, 11, 1))  # type: ignore[call-arg]
        remediation = await create_campaign(session, "khac-phuc", "Báo cáo khắc phục", "after_conclusion",
                                            date(2026, 12, 1), outline_for("after_conclusion", ""))
        with_items, by_counts, without = (await list_units(session, UnitLevel.COMMUNE))[:3]
        for unit in (with_items, by_counts):
            await set_conclusion(session, remediation, unit, date(2026, 12, 1))
        await record_conclusion_items(session, remediation, with_items, ITEMS)
        codes = (with_items.code, by_counts.code, without.code)
    itemised = await officer_report(db, codes[0], "console", "items")
    for line in ("mục lục 2.5.1.a", "Đã khắc phục", MEASURES_1, "Đang khắc phục", "Đã gửi 3 thư xin lỗi"):
        await say(db, itemised, line)
    counted = await officer_report(db, codes[1], "console", "counts")
    for line in ("mục lục 2.1.a", "3", "2", "1"):
        await say(db, counted, line)
    async with db.transaction() as session:  # handed in (what "nộp", "xác nhận" do once all is answered)
        for report in (itemised, counted):
            await mark_submitted(session, await submission_for(session, report.campaign, report.unit.id),
                                 report.actor)
        plan = outline_for("fixed_date", Settings(_env_file=None).outline_file)  # type: ignore[call-arg]
        await create_campaign(session, "tu-kiem-tra", "Tự kiểm tra", "fixed_date", date(2027, 10, 31), plan)

    return codes


async def test_the_next_inspection_drafts_its_follow_up_from_the_remediation_report(db: Database) -> None:
    """Issue 15: 11.1 (follow-up of the last inspection) of the next self-inspection report shows
    a draft of the unit's handed-in remediation report, item by item or by its counts; "đồng ý"
    saves it. A unit that handed in no remediation report is asked the plain question."""
    codes = await remediation_handed_in(db)

    def shown_at_followup(outcome: Outcome) -> str:
        assert asking(outcome) == "prior_inspection_followup"
        assert isinstance(outcome.view, QuestionView)
        return question_text(outcome.view, VI)

    report = await officer_report(db, codes[0], "console", "items")
    assert report.campaign.code == "tu-kiem-tra"
    text = shown_at_followup(await say(db, report, "mục lục 11.1"))
    assert "Dự thảo từ báo cáo khắc phục đơn vị đã nộp:" in text and "Gõ “đồng ý”" in text
    assert f"1. {ITEMS[0]} — Đã khắc phục — {MEASURES_1}" in text
    assert f"2. {ITEMS[1]} — Đang khắc phục — Đã gửi 3 thư xin lỗi" in text
    saved = (await say(db, report, "Đồng ý")).saved["prior_inspection_followup"].value
    assert saved.startswith("Kết quả thực hiện Kết luận kiểm tra") and MEASURES_1 in saved
    assert (await stored_answers(db, report))["prior_inspection_followup"].value == saved
    # Answered, it is no longer offered: going back shows the answer, not the draft.
    assert "Dự thảo" not in shown_at_followup(await say(db, report, "mục lục 11.1"))

    report = await officer_report(db, codes[1], "console", "counts")
    text = shown_at_followup(await say(db, report, "mục lục 11.1"))
    assert "Tổng số nội dung Kết luận kiểm tra yêu cầu: 3; đã khắc phục: 2; đang khắc phục: 1." in text
    own = "Đã khắc phục 2/3 nội dung; nội dung còn lại hoàn thành trong quý I/2027"
    assert (await say(db, report, own)).saved["prior_inspection_followup"].value == own  # their own text

    report = await officer_report(db, codes[2], "console", "none")
    text = shown_at_followup(await say(db, report, "mục lục 11.1"))
    assert "Dự thảo" not in text and "đồng ý" not in text
    assert (await say(db, report, "đồng ý")).saved["prior_inspection_followup"].value == "đồng ý"


async def test_on_telegram_the_draft_is_taken_by_its_button_shown_only_while_there_is_one(
        db: Database) -> None:
    """Telegram shows 11.1's draft with a "Dùng dự thảo" button that saves it; once 11.1 is
    answered there is no button, and an old one pressed again changes nothing."""
    codes = await remediation_handed_in(db)
    report = await officer_report(db, codes[0], "telegram", "items")
    shown = await say(db, report, "mục lục 11.1")
    assert isinstance(shown.view, QuestionView) and shown.view.draft is not None
    sent = view_messages(shown.view, VI)[-1]  # what the chat shows: the question and its buttons
    assert "Dự thảo từ báo cáo khắc phục đơn vị đã nộp:" in sent.text and sent.keyboard is not None
    first_row = sent.keyboard.inline_keyboard[0]
    assert [b.text for b in first_row] == ["📋 Dùng dự thảo"]
    assert question_keyboard(shown.view, translator("en")).inline_keyboard[0][0].text == "📋 Use the draft"
    pressed = Act.unpack(first_row[0].callback_data or "")
    saved = (await press(db, report, pressed)).saved["prior_inspection_followup"].value
    assert saved.startswith("Kết quả thực hiện Kết luận kiểm tra") and MEASURES_1 in saved
    assert (await stored_answers(db, report))["prior_inspection_followup"].value == saved

    again = await say(db, report, "mục lục 11.1")
    assert isinstance(again.view, QuestionView) and again.view.draft is None
    assert all(b.text != "📋 Dùng dự thảo" for row in question_keyboard(again.view, VI).inline_keyboard
               for b in row)
    assert (await press(db, report, pressed)).saved == {}
    assert (await stored_answers(db, report))["prior_inspection_followup"].value == saved

    # A unit with no remediation report handed in: no draft, no button, and the press saves nothing.
    plain = await officer_report(db, codes[2], "telegram", "none")
    shown = await say(db, plain, "mục lục 11.1")
    assert isinstance(shown.view, QuestionView) and shown.view.draft is None
    assert (await press(db, plain, pressed)).saved == {}


async def press(db: Database, report: Report, button: Act) -> Outcome:
    """A Telegram action button pressed, in its own transaction, as the channel applies it."""
    async with db.transaction() as session:
        outcome = await take_turn(session, report, Turn(Action(button.act)), on_question=button.q or None)
    assert outcome is not None
    return outcome
