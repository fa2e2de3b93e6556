"""`kstthc-bot figures import`: last year's figures per unit from a workbook laid out like the
consolidated .xlsx. Round trip: export one year's workbook, import it as the previous campaign,
and this year's report shows those figures as last period's; a faulty file names the row, the
unit and the column of every fault, and imports nothing."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.cli import main
from bot.config import Settings, get_settings
from bot.seed import seed_if_empty
from documents import UnitReport, build_workbook
from documents.figures_file import FiguresFileError, UnitFigures, read_figures
from engine.answers import NONE_ANSWER, Answer, AnswerKind
from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.outline import load_outline
from engine.views import State
from handlers.campaigns import create_campaign
from handlers.figures import import_figures
from locales.translation import translator
from storage.database import Database
from storage.models import AnswerRow, Campaign, Submission
from storage.previous import previous_answers
from storage.units import list_units
from tests.conftest import REPO
from tests.scripted_officer import script_for

OUTLINE_FILE = "ke-hoach-20-2021.yaml"
EN = translator("en")


def scripted_answers(engine: ReportEngine) -> dict[str, Answer]:
    state = engine.resume(State(answers={}, unit_level="commune")).state
    for line in script_for(engine, "commune"):
        state = engine.step(state, parse_text(line)).state
    return dict(state.answers)


def exported(engine: ReportEngine, units: list[tuple[str, str]]
             ) -> tuple[bytes, dict[str, dict[str, Answer]]]:
    """Last year's consolidated workbook of these units (code, name), as the VP office exported
    it, and each unit's answers."""
    base = scripted_answers(engine)
    answers: dict[str, dict[str, Answer]] = {}
    reports = []
    for index, (code, name) in enumerate(units):
        own = {n: Answer.of(a.value * (index + 1)) if a.kind is AnswerKind.VALUE
               and engine.outline.question(n).type == "integer" else a for n, a in base.items()}
        if index == 1:
            own["dossiers_postal"] = own["results_postal"] = NONE_ANSWER
        answers[code] = own
        reports.append(UnitReport(code, name, "commune", None, "accepted",
                                  datetime(2026, 10, 20, 2, 0, tzinfo=UTC), date(2026, 10, 30), own,
                                  engine.calculated(State(answers=own, unit_level="commune"))))
    return build_workbook(engine.outline, reports, today=date(2026, 11, 2)), answers


def figures_of(engine: ReportEngine, answers: dict[str, Answer]) -> dict[str, Answer]:
    return {name: answer for name, answer in answers.items()
            if engine.outline.question(name).type in ("integer", "decimal", "percent")}



async def test_last_years_export_imported_is_this_years_last_period(
    db: Database, engine: ReportEngine
) -> None:
    async with db.transaction() as session:
        await seed_if_empty(session, Settings(_env_file=None),  # type: ignore[call-arg]
                            date(2026, 11, 2))  # tu-kiem-tra-2027
        last = await create_campaign(session, "tu-kiem-tra-2026", "Tự kiểm tra năm 2026", "fixed_date",
                                     date(2026, 10, 31), OUTLINE_FILE)
        communes = sorted(await list_units(session), key=lambda unit: unit.code)[:3]
        this_year = await session.scalar(select(Campaign).where(Campaign.code == "tu-kiem-tra-2027"))
        assert this_year is not None
    data, answers = exported(engine, [(unit.code, unit.name) for unit in communes])

    units = read_figures(engine.outline, data, EN)
    assert [u.code for u in units] == [unit.code for unit in communes]
    async with db.transaction() as session:
        assert await import_figures(session, last, units) == 3
    async with db.transaction() as session:
        for unit in communes:
            assert await previous_answers(session, this_year, unit.id, engine.outline) == \
                figures_of(engine, answers[unit.code]), unit.code
        statuses = set(await session.scalars(
            select(Submission.status).where(Submission.campaign_id == last.id)))
        assert statuses == {"accepted"}
    # Imported again (a corrected file): the same figures, not twice.
    async with db.transaction() as session:
        assert await import_figures(session, last, read_figures(engine.outline, data, EN)) == 3
        rows = await session.scalar(select(func.count()).select_from(AnswerRow)
                                    .join(Submission, Submission.id == AnswerRow.submission_id)
                                    .where(Submission.campaign_id == last.id))
        assert rows == sum(len(figures_of(engine, a)) for a in answers.values())


def test_a_faulty_file_names_the_row_the_unit_and_the_column_of_every_fault(engine: ReportEngine) -> None:
    data, _answers = exported(engine, [("31120", "Phường Cái Khế"), ("31123", "Phường An Hòa")])
    book = load_workbook(io.BytesIO(data))
    sheet = book["Trả lời"]
    column = {cell.value: cell.column for cell in sheet[1]}
    sheet.cell(3, column["4.3.a"]).value = "nhiều"
    sheet.cell(3, column["4.3.b"]).value = -5
    sheet.cell(4, column["6.1.a"]).value = 2.5
    sheet.cell(4, column["11.2.a"]).value = 20_000_000  # beyond the chat's bound for a count
    sheet.cell(4, column["3.1.d"]).value = 5000  # a part above its whole (3.1.c: 2.468)
    sheet.cell(4, column["4.3.b"]).value = "1.234"  # typed as an officer types it: accepted
    sheet.cell(4, column["4.3.c"]).value = 3766  # 1.234 + 3.766 = 5.000 (4.3.a)
    assert sheet.cell(5, 1).value == "Tổng cộng"  # the workbook's totals row: not a unit, skipped
    sheet.cell(6, 1).value = "31120"  # the same unit twice
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(FiguresFileError) as raised:
        read_figures(engine.outline, buffer.getvalue(), EN)
    # The chat's own validators and words (engine.qtypes), after the row, the unit and the column.
    assert raised.value.problems == [
        "row 3, unit 31120 (Phường Cái Khế), column 4.3.a (Kết quả giải quyết thủ tục hành chính tại "
        "cơ quan, đơn vị…): “nhiều”: Please enter a whole number of 0 or more, e.g. 25 or 1234.",
        "row 3, unit 31120 (Phường Cái Khế), column 4.3.b (Trong đó: số hồ sơ mới tiếp nhận trong kỳ "
        "báo cáo): “-5”: Figures cannot be negative. Please enter a whole number of 0 or more.",
        "row 4, unit 31123 (Phường An Hòa), column 6.1.a (Tổng số phản ánh, kiến nghị đã tiếp nhận "
        "trong kỳ báo cáo): “2.5”: Please enter a whole number of 0 or more, e.g. 25 or 1234.",
        "row 4, unit 31123 (Phường An Hòa), column 11.2.a (Về công tác thanh tra, kiểm tra: số lần "
        "kiểm tra việc thự…): “20000000”: The figure is too large: this question takes at most "
        "10,000,000. The answer was not saved; please check it.",
        "row 4, unit 31123 (Phường An Hòa), column 3.1.d (Trong đó: số thủ tục giải quyết qua cơ chế "
        "một cửa, một c…): Procedures handled through the one-stop mechanism (5,000) cannot exceed "
        "the total procedures under the unit's competence (2,468).",
        "row 6, unit 31120: the unit is also on row 3",
    ]
    # In Vietnamese, as an officer reads them in the chat.
    with pytest.raises(FiguresFileError) as raised:
        read_figures(engine.outline, buffer.getvalue(), translator("vi"))
    assert raised.value.problems[3].endswith(
        "“20000000”: Số liệu quá lớn: câu này nhận số liệu tối đa là 10.000.000. Câu trả lời chưa "
        "được lưu; vui lòng kiểm tra lại.")


def test_a_question_narrowed_in_the_outline_is_narrowed_on_import(
    engine: ReportEngine, tmp_path: Path
) -> None:
    """A question's own `max` (outline min/max) bounds an imported figure as it bounds a typed one."""
    text = (REPO / "outlines" / OUTLINE_FILE).read_text(encoding="utf-8")
    count = '      - name: inspections_count\n        number: "11.2.a"\n        type: integer\n'
    assert text.count(count) == 1
    (tmp_path / OUTLINE_FILE).write_text(text.replace(count, count + "        max: 500\n"),
                                         encoding="utf-8")
    outline = load_outline(tmp_path / OUTLINE_FILE)
    data, _answers = exported(engine, [("31120", "Phường Cái Khế")])
    book = load_workbook(io.BytesIO(data))
    sheet = book["Trả lời"]
    column = {cell.value: cell.column for cell in sheet[1]}

    def read_with(inspections: int) -> list[UnitFigures]:
        sheet.cell(3, column["11.2.a"]).value = inspections
        buffer = io.BytesIO()
        book.save(buffer)
        return read_figures(outline, buffer.getvalue(), EN)

    with pytest.raises(FiguresFileError) as raised:
        read_with(501)
    assert len(raised.value.problems) == 1
    assert raised.value.problems[0].startswith("row 3, unit 31120 (Phường Cái Khế), column 11.2.a")
    assert "“501”: The figure is too large: this question takes at most 500." in raised.value.problems[0]
    assert read_with(500)[0].answers["inspections_count"] == Answer.of(500)


def test_a_file_without_the_answers_sheet_is_named(engine: ReportEngine) -> None:
    with pytest.raises(FiguresFileError, match="no sheet 'Trả lời'"):
        empty = io.BytesIO()
        from openpyxl import Workbook
        Workbook().save(empty)
        read_figures(engine.outline, empty.getvalue(), EN)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    get_settings.cache_clear()
    yield {"KSTTHC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"}
    get_settings.cache_clear()


def test_the_command_imports_or_refuses_as_a_whole(env: dict[str, str], engine: ReportEngine,
                                                   tmp_path: Path) -> None:
    def cli(*args: str) -> object:
        get_settings.cache_clear()
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    assert cli("campaign", "create", "tu-kiem-tra-2026", "--title", "Tự kiểm tra năm 2026",
               "--deadline", "31/10/2026").exit_code == 0  # type: ignore[attr-defined]
    data, _answers = exported(engine, [("31120", "Phường Cái Khế"), ("99999", "Đơn vị lạ")])
    file = tmp_path / "tong-hop-2026.xlsx"
    file.write_bytes(data)
    unknown = cli("figures", "import", str(file), "--campaign", "tu-kiem-tra-2026")
    assert unknown.exit_code == 1  # type: ignore[attr-defined]
    assert "row 4, unit 99999 (Đơn vị lạ): no unit has this code" in unknown.output  # type: ignore[attr-defined]
    no_campaign = cli("figures", "import", str(file), "--campaign", "khong-co")
    assert "unknown campaign 'khong-co'" in no_campaign.output  # type: ignore[attr-defined]

    data, _answers = exported(engine, [("31120", "Phường Cái Khế")])
    file.write_bytes(data)
    done = cli("figures", "import", str(file), "--campaign", "tu-kiem-tra-2026")
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    assert done.output.strip() == "figures of 1 units imported into tu-kiem-tra-2026"  # type: ignore[attr-defined]
