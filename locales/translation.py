"""Gettext catalogs (compiled with Babel, shipped beside this module): Vietnamese first, English
too. Every layer that speaks to people translates through here, so it sits at the bottom."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent
SUPPORTED = ("vi", "en")
DEFAULT_LOCALE = "vi"


@dataclass(frozen=True)
class Translator:
    """A catalog bound to one locale; satisfies engine.i18n.Translator."""

    locale: str
    catalog: NullTranslations

    def gettext(self, message: str) -> str:
        return self.catalog.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.catalog.ngettext(singular, plural, n)


@cache
def translator(locale: str = DEFAULT_LOCALE) -> Translator:
    chosen = locale if locale in SUPPORTED else DEFAULT_LOCALE
    catalog = Translations.load(str(LOCALES_DIR), [chosen], domain="messages")
    return Translator(chosen, catalog)
