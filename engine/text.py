"""Text normalisation for matching what officers type: case, spacing and diacritics; and what
any text from outside becomes before it is read or stored."""

from __future__ import annotations

import re
import unicodedata

# Kept in answers: tab and line break. Dropped: every other control character (NUL included:
# PostgreSQL refuses it in text, and a .docx cannot hold it), and the invisible format
# characters a copy from a web page or a word processor brings along (zero-width space,
# byte-order mark, direction marks). The zero-width joiner stays: it holds emoji together.
_KEPT_CONTROLS = frozenset("\t\n")
_KEPT_FORMAT = frozenset("\u200d")
_UNSTORABLE = frozenset("\ufffe\uffff")  # not characters; no XML document may carry them


def clean(text: str) -> str:
    """`text` as something that can be stored, printed and put in a document: line ends as
    "\\n", control and invisible characters dropped, and what is not text at all (an unpaired
    surrogate from a broken client, undecodable bytes) shown as "�" rather than crash."""
    if text.isascii() and text.isprintable():
        return text  # the common case, at no cost
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category == "Cs" or ch in _UNSTORABLE:
            kept.append("\ufffd")
        elif (category == "Cc" and ch not in _KEPT_CONTROLS) or (category == "Cf" and ch not in _KEPT_FORMAT):
            continue
        else:
            kept.append(ch)
    return "".join(kept)


_INVISIBLE = re.compile(r"[\s\u200d]+")


def visible(text: str) -> bool:
    """Whether `text` has anything to read once spaces and joiners are set aside."""
    return bool(_INVISIBLE.sub("", text))


def fold(text: str) -> str:
    """Lower-case, collapse spaces and drop Vietnamese diacritics ("Không có" → "khong co")."""
    decomposed = unicodedata.normalize("NFD", clean(text).strip().lower().replace("đ", "d"))
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Cf"))
    return " ".join(bare.split())
