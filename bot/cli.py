"""The `kstthc-bot` command: chat, run, database and outline here; the other groups in bot/cli_*.py."""

from __future__ import annotations

import gc
import sys
from typing import Any

import click

from bot.cli_backup import register as register_backup
from bot.cli_campaigns import register as register_campaigns
from bot.cli_database import run_async, with_database
from bot.cli_documents import register as register_documents
from bot.cli_outline import register as register_outline
from bot.cli_units import register as register_units
from bot.config import Settings, get_settings
from bot.privacy import protect_process
from bot.web.cli import web
from storage.database import Database
from storage.inbox import set_aside_events
from storage.models import stamping_clock


@click.group()
def main() -> None:
    """kstthc-bot: báo cáo kiểm soát thủ tục hành chính qua Telegram, Zalo và console."""
    if click.get_current_context().invoked_subcommand != "run":
        gc.enable()  # held off while starting (bot/entry.py); `run` turns it on once it has started
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
register_campaigns(main)  # campaign …, export, figures import (bot/cli_campaigns.py)
register_units(main)  # units …, invite (bot/cli_units.py)
register_documents(main)  # documents …, units signer, campaign recipients (bot/cli_documents.py)
register_outline(main)  # outline check|show|export|import|versions (bot/cli_outline.py)
main.add_command(web)  # web, web login-link (bot/web/cli.py)


@main.command()
@click.option("--unit", "unit_code", help="Official code of the unit to report for.")
@click.option("--invite", help="A one-time invite code from the VP office.")
def chat(unit_code: str | None, invite: str | None) -> None:
    """Fill in the report in the terminal (typed, or one answer per line on standard input)."""
    from bot.console import run_chat, terminal_io

    try:
        code = run_async(run_chat(get_settings(), terminal_io(), unit_code, invite))
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
    settings, notes = receiving(settings, webhook)
    for note in notes:
        click.echo(note, err=True)
    configure_logging(settings)
    sys.exit(run_async(run_channels(settings)))


def receiving(settings: Settings, webhook: bool) -> tuple[Settings, list[str]]:
    """The settings a run uses (without --webhook, every channel polls) and what the operator is
    told about it: a webhook address set but not served is said, never silently polled past."""
    if webhook:
        return settings, []
    configured = [name for name, url in (("KSTTHC_TELEGRAM_WEBHOOK_URL", settings.telegram_webhook_url),
                                         ("KSTTHC_ZALO_WEBHOOK_URL", settings.zalo_webhook_url)) if url]
    notes = [f"{name} is set, but without --webhook the channel polls (and its webhook is removed); "
             "run `kstthc-bot run --webhook` to serve it" for name in configured]
    return settings.model_copy(update={"telegram_webhook_url": None, "zalo_webhook_url": None}), notes


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""

    async def work(database: Database) -> None:
        return None

    run_async(with_database(get_settings(), work))
    click.echo("database is up to date")


@db.command("set-aside")
def db_set_aside() -> None:
    """List incoming messages set aside because processing them kept failing (their senders
    were asked to send them again): id, channel, when received, when set aside, why."""

    async def work(database: Database) -> list[Any]:
        async with database.transaction() as session:
            return await set_aside_events(session)

    for row in run_async(with_database(get_settings(), work)):
        click.echo(f"{row.id}\t{row.channel}\t{row.received_at:%Y-%m-%d %H:%M:%S}\t"
                   f"{row.failed_at:%Y-%m-%d %H:%M:%S}\t{row.failure}")
