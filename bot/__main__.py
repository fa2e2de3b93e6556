"""`python -m bot` is the same as the `kstthc-bot` command."""

from bot.cli import main

main()
