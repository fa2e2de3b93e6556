"""`kstthc-bot units …` and `invite`: the units that report and the officers bound to them."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from bot.cli_database import run_async, with_database
from bot.config import get_settings
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

    code = run_async(with_database(get_settings(), work))
    if code is None:
        click.echo(f"unknown unit code {unit_code}; see `kstthc-bot units list`", err=True)
        sys.exit(1)
    click.echo(code)


def register(group: click.Group) -> None:
    group.add_command(units)
    group.add_command(invite)
