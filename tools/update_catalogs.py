"""Refresh the gettext catalogs: extract messages, merge them into vi and en, compile.

Run after changing any user-facing sentence:  python3 tools/update_catalogs.py
Vietnamese is the source language, so the vi catalog's translations start as the source text;
the en catalog needs a translator (tests/test_i18n.py fails while a message lacks one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"


def pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


def main() -> None:
    pybabel("extract", "-F", "babel.cfg", "-k", "N_", "--no-location", "--sort-output",
            "--omit-header", "-o", str(POT), ".")
    for locale in ("vi", "en"):
        po = LOCALES / locale / "LC_MESSAGES" / "messages.po"
        if po.exists():
            pybabel("update", "-i", str(POT), "-d", str(LOCALES), "-l", locale,
                    "--no-fuzzy-matching", "--ignore-obsolete", "--omit-header")
        else:
            pybabel("init", "-i", str(POT), "-d", str(LOCALES), "-l", locale)
    vi = LOCALES / "vi" / "LC_MESSAGES" / "messages.po"
    with vi.open("rb") as handle:
        catalog = read_po(handle, locale="vi")
    for message in catalog:
        if message.id and not message.string:
            message.string = message.id
    with vi.open("wb") as handle:
        write_po(handle, catalog, omit_header=True, width=100)
    pybabel("compile", "-d", str(LOCALES), "--use-fuzzy")


if __name__ == "__main__":
    main()
