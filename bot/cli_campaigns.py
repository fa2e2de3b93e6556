"""`kstthc-bot campaign …`, `export` and `figures import`: a campaign, its deadlines and its
figures, from the VP office's terminal."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from bot.cli_database import run_async, with_database
from bot.config import get_settings
from bot.privacy import write_private
from deadlines.periods import Period, PeriodError, default_period
from deadlines.plan import VisitNoticeTooShortError, remediation_due, report_due_before_visit
from deadlines.schedule import DeadlineKind
from handlers.campaigns import (
    CampaignProblem,
    campaign_by_code,
    create_campaign,
    outline_for,
    record_conclusion_items,
    set_conclusion,
    set_visit,
    unit_deadlines,
)
from storage.campaigns import campaign_period, open_campaigns
from storage.conclusion_items import conclusion_items
from storage.database import Database
from storage.units import unit_by_code


@click.group()
def campaign() -> None:
    """Campaigns (đợt báo cáo) and their deadlines."""


def _parse_day(value: str) -> date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)")


@campaign.command("create")
@click.argument("code")
@click.option("--title", required=True, help="The report's title, as units will read it.")
@click.option("--kind", type=click.Choice([k.value for k in DeadlineKind]), default="fixed_date",
              show_default=True)
@click.option("--deadline", help="Due date of a fixed-date campaign (YYYY-MM-DD or DD/MM/YYYY).")
@click.option("--outline", "outline_file",
              help="Outline file (default: the configured one; for after_conclusion, the remediation "
                   "report's, khac-phuc-ket-luan-kiem-tra-2021.yaml).")
@click.option("--period-from", "period_from",
              help="First day the figures cover (default: 15 December of the year before the period's end).")
@click.option("--period-to", "period_to",
              help="Last day the figures cover (default: the last 14th of a month before the deadline, "
                   "Decree 09/2019/ND-CP's cut-off).")
def campaign_create(code: str, title: str, kind: str, deadline: str | None, outline_file: str | None,
                    period_from: str | None, period_to: str | None) -> None:
    """Create a campaign, with the reporting period its figures cover."""
    settings = get_settings()
    if kind == DeadlineKind.FIXED_DATE and not deadline:
        raise click.UsageError("a fixed-date campaign needs --deadline")
    due = _parse_day(deadline) if deadline else settings.today()
    default = default_period(due)
    try:
        period = Period(_parse_day(period_from) if period_from else
                        date(_parse_day(period_to).year - 1, 12, 15) if period_to else default.start,
                        _parse_day(period_to) if period_to else default.end)
    except PeriodError as error:
        raise click.BadParameter(str(error)) from error

    async def work(database: Database) -> None:
        async with database.transaction() as session:
            await create_campaign(session, code, title, kind, due,
                                  outline_file or outline_for(kind, settings.outline_file), period=period)

    try:
        run_async(with_database(settings, work))
    except CampaignProblem as problem:
        raise click.ClickException(str(problem)) from problem
    click.echo(f"campaign {code} created: figures {period.start:%d/%m/%Y}–{period.end:%d/%m/%Y}, "
               f"due {due:%d/%m/%Y}")


@campaign.command("visit")
@click.argument("code")
@click.argument("unit_code")
@click.argument("visit")
@click.option("--unscheduled", is_flag=True, help="An unscheduled inspection (3 working days' notice).")
@click.option("--notice", help="The day the unit was notified (default: today).")
def campaign_visit(code: str, unit_code: str, visit: str, unscheduled: bool, notice: str | None) -> None:
    """Set or move a unit's inspection visit; its report is due 5 working days before."""
    settings = get_settings()
    calendar = settings.working_calendar()
    visit_day = _parse_day(visit)
    notice_day = _parse_day(notice) if notice else settings.today()

    async def work(database: Database) -> None:
        async with database.transaction() as session:
            found, unit = await _campaign_and_unit(session, code, unit_code)
            await set_visit(session, found, unit, visit_day, notice_day, unscheduled, calendar)

    try:
        run_async(with_database(settings, work))
    except VisitNoticeTooShortError as error:
        raise click.ClickException(
            f"notice too short: the earliest lawful visit date is {error.earliest_lawful:%d/%m/%Y}"
        ) from error
    except CampaignProblem as problem:
        raise click.ClickException(str(problem)) from problem
    due = report_due_before_visit(visit_day, calendar)
    click.echo(f"visit {visit_day:%d/%m/%Y} recorded; the report is due {due:%d/%m/%Y}")


@campaign.command("conclusion")
@click.argument("code")
@click.argument("unit_code")
@click.argument("received")
def campaign_conclusion(code: str, unit_code: str, received: str) -> None:
    """Record the day a unit received the inspection conclusion (30 working days to report)."""
    settings = get_settings()
    day = _parse_day(received)

    async def work(database: Database) -> None:
        async with database.transaction() as session:
            found, unit = await _campaign_and_unit(session, code, unit_code)
            await set_conclusion(session, found, unit, day)

    try:
        run_async(with_database(settings, work))
    except CampaignProblem as problem:
        raise click.ClickException(str(problem)) from problem
    due = remediation_due(day, settings.working_calendar())
    click.echo(f"conclusion received {day:%d/%m/%Y} recorded; the report is due {due:%d/%m/%Y}")


@campaign.command("conclusion-items")
@click.argument("code")
@click.argument("unit_code")
@click.argument("requirements", nargs=-1)
def campaign_conclusion_items(code: str, unit_code: str, requirements: tuple[str, ...]) -> None:
    """Record what each item of a unit's inspection conclusion required, item 1 first (each
    REQUIREMENT one argument; they replace those recorded before). The unit's report then asks,
    item by item, what was done. With no REQUIREMENT: show the items recorded."""
    settings = get_settings()
    if requirements and not any(text.strip() for text in requirements):
        raise click.BadParameter("every requirement given is blank", param_hint="REQUIREMENTS")

    async def work(database: Database) -> tuple[str, ...]:
        async with database.transaction() as session:
            found, unit = await _campaign_and_unit(session, code, unit_code)
            if not requirements:
                return await conclusion_items(session, found.id, unit.id)
            return await record_conclusion_items(session, found, unit, requirements)

    try:
        items = run_async(with_database(settings, work))
    except CampaignProblem as problem:
        raise click.ClickException(str(problem)) from problem
    if not items:
        click.echo(f"no conclusion items recorded for {unit_code} in {code}")
    for number, text in enumerate(items, start=1):
        click.echo(f"{number}\t{text}")


@campaign.command("deadlines")
@click.argument("code")
def campaign_deadlines(code: str) -> None:
    """Every unit's deadline in a campaign, soonest first, with its progress."""
    settings = get_settings()

    async def work(database: Database) -> list[Any]:
        async with database.transaction() as session:
            found = await campaign_by_code(session, code)
            if found is None:
                raise CampaignProblem(f"unknown campaign {code!r}")
            return await unit_deadlines(session, found, settings.working_calendar())

    try:
        rows = run_async(with_database(settings, work))
    except CampaignProblem as problem:
        raise click.ClickException(str(problem)) from problem
    for row in rows:
        click.echo(f"{row.deadline:%d/%m/%Y}\t{row.progress.value}\t{row.unit.code}\t{row.unit.name}")


@click.command()
@click.option("--campaign", "code", help="Campaign code (default: the newest).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to write the files into.")
def export(code: str | None, out_dir: Path) -> None:
    """The consolidated workbook (.xlsx), its CSV and the city summary (.docx) of a campaign."""
    from handlers.documents import campaign_exports

    settings = get_settings()

    async def work(database: Database) -> list[Any]:
        async with database.transaction() as session:
            campaigns = await open_campaigns(session)
            chosen = [c for c in campaigns if c.code == code] if code else campaigns[:1]
            if not chosen:
                raise CampaignProblem(f"unknown campaign {code!r}" if code else "no campaign yet")
            return await campaign_exports(session, chosen[0], settings.working_calendar(),
                                          settings.today())

    try:
        documents = run_async(with_database(settings, work))
    except CampaignProblem as problem:
        raise click.ClickException(str(problem)) from problem
    out_dir.mkdir(parents=True, exist_ok=True)
    for document in documents:
        write_private(out_dir / document.filename, document.content)
        click.echo(out_dir / document.filename)


@campaign.command("list")
def campaign_list() -> None:
    """The campaigns, newest first."""

    async def work(database: Database) -> list[Any]:
        async with database.transaction() as session:
            return await open_campaigns(session)

    for found in run_async(with_database(get_settings(), work)):
        period = campaign_period(found)
        click.echo(f"{found.code}\t{found.deadline_kind}\t{found.deadline:%d/%m/%Y}\t{found.title}\t"
                   f"{period.start:%d/%m/%Y}–{period.end:%d/%m/%Y}")


@click.group()
def figures() -> None:
    """Last period's figures (kỳ trước), shown beside this period's."""


@figures.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "code", required=True,
              help="The earlier campaign the figures belong to (create it first with campaign create).")
def figures_import(file: Path, code: str) -> None:
    """Load last period's figures per unit from a workbook laid out like the consolidated .xlsx
    (sheet "Trả lời": export one year, import it as the previous one). Every fault is named with
    its row, unit and column, and nothing is imported from a file with any fault."""
    from documents.figures_file import FiguresFileError, read_figures
    from engine.qtypes import AnswerWindow
    from handlers.figures import import_figures
    from handlers.outline_versions import outline_of
    from locales.translation import translator

    settings = get_settings()

    async def work(database: Database) -> int:
        async with database.transaction() as session:
            found = await campaign_by_code(session, code)
            if found is None:
                raise CampaignProblem(f"unknown campaign {code!r}; create it first: "
                                      "kstthc-bot campaign create")
            # The chat's own validators and words; in English, as the rest of the command speaks.
            units = read_figures((await outline_of(session, found)).outline, file.read_bytes(),
                                 translator("en"), AnswerWindow(found.deadline))
            return await import_figures(session, found, units)

    try:
        count = run_async(with_database(settings, work))
    except (CampaignProblem, FiguresFileError) as problem:
        raise click.ClickException(str(problem)) from problem
    click.echo(f"figures of {count} units imported into {code}")


async def _campaign_and_unit(session: Any, code: str, unit_code: str) -> tuple[Any, Any]:
    found = await campaign_by_code(session, code)
    if found is None:
        raise CampaignProblem(f"unknown campaign {code!r}")
    unit = await unit_by_code(session, unit_code)
    if unit is None:
        raise CampaignProblem(f"unknown unit {unit_code!r}")
    return found, unit


def register(group: click.Group) -> None:
    group.add_command(campaign)
    group.add_command(export)
    group.add_command(figures)
