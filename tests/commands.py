"""How tests start the product: the installed `kstthc-bot` command, as users run it, or its
commands in the test's own process where a test runs many of them."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from click.testing import CliRunner, Result


def command() -> list[str]:
    """The command installed beside the Python running the tests (the quick start's virtual
    environment), never another installation on the PATH that may hold other code."""
    beside = Path(sys.executable).parent / "kstthc-bot"
    if beside.exists():
        return [str(beside)]
    installed = shutil.which("kstthc-bot")
    return [installed] if installed else [sys.executable, "-m", "bot"]


def cli_in_process(env: dict[str, str], *args: str) -> Result:
    """`kstthc-bot ARGS` through click's runner, with `env` as its environment. The settings are
    read once per process: cleared around the call, each call is a new "process"."""
    from bot.cli import main
    from bot.config import get_settings

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    finally:
        get_settings.cache_clear()


def output_lines(result: Result) -> list[str]:
    """The non-empty lines a command printed, once it succeeded."""
    assert result.exit_code == 0, result.output
    return [line for line in result.output.splitlines() if line.strip()]
