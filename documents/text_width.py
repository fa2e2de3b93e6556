"""How wide a line of Times New Roman is, and where to break a name into lines that fit.

Word and LibreOffice break a cell's text wherever the line is full ("ỦY BAN NHÂN" over "DÂN"),
which no office would sign. The header therefore breaks the issuing body's name itself, between
words it chooses, into lines narrow enough that the word processor never breaks them again. The
widths are Times New Roman's (Liberation Serif, which LibreOffice uses for it, has the same
metrics); Vietnamese marks sit above or below their letter and take no width of their own."""

from __future__ import annotations

import itertools
import unicodedata

# Advance widths of Times New Roman Bold in thousandths of an em (the regular face is narrower,
# so a line measured bold fits in either).
_BOLD_WIDTHS = {
    **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", (722, 667, 722, 722, 667, 611, 778, 778, 389, 500, 778, 667,
                                             944, 722, 778, 611, 778, 722, 556, 667, 722, 722, 1000, 722,
                                             722, 667), strict=True)),
    **dict.fromkeys("abcdeghknopqsuvxyz", 556), **dict.fromkeys("fijlrt", 333), "m": 833, "w": 722,
    **dict.fromkeys("0123456789", 500), " ": 250, ",": 250, ".": 250, "-": 333, "(": 333, ")": 333,
    "/": 278, "&": 833,
}
_OTHER = 778  # a character not in the table: as wide as the widest capitals
_PT_MM = 25.4 / 72
# Phrases a line never ends inside: the name of a People's Committee or Council.
KEPT_TOGETHER = ("ỦY BAN NHÂN DÂN", "HỘI ĐỒNG NHÂN DÂN", "THÀNH PHỐ CẦN THƠ")


def width_mm(text: str, size_pt: float) -> float:
    """The printed width of `text` in bold at `size_pt` points."""
    total = 0
    for character in unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d")):
        if unicodedata.combining(character):
            continue
        total += _BOLD_WIDTHS.get(character, _OTHER)
    return total / 1000 * size_pt * _PT_MM


def _words(text: str) -> list[str]:
    """The words of `text`, with each kept-together phrase as one word."""
    words = text.split()
    joined: list[str] = []
    index = 0
    while index < len(words):
        for phrase in KEPT_TOGETHER:
            size = len(phrase.split())
            if " ".join(words[index:index + size]).upper() == phrase:
                joined.append(" ".join(words[index:index + size]))
                index += size
                break
        else:
            joined.append(words[index])
            index += 1
    return joined


def break_lines(text: str, size_pt: float, room_mm: float, first: str | None = None) -> list[str]:
    """`text` in as few lines as fit in `room_mm`, the longest as short as can be (balanced
    lines read better than a full one over a stub); never inside a kept-together phrase, and
    after `first` where the text starts with it (a People's Committee's title on its own line,
    as is the custom). A word wider than the room stays whole on a line of its own."""
    if first and text.upper().startswith(first + " "):
        return [text[:len(first)], *break_lines(text[len(first) + 1:], size_pt, room_mm)]
    words = _words(text)
    for lines in range(1, len(words) + 1):
        best: list[str] | None = None
        for cuts in itertools.combinations(range(1, len(words)), lines - 1):
            bounds = (0, *cuts, len(words))
            candidate = [" ".join(words[a:b]) for a, b in itertools.pairwise(bounds)]
            widest = max(width_mm(line, size_pt) for line in candidate)
            if widest <= room_mm and (best is None or widest < max(width_mm(x, size_pt) for x in best)):
                best = candidate
        if best is not None:
            return best
    return words
