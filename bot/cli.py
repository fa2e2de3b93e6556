"""The `kstthc-bot` command: chat, database, outline, units and invites."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.cli_backup import register as register_backup
from bot.config import Settings, get_settings
from bot.privacy import protect_process, write_private
from deadlines.periods import Period, PeriodError, default_period
from deadlines.plan import VisitNoticeTooShortError, remediation_due, report_due_before_visit
from deadlines.schedule import DeadlineKind
from engine.outline import OutlineError, load_outline
from handlers.campaigns import (
    CampaignProblem,
    campaign_by_code,
    create_campaign,
    set_conclusion,
    set_visit,
    unit_deadlines,
)
from storage.campaigns import campaign_period, open_campaigns
from storage.database import Database
from storage.inbox import set_aside_events
from storage.models import Role, stamping_clock
from storage.officers import create_invite
from storage.units import (
    UnitFileError,
    import_units,
    list_units,
    province_units,
    read_unit_file,
    unit_by_code,
)

T = TypeVar("T")


def _run(coroutine: Awaitable[T]) -> T:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


async def _with_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    from bot.seed import seed_if_empty

    db = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    try:
        await db.upgrade()
        async with db.transaction() as session:
            await seed_if_empty(session, settings, settings.today())
        return await work(db)
    finally:
        await db.close()


@click.group()
def main() -> None:
    """kstthc-bot: báo cáo kiểm soát thủ tục hành chính qua Telegram, Zalo và console."""
    # Vietnamese text must reach pipes and Windows consoles intact.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8")
    protect_process()  # first: a setting refused here does not echo its value either
    settings = get_settings()
    protect_process(settings.telegram_token, settings.zalo_token, settings.telegram_webhook_secret,
                    settings.zalo_webhook_secret)  # files owner-only, no data in logs (bot/privacy.py)
    if settings.now is not None:
        stamped = stamping_clock.set(settings.clock())
        click.get_current_context().call_on_close(lambda: stamping_clock.reset(stamped))


register_backup(main)  # kstthc-bot backup FILE / restore FILE (bot/cli_backup.py)


@main.command()
@click.option("--unit", "unit_code", help="Official code of the unit to report for.")
@click.option("--invite", help="A one-time invite code from the VP office.")
def chat(unit_code: str | None, invite: str | None) -> None:
    """Fill in the report in the terminal (typed, or one answer per line on standard input)."""
    from bot.console import run_chat, terminal_io

    try:
        code = _run(run_chat(get_settings(), terminal_io(), unit_code, invite))
    except KeyboardInterrupt:
        code = 0  # every answer given so far is already committed
    sys.exit(code)


@main.command()
@click.option("--webhook", is_flag=True, help="Serve webhooks instead of polling (needs the "
              "channel's KSTTHC_*_WEBHOOK_URL and KSTTHC_*_WEBHOOK_SECRET).")
def run(webhook: bool) -> None:
    """Run the bot: every channel whose token is set, until SIGTERM. With --webhook, a channel
    whose webhook URL and secret are set is served by webhook; the others poll."""
    from bot.run import configure_logging, run_channels

    settings = get_settings()
    telegram_ready = bool(settings.telegram_webhook_url and settings.telegram_webhook_secret)
    zalo_ready = bool(settings.zalo_webhook_url and settings.zalo_webhook_secret)
    if webhook and not (telegram_ready or zalo_ready):
        click.echo("--webhook needs KSTTHC_TELEGRAM_WEBHOOK_URL and KSTTHC_TELEGRAM_WEBHOOK_SECRET, "
                   "or KSTTHC_ZALO_WEBHOOK_URL and KSTTHC_ZALO_WEBHOOK_SECRET", err=True)
        sys.exit(2)
    if not webhook:
        settings = settings.model_copy(update={"telegram_webhook_url": None, "zalo_webhook_url": None})
    configure_logging(settings)
    sys.exit(_run(run_channels(settings)))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""

    async def work(database: Database) -> None:
        return None

    _run(_with_database(get_settings(), work))
    click.echo("database is up to date")


@db.command("set-aside")
def db_set_aside() -> None:
    """List incoming messages set aside because processing them kept failing (their senders
    were asked to send them again): id, channel, when received, when set aside, why."""

    async def work(database: Database) -> list[Any]:
        async with database.transaction() as session:
            return await set_aside_events(session)

    for row in _run(_with_database(get_settings(), work)):
        click.echo(f"{row.id}\t{row.channel}\t{row.received_at:%Y-%m-%d %H:%M:%S}\t"
                   f"{row.failed_at:%Y-%m-%d %H:%M:%S}\t{row.failure}")


@main.group()
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
@click.option("--outline", "outline_file", help="Outline file (default: the configured one).")
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
            await create_campaign(session, code, title, kind, due, outline_file or settings.outline_file,
                                  period=period)

    try:
        _run(_with_database(settings, work))
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
        _run(_with_database(settings, work))
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
        _run(_with_database(settings, work))
    except CampaignProblem as problem:
        raise click.ClickException(str(problem)) from problem
    due = remediation_due(day, settings.working_calendar())
    click.echo(f"conclusion received {day:%d/%m/%Y} recorded; the report is due {due:%d/%m/%Y}")


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
        rows = _run(_with_database(settings, work))
    except CampaignProblem as problem:
        raise click.ClickException(str(problem)) from problem
    for row in rows:
        click.echo(f"{row.deadline:%d/%m/%Y}\t{row.progress.value}\t{row.unit.code}\t{row.unit.name}")


@main.command()
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
        documents = _run(_with_database(settings, work))
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

    for found in _run(_with_database(get_settings(), work)):
        period = campaign_period(found)
        click.echo(f"{found.code}\t{found.deadline_kind}\t{found.deadline:%d/%m/%Y}\t{found.title}\t"
                   f"{period.start:%d/%m/%Y}–{period.end:%d/%m/%Y}")


@main.group()
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
    from handlers.figures import import_figures
    from handlers.report import outline_engine

    settings = get_settings()

    async def work(database: Database) -> int:
        async with database.transaction() as session:
            found = await campaign_by_code(session, code)
            if found is None:
                raise CampaignProblem(f"unknown campaign {code!r}; create it first: "
                                      "kstthc-bot campaign create")
            units = read_figures(outline_engine(found.outline_file).outline, file.read_bytes())
            return await import_figures(session, found, units)

    try:
        count = _run(_with_database(settings, work))
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


@main.group()
def outline() -> None:
    """Check and read report outlines."""


@outline.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def outline_check(file: Path) -> None:
    """Validate an outline file: a one-line summary, or every error with its line."""
    try:
        loaded = load_outline(file)
    except OutlineError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    asked = len(loaded.asked_questions)
    click.echo(f"{file}: OK — {loaded.meta.id} {loaded.meta.version}: {len(loaded.sections)} "
               f"sections, {asked} questions, {len(loaded.questions) - asked} calculated")


@outline.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the normalised outline as JSON.")
@click.argument("file", type=click.Path(path_type=Path), required=False)
def outline_show(as_json: bool, file: Path | None) -> None:
    """Print an outline (the configured one by default)."""
    from handlers.report import OUTLINES_DIR

    path = file or OUTLINES_DIR / get_settings().outline_file
    try:
        loaded = load_outline(path)
    except OutlineError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(loaded.as_json(), ensure_ascii=False, indent=2))
        return
    for section in loaded.sections:
        click.echo(f"{section.number}. {section.title.vi}")
        for question in section.questions:
            click.echo(f"    {question.number} [{question.type}] {question.name}: "
                       f"{question.label.vi}")


@main.group()
def units() -> None:
    """Import and list units (đơn vị)."""


@units.command("import")
@click.option("--province", "province_code", type=int, default=None,
              help="Import this province's communes and wards (default: the configured one).")
@click.option("--file", "file", type=click.Path(exists=True, path_type=Path),
              help="A CSV or XLSX file with columns code, name, level, parent.")
def units_import(province_code: int | None, file: Path | None) -> None:
    """Import communes from vietnam-provinces, and departments/districts from a file."""
    settings = get_settings()
    try:
        records = read_unit_file(file) if file else province_units(
            province_code or settings.province_code)
    except (UnitFileError, ValueError) as error:
        click.echo(str(error), err=True)
        sys.exit(1)

    async def work(database: Database) -> tuple[int, int]:
        async with database.transaction() as session:
            return await import_units(session, records)

    try:
        created, updated = _run(_with_database(settings, work))
    except UnitFileError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    click.echo(f"{len(records)} units read: {created} created, {updated} updated")


@units.command("list")
@click.option("--level", type=click.Choice(["province", "department", "district", "commune"]))
def units_list(level: str | None) -> None:
    """List the units with their codes."""

    async def work(database: Database) -> list[Any]:
        async with database.transaction() as session:
            return await list_units(session, level)

    for unit in _run(_with_database(get_settings(), work)):
        click.echo(f"{unit.code}\t{unit.level}\t{unit.name}")


@main.command()
@click.argument("unit_code", required=False)
@click.option("--admin", is_flag=True, help="An invite for a VP office member.")
@click.option("--days", default=14, show_default=True, help="Days before the code expires.")
def invite(unit_code: str | None, admin: bool, days: int) -> None:
    """Print a one-time code that binds an officer to UNIT_CODE (or to the VP office)."""
    if not admin and not unit_code:
        click.echo("give a UNIT_CODE, or --admin for the VP office", err=True)
        sys.exit(2)

    async def work(database: Database) -> str | None:
        async with database.transaction() as session:
            unit = await unit_by_code(session, unit_code) if unit_code else None
            if unit_code and unit is None:
                return None
            code, _invite = await create_invite(
                session, unit, Role.ADMIN if admin else Role.OFFICER, timedelta(days=days))
            return code

    code = _run(_with_database(get_settings(), work))
    if code is None:
        click.echo(f"unknown unit code {unit_code}; see `kstthc-bot units list`", err=True)
        sys.exit(1)
    click.echo(code)
