"""Translation moved to locales.translation (issue 19); this name stays only until the last
importers, busy with issue 17, take it from there."""

from locales.translation import DEFAULT_LOCALE, LOCALES_DIR, SUPPORTED, Translator, translator

__all__ = ["DEFAULT_LOCALE", "LOCALES_DIR", "SUPPORTED", "Translator", "translator"]
