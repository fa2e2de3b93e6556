"""`python -m bot` is the same as the `kstthc-bot` command."""

from bot.entry import main

main()
