"""`kstthc-bot units …` and `invite`: the units that report and the officers bound to them."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from bot.cli_database import run_async, with_database
from bot.config import get_settings
from handlers.registration import telegram_start_link
from storage.database import Database
from storage.models import Role
from storage.officers import create_invite
from storage.units import (
    UnitFileError,
    import_units,
    list_units,
    province_units,
    read_unit_file,
    unit_by_code,
)


@click.group()
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
        created, updated = run_async(with_database(settings, work))
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

    for unit in run_async(with_database(get_settings(), work)):
        click.echo(f"{unit.code}\t{unit.level}\t{unit.name}")


@click.command()
@click.argument("unit_code", required=False)
@click.option("--admin", is_flag=True, help="An invite for a VP office member.")
@click.option("--days", default=14, show_default=True, type=click.IntRange(min=1),
              help="Days before the code expires (at least 1).")
@click.option("--until", "until", help="The last day the code works (DD/MM/YYYY), instead of --days.")
def invite(unit_code: str | None, admin: bool, days: int, until: str | None) -> None:
    """Print a one-time code that binds an officer to UNIT_CODE (or to the VP office): the code
    alone on standard output (for scripts), then how to use it on each channel (the Telegram
    link, the Zalo way) on standard error."""
    if not admin and not unit_code:
        click.echo("give a UNIT_CODE, or --admin for the VP office", err=True)
        sys.exit(2)
    settings = get_settings()
    if until is not None:
        days = _days_until(until, settings.today())

    async def work(database: Database) -> str | None:
        async with database.transaction() as session:
            unit = await unit_by_code(session, unit_code) if unit_code else None
            if unit_code and unit is None:
                return None
            code, _invite = await create_invite(
                session, unit, Role.ADMIN if admin else Role.OFFICER, timedelta(days=days))
            return code

    code = run_async(with_database(settings, work))
    if code is None:
        click.echo(f"unknown unit code {unit_code}; see `kstthc-bot units list`", err=True)
        sys.exit(1)
    click.echo(code)
    for line in how_to_use(code, settings.telegram_bot_username):
        click.echo(line, err=True)


def _days_until(until: str, today: date) -> int:
    """Days of validity for a code that works until the end of `until`; refused if it is past."""
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            last_day = datetime.strptime(until, pattern).date()
            break
        except ValueError:
            continue
    else:
        raise click.BadParameter(f"{until!r} is not a date (DD/MM/YYYY)", param_hint="--until")
    if last_day < today:
        raise click.BadParameter(f"{until} is in the past", param_hint="--until")
    return (last_day - today).days + 1


def how_to_use(code: str, telegram_username: str | None) -> list[str]:
    """What the officer does with the code on each channel (the VP office passes it on)."""
    telegram = (telegram_start_link(telegram_username, code) if telegram_username else
                f"send “/start {code}” to the bot (KSTTHC_TELEGRAM_BOT_USERNAME set: a t.me link here)")
    return [f"Telegram: {telegram}", f"Zalo: send “{code}” to the bot, as a message of its own"]


def register(group: click.Group) -> None:
    group.add_command(units)
    group.add_command(invite)
