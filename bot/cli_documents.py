"""`kstthc-bot documents …`: every document from the command line (a unit's report, the city
summary, the workbook, the progress charts), and who signs and receives them
(`units signer`, `campaign recipients`). Files are written owner-only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli_campaigns import campaign as campaign_group
from bot.cli_database import run_async, with_database
from bot.cli_units import units as units_group
from bot.config import get_settings
from bot.privacy import private_folder, write_private
from documents import ReportDocumentInfo
from engine.i18n import N_
from handlers.campaigns import campaign_by_code
from handlers.documents import (
    SUMMARY_RECIPIENTS,
    Document,
    campaign_exports,
    progress_charts,
    report_of,
    unit_report_docx,
)
from locales.translation import translator
from storage.database import Database
from storage.models import Campaign, Unit
from storage.signers import (
    Signer,
    campaign_recipients,
    office_signer,
    set_campaign_recipients,
    set_office_signer,
    set_unit_signer,
    unit_signer,
)
from storage.units import unit_by_code

T = TypeVar("T")
OUT_OPTION = click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                          default=Path("."), show_default=True, help="Folder to write the files into.")


class DocumentsProblem(Exception):
    """What was asked cannot be done; the message is for the VP office, in its language."""


def say(message: str, **params: Any) -> str:
    return translator(get_settings().locale).gettext(message).format(**params)


def in_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`work` in one transaction of the configured database; a DocumentsProblem ends the command
    with its message (exit status 1) and nothing changed."""

    async def run(database: Database) -> T:
        async with database.transaction() as session:
            return await work(session)

    try:
        return run_async(with_database(get_settings(), run))
    except DocumentsProblem as problem:
        raise click.ClickException(str(problem)) from problem


async def known_campaign(session: AsyncSession, code: str) -> Campaign:
    found = await campaign_by_code(session, code)
    if found is None:
        raise DocumentsProblem(say(N_("Không có đợt báo cáo mã “{code}”; xem các đợt bằng lệnh "
                                      "“kstthc-bot campaign list”."), code=code))
    return found


async def known_unit(session: AsyncSession, code: str) -> Unit:
    found = await unit_by_code(session, code)
    if found is None:
        raise DocumentsProblem(say(N_("Không có đơn vị mã “{code}”; xem các đơn vị bằng lệnh "
                                      "“kstthc-bot units list”."), code=code))
    return found


def write_all(out_dir: Path, documents: list[Document]) -> None:
    private_folder(out_dir)
    for document in documents:
        write_private(out_dir / document.filename, document.content)
        click.echo(out_dir / document.filename)


# ----- making documents ------------------------------------------------------------------------


@click.group()
def documents() -> None:
    """Make the documents of a campaign: a unit's report, the city summary, the workbook, charts."""


@documents.command("report")
@click.argument("campaign_code")
@click.argument("unit_code")
@OUT_OPTION
def documents_report(campaign_code: str, unit_code: str, out_dir: Path) -> None:
    """A unit's report (.docx), "DỰ THẢO" until it is handed in."""
    settings = get_settings()

    async def work(session: AsyncSession) -> Document:
        campaign, unit = await known_campaign(session, campaign_code), await known_unit(session, unit_code)
        submission = await report_of(session, campaign.id, unit.id)
        document = None if submission is None else await unit_report_docx(
            session, submission, settings.working_calendar(), settings.today(), settings.locale)
        if document is None:
            raise DocumentsProblem(say(N_("Đơn vị “{unit}” chưa bắt đầu báo cáo trong đợt “{campaign}”."),
                                       unit=unit_code, campaign=campaign_code))
        return document

    write_all(out_dir, [in_session(work)])


def campaign_files(kind: str) -> Callable[[str, Path], None]:
    """A command writing the campaign's files whose name ends with `kind`."""

    def command(campaign_code: str, out_dir: Path) -> None:
        settings = get_settings()

        async def work(session: AsyncSession) -> list[Document]:
            campaign = await known_campaign(session, campaign_code)
            if kind == ".png":
                calendar, today = settings.working_calendar(), settings.today()
                charts = await progress_charts(session, campaign, calendar, today)
                return [Document(f"tien-do-{campaign.code}-{index}.png", png)
                        for index, (_data, png) in enumerate(charts, start=1)]
            made = await campaign_exports(session, campaign, settings.working_calendar(), settings.today())
            return [document for document in made if document.filename.endswith(kind)]

        write_all(out_dir, in_session(work))

    return command


for name, kind, about in (
    ("summary", ".docx", "The city summary of the campaign (.docx)."),
    ("workbook", ".xlsx", "The consolidated workbook of the campaign (.xlsx)."),
    ("chart", ".png", "The progress charts of the campaign (.png): units by status, submissions over time."),
):
    documents.command(name, help=about)(OUT_OPTION(click.argument("campaign_code")(campaign_files(kind))))


# ----- who signs, who receives -----------------------------------------------------------------


@click.command("signer")
@click.argument("unit_code", required=False)
@click.option("--office", is_flag=True, help="The VP office's signer (the city summary).")
@click.option("--title", "title", multiple=True,
              help='A title line, top to bottom; repeat it: --title "KT. GIÁM ĐỐC" --title "PHÓ GIÁM ĐỐC".')
@click.option("--name", default=None, help="The signer's name.")
@click.option("--reset", is_flag=True, help="Back to the default title of the unit's level, no name.")
def units_signer(unit_code: str | None, office: bool, title: tuple[str, ...], name: str | None,
                 reset: bool) -> None:
    """Who signs UNIT_CODE's report (or, with --office, the VP office's documents): without
    --title, --name or --reset, shows who does now."""
    if office == bool(unit_code):
        raise click.UsageError(say(N_("Cho biết mã đơn vị, hoặc --office cho Văn phòng UBND thành phố.")))
    changing = reset or bool(title) or name is not None

    async def work(session: AsyncSession) -> Signer:
        unit = None if office else await known_unit(session, str(unit_code))
        current = await office_signer(session) if unit is None else unit_signer(unit)
        if not changing:
            return current
        lines = () if reset else (title or current.title)
        new_name = "" if reset else (current.name if name is None else name)
        if unit is None:
            await set_office_signer(session, lines, new_name)
        else:
            set_unit_signer(unit, lines, new_name)
        return Signer(tuple(lines), new_name)

    signer = in_session(work)
    shown = " / ".join(signer.title) or say(N_("(mặc định theo cấp đơn vị)"))
    name_shown = signer.name or say(N_("(chưa có tên người ký)"))
    click.echo(f"{shown} — {name_shown}")


@click.command("recipients")
@click.argument("campaign_code")
@click.argument("recipient", nargs=-1)
@click.option("--summary", is_flag=True, help="The city summary's recipients, not the units' reports'.")
@click.option("--reset", is_flag=True, help="Back to the default recipients.")
def campaign_recipients_command(campaign_code: str, recipient: tuple[str, ...], summary: bool,
                                reset: bool) -> None:
    """"Nơi nhận" of the campaign's units' reports (or, with --summary, of the city summary), one
    argument each: "UBND thành phố" "Sở Nội vụ" "Lưu: VT". Without any, shows them; "Lưu: VT"
    is added last where it is not given."""

    async def work(session: AsyncSession) -> tuple[str, ...]:
        campaign = await known_campaign(session, campaign_code)
        if reset or recipient:
            set_campaign_recipients(campaign, () if reset else recipient, summary=summary)
        default = SUMMARY_RECIPIENTS if summary else ReportDocumentInfo.recipients
        return campaign_recipients(campaign, summary=summary) or default

    for line in in_session(work):
        click.echo(line)


def register(group: click.Group) -> None:
    group.add_command(documents)
    units_group.add_command(units_signer)
    campaign_group.add_command(campaign_recipients_command)
