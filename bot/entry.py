"""The `kstthc-bot` command's entry: the garbage collector held off while the command starts.

Starting imports most of what a process holds until it stops (aiogram's types, SQLAlchemy, the
models): hundreds of thousands of objects that the collector went through several times on the
way, 0.2 s of a restart's 2.4 s on the answers benchmark's machine. `bot.run` turns it back on
once the channels are built, their start heap set aside (`gc.freeze`); every other command turns
it on as it begins (`bot.cli.main`)."""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    from bot.cli import main as command

    command()
