"""How tests start the product: the installed `kstthc-bot` command, as users run it."""

from __future__ import annotations

import shutil
import sys


def command() -> list[str]:
    installed = shutil.which("kstthc-bot")
    return [installed] if installed else [sys.executable, "-m", "bot"]
