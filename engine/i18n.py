"""What the pure engine needs of translation: a marker for message ids and a translator shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


def N_(message: str) -> str:
    """Mark a message id for extraction; it is translated when rendered."""
    return message


class Translator(Protocol):
    """A gettext translator bound to one locale ("vi" or "en")."""

    @property
    def locale(self) -> str: ...

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


@dataclass(frozen=True)
class Message:
    """A user-facing sentence not yet translated: a message id and its parameters."""

    msgid: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, translator: Translator) -> str:
        text = translator.gettext(self.msgid)
        if not self.params:
            return text
        rendered = {
            key: value.render(translator) if hasattr(value, "render") else value
            for key, value in self.params.items()
        }
        return text.format(**rendered)
