"""Every user-facing sentence is in the catalogs, translated into English, and compiled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from locales.translation import LOCALES_DIR, translator

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def source_messages() -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    found: set[str] = set()
    for package in ("bot", "handlers", "engine", "storage"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=keywords
        ):
            found.update([message] if isinstance(message, str) else [message[0]])
    # The web desk's pages (Jinja2 templates calling _()).
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT / "bot" / "web" / "templates", method_map=[("**.html", "jinja2")], keywords=keywords
    ):
        found.update([message] if isinstance(message, str) else [message[0]])
    return found


def catalog(locale: str):  # type: ignore[no-untyped-def]
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_source_message_is_in_the_catalog(locale: str) -> None:
    known = {message.id for message in catalog(locale) if message.id}
    missing = source_messages() - known
    assert not missing, "run python3 tools/update_catalogs.py; missing: " + "; ".join(sorted(missing))


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_message_is_translated_with_the_same_placeholders(locale: str) -> None:
    for message in catalog(locale):
        if not message.id:
            continue
        assert message.string, f"{locale}: no translation for {message.id!r}"
        assert not message.fuzzy, f"{locale}: fuzzy translation for {message.id!r}"
        assert set(PLACEHOLDER.findall(message.string)) == set(PLACEHOLDER.findall(message.id)), \
            f"{locale}: placeholders differ in {message.id!r}"


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_compiled_catalogs_match_their_sources(locale: str) -> None:
    compiled = translator(locale)
    for message in catalog(locale):
        if message.id and message.string:
            assert compiled.gettext(message.id) == message.string, \
                f"{locale}: the .mo is stale; run python3 tools/update_catalogs.py"


def test_english_is_english() -> None:
    english = translator("en")
    assert english.gettext("Không có") == "None"
    assert english.gettext("Đã lưu: {answer}").startswith("Saved")
