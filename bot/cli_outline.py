"""`kstthc-bot outline …`: check and read an outline (YAML, or the XLSForm-like workbook the VP
office edits), export it to a workbook and import it back, and list the versions campaigns keep."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.cli_database import run_async, with_database
from bot.config import get_settings
from bot.privacy import write_private
from engine.outline import Outline, OutlineError, load_outline
from storage.database import Database

WORKBOOK_SUFFIX = ".xlsx"


@click.group()
def outline() -> None:
    """Check, read, export, import and list report outlines."""


def read_outline(file: Path) -> Outline:
    """An outline file, YAML or workbook (by its suffix); on faults, print them and exit 1."""
    from documents.outline_form_read import read_outline_form

    try:
        return read_outline_form(file) if file.suffix.lower() == WORKBOOK_SUFFIX else load_outline(file)
    except OutlineError as error:
        for problem in error.problems:
            click.echo(problem, err=True)
        sys.exit(1)


def _summary(loaded: Outline) -> str:
    asked = len(loaded.asked_questions)
    return (f"{loaded.meta.id} {loaded.meta.version}: {len(loaded.sections)} sections, {asked} "
            f"questions, {len(loaded.questions) - asked} calculated")


@outline.command("check")
@click.argument("file", type=click.Path(path_type=Path))
def outline_check(file: Path) -> None:
    """Validate an outline file (.yaml, or an .xlsx workbook): a one-line summary, or every
    error with its line (in a workbook: its sheet, row and column)."""
    click.echo(f"{file}: OK — {_summary(read_outline(file))}")


@outline.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print the normalised outline as JSON.")
@click.argument("file", type=click.Path(path_type=Path), required=False)
def outline_show(as_json: bool, file: Path | None) -> None:
    """Print an outline (the configured one by default)."""
    from handlers.outline_versions import outline_path

    loaded = read_outline(file or outline_path(get_settings().outline_file))
    if as_json:
        click.echo(json.dumps(loaded.as_json(), ensure_ascii=False, indent=2))
        return
    for section in loaded.sections:
        click.echo(f"{section.number}. {section.title.vi}")
        for question in section.questions:
            click.echo(f"    {question.number} [{question.type}] {question.name}: "
                       f"{question.label.vi}")


@outline.command("export")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--outline", "source", type=click.Path(path_type=Path),
              help="The outline to export (default: the configured one, KSTTHC_OUTLINE_FILE).")
@click.option("--campaign", "code", help="Export the outline version this campaign was opened with.")
def outline_export(file: Path, source: Path | None, code: str | None) -> None:
    """Write the outline as an XLSForm-like workbook (sheets survey, choices, settings) to edit
    in a spreadsheet; `outline import` reads it back (docs/outline-format.md)."""
    from documents.outline_form import export_outline
    from handlers.outline_versions import outline_path

    if code is not None:
        loaded = run_async(with_database(get_settings(), lambda database: _campaign_outline(database, code)))
    else:
        loaded = read_outline(source or outline_path(get_settings().outline_file))
    try:
        write_private(file, export_outline(loaded))
    except ValueError as problem:
        raise click.ClickException(str(problem)) from problem
    click.echo(f"{file}: {_summary(loaded)}")


async def _campaign_outline(database: Database, code: str) -> Outline:
    from handlers.campaigns import campaign_by_code
    from handlers.outline_versions import outline_of

    async with database.transaction() as session:
        found = await campaign_by_code(session, code)
        if found is None:
            raise click.ClickException(f"unknown campaign {code!r}")
        return (await outline_of(session, found)).outline


@outline.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="The outline file to write (default: FILE with .yaml in place of .xlsx).")
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
def outline_import(file: Path, output: Path | None, force: bool) -> None:
    """Read an outline workbook with the checks of `outline check` and write it as an outline
    file (YAML): nothing is written while the workbook has a fault. Campaigns opened afterwards
    with that file (KSTTHC_OUTLINE_FILE or campaign create --outline) use it; campaigns opened
    before keep their own version."""
    from engine.outline_yaml import dump_outline

    loaded = read_outline(file)
    target = output or file.with_suffix(".yaml")
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; give --force to replace it, or --output")
    write_private(target, dump_outline(loaded, heading=(
        f"Made by `kstthc-bot outline import` from {file.name}.\n"
        "Format: docs/outline-format.md; check it with `kstthc-bot outline check`.")).encode("utf-8"))
    click.echo(f"{target}: {_summary(loaded)}")


@outline.command("versions")
def outline_versions() -> None:
    """The outline versions campaigns were opened with: label, outline id, checksum (short),
    when it was first stored, and the campaigns using it."""
    from storage.outline_versions import VersionUse, version_uses

    async def work(database: Database) -> list[VersionUse]:
        async with database.transaction() as session:
            return await version_uses(session)

    for use in run_async(with_database(get_settings(), work)):
        campaigns = ", ".join(use.campaigns) or "—"
        click.echo(f"{use.label}\t{use.outline_id}\t{use.checksum[:12]}\t"
                   f"{use.created_at:%Y-%m-%d %H:%M} UTC\t{len(use.campaigns)} campaigns: {campaigns}")


def register(group: click.Group) -> None:
    group.add_command(outline)
