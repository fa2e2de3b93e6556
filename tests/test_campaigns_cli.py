"""`kstthc-bot campaign create|list|visit|conclusion|deadlines` on a SQLite file of its own,
through click's CliRunner (and once through the installed command)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.config import get_settings
from deadlines.workdays import WorkingCalendar
from tests.commands import cli_in_process as cli
from tests.commands import command
from tests.commands import output_lines as lines

CAL = WorkingCalendar()
COMMUNE = "31120"  # Phường Cái Khế, from the seed
COMMUNES = 103


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    values = {"KSTTHC_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"}
    get_settings.cache_clear()
    yield values
    get_settings.cache_clear()


def test_create_list_and_a_sunday_deadline(env: dict[str, str]) -> None:
    assert date(2021, 10, 31).weekday() == 6
    created = cli(env, "campaign", "create", "tu-kiem-tra-2021", "--title", "Báo cáo tự kiểm tra năm 2021",
                  "--deadline", "31/10/2021")
    # Without a period, Decree 09/2019/NĐ-CP's: from 15/12 of the year before to the last 14th.
    assert lines(created) == [
        "campaign tu-kiem-tra-2021 created: figures 15/12/2020–14/10/2021, due 31/10/2021"]
    listed = lines(cli(env, "campaign", "list"))
    assert ("tu-kiem-tra-2021\tfixed_date\t31/10/2021\tBáo cáo tự kiểm tra năm 2021\t"
            "15/12/2020–14/10/2021") in listed

    again = cli(env, "campaign", "create", "tu-kiem-tra-2021", "--title", "x", "--deadline", "2021-10-31")
    assert again.exit_code == 1 and "exists already" in again.output
    undated = cli(env, "campaign", "create", "khong-han", "--title", "x")
    assert undated.exit_code == 2 and "needs --deadline" in undated.output
    bad = cli(env, "campaign", "create", "sai-ngay", "--title", "x", "--deadline", "31/02/2021")
    assert bad.exit_code == 2 and "is not a date" in bad.output

    # "Before 31 October" was a Sunday: every unit really has until Friday 29/10/2021.
    deadlines = lines(cli(env, "campaign", "deadlines", "tu-kiem-tra-2021"))
    assert len(deadlines) == COMMUNES
    assert all(line.startswith("29/10/2021\tnot_started\t") for line in deadlines)
    assert f"29/10/2021\tnot_started\t{COMMUNE}\tPhường Cái Khế" in deadlines
    unknown = cli(env, "campaign", "deadlines", "khong-co")
    assert unknown.exit_code == 1 and "unknown campaign 'khong-co'" in unknown.output


def test_visits_and_the_notice_rule(env: dict[str, str]) -> None:
    lines(cli(env, "campaign", "create", "kiem-tra-2026", "--title", "Kiểm tra năm 2026", "--kind",
              "before_visit"))
    assert lines(cli(env, "campaign", "deadlines", "kiem-tra-2026")) == []  # no visit yet

    # Notice on Friday 28/8/2026: with 31/8 – 2/9 off, ten working days on is Wednesday 16/9.
    refused = cli(env, "campaign", "visit", "kiem-tra-2026", COMMUNE, "07/09/2026", "--notice", "28/08/2026")
    assert refused.exit_code == 1
    assert "notice too short: the earliest lawful visit date is 16/09/2026" in refused.output
    assert lines(cli(env, "campaign", "deadlines", "kiem-tra-2026")) == []  # nothing recorded

    # Unscheduled, three working days are enough: Thursday 3/9 is too soon, Monday 7/9 is lawful.
    too_soon = cli(env, "campaign", "visit", "kiem-tra-2026", COMMUNE, "03/09/2026", "--unscheduled",
                   "--notice", "28/08/2026")
    assert too_soon.exit_code == 1 and "earliest lawful visit date is 07/09/2026" in too_soon.output
    accepted = cli(env, "campaign", "visit", "kiem-tra-2026", COMMUNE, "07/09/2026", "--unscheduled",
                   "--notice", "28/08/2026")
    # Five working days before the visit, across the holiday: Wednesday 26/8.
    assert lines(accepted) == ["visit 07/09/2026 recorded; the report is due 26/08/2026"]
    assert lines(cli(env, "campaign", "deadlines", "kiem-tra-2026")) == [
        f"26/08/2026\tnot_started\t{COMMUNE}\tPhường Cái Khế"]

    # Moved to the first lawful scheduled date: the deadline moves with it.
    moved = cli(env, "campaign", "visit", "kiem-tra-2026", COMMUNE, "2026-09-16", "--notice", "2026-08-28")
    assert lines(moved) == ["visit 16/09/2026 recorded; the report is due 09/09/2026"]
    assert lines(cli(env, "campaign", "deadlines", "kiem-tra-2026")) == [
        f"09/09/2026\tnot_started\t{COMMUNE}\tPhường Cái Khế"]

    unknown_unit = cli(env, "campaign", "visit", "kiem-tra-2026", "99999", "16/09/2026",
                       "--notice", "28/08/2026")
    assert unknown_unit.exit_code == 1 and "unknown unit '99999'" in unknown_unit.output
    lines(cli(env, "campaign", "create", "co-dinh", "--title", "x", "--deadline", "31/10/2026"))
    wrong_kind = cli(env, "campaign", "visit", "co-dinh", COMMUNE, "16/09/2026", "--notice", "28/08/2026")
    assert wrong_kind.exit_code == 1 and "do not count from inspection visits" in wrong_kind.output


def test_conclusion_gives_thirty_working_days_across_tet(env: dict[str, str]) -> None:
    # Received Friday 15/1/2027; Tết 2027 takes Thu 4/2 – Wed 10/2 off (5 working days), so the
    # 30th working day after is Friday 5/3/2027, not 26/2.
    assert CAL.add_working_days(date(2027, 1, 15), 30) == date(2027, 3, 5)
    assert [d for d in (date(2027, 2, n) for n in range(1, 13)) if not CAL.is_working_day(d)
            and d.weekday() < 5] == [date(2027, 2, 4), date(2027, 2, 5), date(2027, 2, 8), date(2027, 2, 9),
                                     date(2027, 2, 10)]
    lines(cli(env, "campaign", "create", "khac-phuc", "--title", "Báo cáo khắc phục", "--kind",
              "after_conclusion"))
    recorded = cli(env, "campaign", "conclusion", "khac-phuc", COMMUNE, "15/01/2027")
    assert lines(recorded) == ["conclusion received 15/01/2027 recorded; the report is due 05/03/2027"]
    assert lines(cli(env, "campaign", "deadlines", "khac-phuc")) == [
        f"05/03/2027\tnot_started\t{COMMUNE}\tPhường Cái Khế"]
    listed = lines(cli(env, "campaign", "list"))
    assert any(line.startswith("khac-phuc\tafter_conclusion\t") for line in listed)
    # It asks what the unit did about the conclusion (plan §II.2, §V.1.d), not the Đề cương again.
    database = env["KSTTHC_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(database) as connection:
        outlines = dict(connection.execute("select code, outline_file from campaigns"))
    assert outlines["khac-phuc"] == "khac-phuc-ket-luan-kiem-tra-2021.yaml"
    lines(cli(env, "campaign", "create", "co-dinh", "--title", "x", "--deadline", "31/10/2026"))
    wrong_kind = cli(env, "campaign", "conclusion", "co-dinh", COMMUNE, "15/01/2027")
    assert wrong_kind.exit_code == 1
    assert "do not count from inspection conclusions" in wrong_kind.output
    with sqlite3.connect(database) as connection:
        outlines = dict(connection.execute("select code, outline_file from campaigns"))
    assert outlines["co-dinh"] == "ke-hoach-20-2021.yaml"  # the Đề cương, for the yearly report


def test_the_installed_command_refuses_a_visit_too_soon(env: dict[str, str], tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KSTTHC_")} | env
    run = [*command(), "campaign"]
    subprocess.run([*run, "create", "kt", "--title", "Kiểm tra", "--kind", "before_visit"], env=environment,
                   cwd=tmp_path, check=True, capture_output=True, timeout=60)
    refused = subprocess.run([*run, "visit", "kt", COMMUNE, "07/09/2026", "--notice", "28/08/2026"],
                             env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert refused.stderr.strip() == "Error: notice too short: the earliest lawful visit date is 16/09/2026"


def test_a_drill_clock_sets_the_default_notice_day(env: dict[str, str]) -> None:
    """With KSTTHC_NOW frozen (a drill), "today" is that day everywhere, the notice included."""
    lines(cli(env, "campaign", "create", "kiem-tra-2026", "--title", "Kiểm tra năm 2026", "--kind",
              "before_visit"))
    drill = {**env, "KSTTHC_NOW": "2026-08-28T03:00:00+00:00"}  # Friday 28/8/2026 in Vietnam
    refused = cli(drill, "campaign", "visit", "kiem-tra-2026", COMMUNE, "07/09/2026")
    assert refused.exit_code == 1
    assert "notice too short: the earliest lawful visit date is 16/09/2026" in refused.output
    assert lines(cli(drill, "campaign", "visit", "kiem-tra-2026", COMMUNE, "16/09/2026"))


def test_the_vp_office_sets_the_period_the_figures_cover(env: dict[str, str]) -> None:
    """A campaign carries its reporting period beside its due date: the office's own, or half of
    it (the start follows the decree), or refused when it cannot be."""
    whole = cli(env, "campaign", "create", "6-thang-2027", "--title", "Báo cáo 6 tháng đầu năm 2027",
                "--deadline", "20/06/2027", "--period-from", "15/12/2026", "--period-to", "2027-06-14")
    assert lines(whole) == ["campaign 6-thang-2027 created: figures 15/12/2026–14/06/2027, due 20/06/2027"]
    end_only = cli(env, "campaign", "create", "quy-3-2027", "--title", "Quý 3", "--deadline", "20/09/2027",
                   "--period-to", "14/09/2027")
    assert lines(end_only) == ["campaign quy-3-2027 created: figures 15/12/2026–14/09/2027, due 20/09/2027"]
    listed = lines(cli(env, "campaign", "list"))
    assert any(line.startswith("6-thang-2027\t") and line.endswith("\t15/12/2026–14/06/2027")
               for line in listed)
    backwards = cli(env, "campaign", "create", "nguoc", "--title", "x", "--deadline", "31/10/2027",
                    "--period-from", "14/10/2027", "--period-to", "15/12/2026")
    assert backwards.exit_code == 2 and "cannot end" in backwards.output
    after_due = cli(env, "campaign", "create", "sau-han", "--title", "x", "--deadline", "31/10/2027",
                    "--period-from", "01/11/2027", "--period-to", "30/11/2027")
    assert after_due.exit_code == 1 and "after the deadline" in after_due.output
    assert not any(line.startswith(("nguoc\t", "sau-han\t")) for line in lines(cli(env, "campaign", "list")))
