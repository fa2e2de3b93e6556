"""How tests start the product: the installed `kstthc-bot` command, as users run it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def command() -> list[str]:
    """The command installed beside the Python running the tests (the quick start's virtual
    environment), never another installation on the PATH that may hold other code."""
    beside = Path(sys.executable).parent / "kstthc-bot"
    if beside.exists():
        return [str(beside)]
    installed = shutil.which("kstthc-bot")
    return [installed] if installed else [sys.executable, "-m", "bot"]
