"""Last period beside this one: where a unit handed in a report in the previous campaign of the
same kind, each figure question shows last period's value, the review shows both, and the
unit's .docx prints "cùng kỳ năm trước" with the change."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import docx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.config import Settings
from bot.seed import seed_if_empty
from deadlines.workdays import WorkingCalendar
from documents.report_docx import figure_row
from engine.answers import NONE_ANSWER, Answer
from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.figures import NOT_ARISING
from engine.views import QuestionView, ReviewItem, ReviewView
from handlers.campaigns import create_campaign
from handlers.documents import campaign_exports, unit_report_docx
from handlers.render import question_text, review_texts
from handlers.report import Report, open_report, take_turn
from locales.translation import translator
from storage.database import Database
from storage.models import Campaign, Submission
from storage.officers import bind_identity
from storage.previous import previous_answers, previous_campaign
from storage.reports import Actor, mark_submitted, save_answer, submission_for
from storage.units import first_commune, list_units
from tests.test_documents import summary_rows

VI = translator("vi")
CAL = WorkingCalendar()
OUTLINE_FILE = "ke-hoach-20-2021.yaml"
LAST_YEAR = {"dossiers_total": 2000, "dossiers_new": 1800, "dossiers_carried_over": 200,
             "dossiers_postal": 90}



async def say(db: Database, report: Report, line: str) -> object:
    async with db.transaction() as session:
        outcome = await take_turn(session, report, parse_text(line))
    assert outcome is not None
    return outcome


async def test_last_periods_figures_stand_beside_this_periods(db: Database, engine: ReportEngine) -> None:
    async with db.transaction() as session:
        await seed_if_empty(session, Settings(_env_file=None),  # type: ignore[call-arg]
                            date(2026, 11, 2))  # due 31/10/2027
        last = await create_campaign(session, "tu-kiem-tra-2026", "Tự kiểm tra năm 2026", "fixed_date",
                                     date(2026, 10, 31), OUTLINE_FILE)
        unit = await first_commune(session)
        assert unit is not None
        officer = await bind_identity(session, unit, "telegram", "9001")
        # Last year's report, handed in.
        submission = await submission_for(session, last, unit.id)
        for name, value in LAST_YEAR.items():
            await save_answer(session, submission, engine.outline, name, Answer.of(value),
                              Actor(officer.id, "t"))
        await save_answer(session, submission, engine.outline, "dossiers_one_stop", NONE_ANSWER,
                          Actor(officer.id, "t"))
        await mark_submitted(session, submission, Actor(officer.id, "t"))
    async with db.transaction() as session:
        report = await open_report(session, officer, unit, "telegram")
        assert report is not None and report.campaign.code == "tu-kiem-tra-2027"
        earlier = await previous_campaign(session, report.campaign)
        assert earlier is not None and earlier.code == "tu-kiem-tra-2026"
        assert (await previous_answers(session, report.campaign, unit.id, engine.outline))["dossiers_total"] \
            == Answer.of(2000)

    # Each figure question shows last period's value.
    outcome = await say(db, report, "mục lục 4.3.a")
    view = outcome.view  # type: ignore[attr-defined]
    assert isinstance(view, QuestionView) and view.question.name == "dossiers_total"
    assert "📊 Kỳ trước: 2.000" in question_text(view, VI)
    for line in ("2.500", "2.000", "500"):
        outcome = await say(db, report, line)
    view = outcome.view  # type: ignore[attr-defined]
    assert view.question.name == "dossiers_one_stop"
    assert "📊 Kỳ trước: 0" in question_text(view, VI)  # "không có" last year: nothing, 0
    for line in ("0", "0", "150"):
        outcome = await say(db, report, line)
    text = question_text(outcome.view, VI)  # type: ignore[attr-defined]
    assert "Kỳ trước" not in text  # 4.3.h: nothing last year

    # The review shows both, rates too.
    review = (await say(db, report, "xem")).view  # type: ignore[attr-defined]
    assert isinstance(review, ReviewView)
    shown = "\n".join(review_texts(replace(review, summary=False), VI))  # in full, as "xem 4" shows it
    assert "4.3.a. " in shown and ": 2.500 · kỳ trước: 2.000" in shown
    assert ": 7,5% (tự tính) · kỳ trước: 5,0%" in shown  # 150 of 2.000 new, against 90 of 1.800

    # Đề cương II's comparison: the figures beside last period's, with the question and drafted
    # in the report.
    comparing = (await say(db, report, "mục lục II.1.b")).view  # type: ignore[attr-defined]
    assert isinstance(comparing, QuestionView) and comparing.question.name == "comparison_previous_year"
    text = question_text(comparing, VI)
    assert "📝 Số liệu kỳ này so với kỳ trước, để anh/chị tham khảo khi viết:" in text
    assert "  • 4.3.a: 2.500 (kỳ trước: 2.000)" in text and "  • 4.3.g: 7,5% (kỳ trước: 5,0%)" in text
    await say(db, report, "Hiệu quả hơn cùng kỳ.")

    # The unit's report prints this period, last period and the change.
    async with db.transaction() as session:
        submission_id = (await submission_for(session, report.campaign, unit.id)).id
        document = await unit_report_docx(session, submission_id, CAL, date(2027, 10, 20))
    assert document is not None
    printed = docx.Document(io.BytesIO(document.content))
    # Figures as tables: chỉ tiêu / kỳ này / kỳ trước / tăng, giảm.
    rows = {cells[0]: cells[1:] for table in printed.tables[1:-1]
            for cells in ([cell.text for cell in row.cells] for row in table.rows)}

    def row_of(name: str) -> list[str]:
        return rows[" ".join(engine.outline.question(name).label.vi.split())]

    assert rows["Chỉ tiêu"] == ["Kỳ này", "Kỳ trước", "Tăng, giảm"]
    assert row_of("dossiers_total") == ["2.500", "2.000", "tăng 25,0%"]
    assert row_of("dossiers_new") == ["2.000", "1.800", "tăng 11,1%"]
    assert row_of("dossiers_carried_over") == ["500", "200", "tăng 150,0%"]
    assert row_of("dossiers_postal_rate") == ["7,5%", "5,0%", "tăng 2,5 điểm phần trăm"]
    assert row_of("dossiers_one_stop") == ["0", "0", "không thay đổi"]  # "không có" last year: 0
    # Not answered yet: not in the tables (listed once at the end instead).
    assert " ".join(engine.outline.question("dossiers_on_time").label.vi.split()) not in rows
    # The comparison item is the officer's own text; the tables carry the figures beside last year's.
    texts = [p.text for p in printed.paragraphs]
    assert any(t.endswith(": Hiệu quả hơn cùng kỳ.") for t in texts)
    assert not [t for t in texts if "mục 4.3" in t]


async def test_a_draft_or_another_kind_of_campaign_is_no_ones_last_period(
    db: Database, engine: ReportEngine
) -> None:
    async with db.transaction() as session:
        await seed_if_empty(session, Settings(_env_file=None), date(2026, 11, 2))  # type: ignore[call-arg]
        draft = await create_campaign(session, "tu-kiem-tra-2026", "Tự kiểm tra năm 2026", "fixed_date",
                                      date(2026, 10, 31), OUTLINE_FILE)
        await create_campaign(session, "kiem-tra-2026", "Kiểm tra năm 2026", "before_visit",
                              date(2026, 3, 1), OUTLINE_FILE)
        unit = await first_commune(session)
        assert unit is not None
        officer = await bind_identity(session, unit, "telegram", "9002")
        submission = await submission_for(session, draft, unit.id)
        await save_answer(session, submission, engine.outline, "dossiers_total", Answer.of(10),
                          Actor(officer.id, "t"))
        this_year = await session.scalar(select(Campaign).where(Campaign.code == "tu-kiem-tra-2027"))
        assert this_year is not None
        assert (await previous_campaign(session, this_year)).code == "tu-kiem-tra-2026"  # type: ignore[union-attr]
        assert await previous_answers(session, this_year, unit.id, engine.outline) == {}  # a draft
        assert (await session.get(Submission, submission.id)) is not None


@pytest.mark.parametrize(("name", "now", "before", "said"), [
    ("dossiers_total", 1500, 2000, ["1.500", "2.000", "giảm 25,0%"]),
    ("dossiers_total", 2000, 2000, ["2.000", "2.000", "không thay đổi"]),
    ("dossiers_total", 30, 0, ["30", "0", "tăng 30"]),
])
def test_the_change_is_said_as_a_clerk_writes_it(engine: ReportEngine, name: str, now: int, before: int,
                                                 said: list[str]) -> None:
    """A row of the report's figures table: kỳ này / kỳ trước / tăng, giảm."""
    item = ReviewItem(engine.outline.question(name), Answer.of(now), None, before)
    assert figure_row(item, VI)[1:] == said


def test_a_rate_that_did_not_arise_is_compared_with_nothing(engine: ReportEngine) -> None:
    from decimal import Decimal
    rate = engine.outline.question("dossiers_postal_rate")
    nothing = "Không phát sinh"
    assert figure_row(ReviewItem(rate, None, Decimal("5"), NOT_ARISING), VI)[1:] == ["5,0%", nothing, "—"]
    assert figure_row(ReviewItem(rate, None, NOT_ARISING, Decimal("5")), VI)[1:] == [nothing, "5,0%", "—"]
    assert figure_row(ReviewItem(rate, None, Decimal("4"), Decimal("5")), VI)[1:] == \
        ["4,0%", "5,0%", "giảm 1,0 điểm phần trăm"]


async def test_the_city_summary_and_the_workbook_set_this_periods_totals_beside_last_periods(
    db: Database, engine: ReportEngine
) -> None:
    """Two wards handed in last year (2.000 and 1.000 dossiers, 1.800 and 700 new, 90 and 35 by
    post); this year one of them reports 2.500 dossiers, 2.000 new, 150 by post. The VP office's
    workbook and city summary set the city's totals beside last year's."""
    async with db.transaction() as session:
        await seed_if_empty(session, Settings(_env_file=None), date(2026, 11, 2))  # type: ignore[call-arg]
        last = await create_campaign(session, "tu-kiem-tra-2026", "Tự kiểm tra năm 2026", "fixed_date",
                                     date(2026, 10, 31), OUTLINE_FILE)
        this_year = await session.scalar(select(Campaign).where(Campaign.code == "tu-kiem-tra-2027"))
        assert this_year is not None
        first = await first_commune(session)
        assert first is not None
        officer = await bind_identity(session, first, "telegram", "9003")
        actor = Actor(officer.id, "t")
        others = [u for u in await list_units(session) if u.level == "commune" and u.id != first.id]
        second = others[0]

        async def hand_in(campaign: Campaign, unit_id: int, figures: dict[str, int]) -> None:
            submission = await submission_for(session, campaign, unit_id)
            for name, value in figures.items():
                await save_answer(session, submission, engine.outline, name, Answer.of(value), actor)
            await mark_submitted(session, submission, actor)

        await hand_in(last, first.id, LAST_YEAR)
        await hand_in(last, second.id, {"dossiers_total": 1000, "dossiers_new": 700,
                                        "dossiers_carried_over": 300, "dossiers_postal": 35})
        await hand_in(this_year, first.id, {"dossiers_total": 2500, "dossiers_new": 2000,
                                            "dossiers_carried_over": 500, "dossiers_postal": 150})
        exports = await campaign_exports(session, this_year, CAL, date(2027, 11, 2))
        files = {d.filename: d.content for d in exports}
        codes = (first.code, second.code)

    # Each unit's own last-period figure beside this period's, in "Trả lời".
    answers = load_workbook(io.BytesIO(files["tong-hop-tu-kiem-tra-2027.xlsx"]))["Trả lời"]
    numbers = [cell.value for cell in answers[1]]
    now, before = numbers.index("4.3.a"), numbers.index("4.3.a (kỳ trước)")
    assert before == now + 1
    by_unit = {row[0].value: (row[now].value, row[before].value) for row in answers.iter_rows(min_row=3)}
    assert by_unit[codes[0]] == (2500, 2000) and by_unit[codes[1]] == (None, 1000)
    sheet = load_workbook(io.BytesIO(files["tong-hop-tu-kiem-tra-2027.xlsx"]))["Tổng hợp"]
    rows = {row[0].value: [c.value for c in row] for row in sheet.iter_rows() if row and row[0].value}
    assert rows["Số"][5:7] == ["Cùng kỳ năm trước",
                               "Tăng, giảm so với cùng kỳ (%; tỷ lệ: điểm phần trăm)"]
    # Shares as real percentages (0.0%): 16,7% less, 7,5% of 2.000 new beside 5,0%; points for a rate.
    assert rows["4.3.a"][2] == 2500 and rows["4.3.a"][5:7] == [3000, pytest.approx(-0.167)]
    assert rows["4.3.g"][2] == pytest.approx(0.075)  # 150 of 2.000 new
    assert rows["4.3.g"][5] == pytest.approx(0.05)  # 125 of 2.500
    assert rows["4.3.g"][6] == pytest.approx(2.5)  # percentage points
    city = docx.Document(io.BytesIO(files["bao-cao-tong-hop-tu-kiem-tra-2027.docx"]))
    # The figures as a table: chỉ tiêu / kỳ này / kỳ trước / tăng, giảm / units reporting.
    figures = {name: row[1:] for name, row in summary_rows(city, engine.outline).items()}
    assert figures["dossiers_total"] == ["2.500", "3.000", "giảm 16,7%", "1"]
    assert figures["dossiers_postal_rate"] == ["7,5%", "5,0%", "tăng 2,5 điểm phần trăm", ""]
