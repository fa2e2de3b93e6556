"""Text normalisation for matching what officers type: case, spacing and diacritics; and what
any text from outside becomes before it is read or stored."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Kept in answers: tab and line break. Dropped: every other control character (NUL included:
# PostgreSQL refuses it in text, and a .docx cannot hold it), and the invisible format
# characters a copy from a web page or a word processor brings along (zero-width space,
# byte-order mark, direction marks). The zero-width joiner stays: it holds emoji together.
# What is not text at all (an unpaired surrogate from a broken client, the non-characters
# U+FFFE/U+FFFF no XML document may carry) becomes "�".
_KEPT_FORMAT = "\u200d"
_NOT_TEXT = re.compile("[\ud800-\udfff\ufffe\uffff]")


_DROPPED_CATEGORIES = ("Cc", "Cf")


def clean(text: str) -> str:
    """`text` as something that can be stored, printed and put in a document: line ends as
    "\\n", control and invisible format characters dropped, what is not text shown as "�"."""
    if text.isprintable():
        return text  # the common case, at no cost: no control, format or non-character in it
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Only the few distinct characters Python does not print need their category looked up.
    dropped = {ord(c): None for c in set(text)
               if not c.isprintable() and c not in "\t\n" and c != _KEPT_FORMAT
               and unicodedata.category(c) in _DROPPED_CATEGORIES}
    return _NOT_TEXT.sub("\ufffd", text.translate(dropped) if dropped else text)


_INVISIBLE = re.compile(r"[\s\u200d]+")


def visible(text: str) -> bool:
    """Whether `text` has anything to read once spaces and joiners are set aside."""
    return bool(_INVISIBLE.sub("", text))


_MARKS = re.compile("[\u0300-\u036f]")  # the combining accents Vietnamese (and Latin) letters take


def fold(text: str) -> str:
    """Lower-case, collapse spaces and drop Vietnamese diacritics ("Không có" → "khong co")."""
    lowered = clean(text).lower()
    if not lowered.isascii():
        lowered = lowered.replace(_KEPT_FORMAT, "")
        lowered = _MARKS.sub("", unicodedata.normalize("NFD", lowered.replace("đ", "d")))
    return " ".join(lowered.split())


def tidy_name(name: str) -> str:
    """A name as shown and stored: single spaces, none at the ends ("Xã  Phú Hữu" → "Xã Phú Hữu")."""
    return " ".join(name.split())


# The Vietnamese alphabet in its order: Ă and Â after A, Đ after D, Ê after E, Ô and Ơ after O,
# Ư after U. A letter is its base and the marks that make it a letter (breve, circumflex, horn);
# the tone marks order words that are otherwise the same: none, huyền, hỏi, ngã, sắc, nặng.
_ALPHABET = ("a", "a\u0306", "a\u0302", "b", "c", "d", "đ", "e", "e\u0302", "f", "g", "h", "i", "j", "k", "l",
             "m", "n", "o", "o\u0302", "o\u031b", "p", "q", "r", "s", "t", "u", "u\u031b", "v", "w", "x",
             "y", "z")
_LETTER_ORDER = {letter: index for index, letter in enumerate(_ALPHABET)}
_TONE_ORDER = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


@lru_cache(maxsize=16_384)  # unit names, sorted again for every board and overview
def vietnamese_order(text: str) -> tuple[tuple[tuple[int, int], ...], tuple[int, ...]]:
    """A sort key putting names in Vietnamese dictionary order (Python's own puts "Đ" after "Z")."""
    letters: list[tuple[int, int]] = []
    tones: list[int] = []
    for char in tidy_name(text).lower():
        decomposed = unicodedata.normalize("NFD", char)
        tone = next((_TONE_ORDER[mark] for mark in decomposed if mark in _TONE_ORDER), 0)
        letter = "".join(mark for mark in decomposed if mark not in _TONE_ORDER)
        index = _LETTER_ORDER.get(letter)
        letters.append((1, index) if index is not None else (0, ord(letter[:1] or " ")))
        tones.append(tone)
    return tuple(letters), tuple(tones)
