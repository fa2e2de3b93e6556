"""`kstthc-bot web` (serve the desk) and `kstthc-bot web login-link` (a one-time sign-in link)."""

from __future__ import annotations

import asyncio
import signal
import sys

import click
from sqlalchemy import select

from bot.cli_database import run_async, with_database
from bot.config import Settings, get_settings
from storage.database import Database
from storage.models import Officer, Role
from storage.web_tokens import create_login_link

WEB_ONLY_ADMIN = "Văn phòng UBND thành phố (web)"


@click.group(invoke_without_command=True)
@click.pass_context
def web(context: click.Context) -> None:
    """Serve the VP office's web desk on KSTTHC_WEB_HOST:KSTTHC_WEB_PORT until SIGTERM."""
    if context.invoked_subcommand is not None:
        return
    from bot.run import configure_logging

    settings = get_settings()
    configure_logging(settings)
    run_async(with_database(settings, lambda db: _serve(settings, db)))


async def _serve(settings: Settings, db: Database) -> None:
    from bot.web.app import serve

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await serve(settings, db, stopping)


@web.command("login-link")
@click.option("--officer", "officer_id", type=int, help="The VP office admin's id (when there are several).")
def login_link(officer_id: int | None) -> None:
    """Print a one-time sign-in link (15 minutes) for a VP office admin. With no admin yet, one
    is made for the desk; with several, choose with --officer."""
    settings = get_settings()

    async def work(database: Database) -> tuple[str | None, list[Officer]]:
        async with database.transaction() as session:
            admins = list(await session.scalars(select(Officer).where(Officer.role == Role.ADMIN)
                                                .order_by(Officer.id)))
            chosen = [a for a in admins if a.id == officer_id] if officer_id is not None else admins
            if officer_id is None and not admins:
                officer = Officer(role=Role.ADMIN, name=WEB_ONLY_ADMIN)
                session.add(officer)
                await session.flush()
                chosen = [officer]
            if len(chosen) != 1:
                return None, admins
            return await create_login_link(session, chosen[0]), admins

    token, admins = run_async(with_database(settings, work))
    if token is None:
        click.echo("choose the admin with --officer ID:" if admins else "no such VP office admin", err=True)
        for admin in admins:
            click.echo(f"{admin.id}\t{admin.name}", err=True)
        sys.exit(2)
    click.echo(f"{settings.web_base_url}/login?token={token}")
