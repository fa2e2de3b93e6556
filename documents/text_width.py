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
# Words of two or three syllables in the names of departments and their fields ("CÔNG NGHIỆP",
# "THƯƠNG BINH"): a Vietnamese word is written as separate syllables, and a line ending inside
# one ("CÔNG" over "NGHIỆP") reads as two words. Kept together unless the name then needs more
# lines than it would otherwise.
COMPOUND_WORDS = (
    "KHU CHẾ XUẤT", "KHU CÔNG NGHIỆP", "CÔNG NGHIỆP", "NÔNG NGHIỆP", "PHÁT TRIỂN", "NÔNG THÔN",
    "KẾ HOẠCH", "ĐẦU TƯ", "TÀI NGUYÊN", "MÔI TRƯỜNG", "GIAO THÔNG", "VẬN TẢI", "THÔNG TIN",
    "TRUYỀN THÔNG", "KHOA HỌC", "CÔNG NGHỆ", "LAO ĐỘNG", "THƯƠNG BINH", "XÃ HỘI", "VĂN HÓA",
    "THỂ THAO", "DU LỊCH", "Y TẾ", "GIÁO DỤC", "ĐÀO TẠO", "TƯ PHÁP", "NỘI VỤ", "TÀI CHÍNH",
    "XÂY DỰNG", "THANH TRA", "CÔNG THƯƠNG", "NGOẠI VỤ", "DÂN TỘC", "TÔN GIÁO", "QUẢN LÝ",
    "VĂN PHÒNG", "THÀNH PHỐ", "CẦN THƠ", "KINH TẾ", "CÔNG AN", "QUÂN SỰ", "BIÊN PHÒNG",
)


def width_mm(text: str, size_pt: float) -> float:
    """The printed width of `text` in bold at `size_pt` points."""
    total = 0
    for character in unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d")):
        if unicodedata.combining(character):
            continue
        total += _BOLD_WIDTHS.get(character, _OTHER)
    return total / 1000 * size_pt * _PT_MM


def _words(text: str, phrases: tuple[str, ...] = KEPT_TOGETHER) -> list[str]:
    """The words of `text`, with each of `phrases` as one word (the longest first)."""
    words = text.split()
    joined: list[str] = []
    index = 0
    by_length = sorted(phrases, key=lambda phrase: -len(phrase.split()))
    while index < len(words):
        for phrase in by_length:
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
    split = _balanced(words, size_pt, room_mm)
    whole = _balanced(_words(text, KEPT_TOGETHER + COMPOUND_WORDS), size_pt, room_mm)
    if whole is not None and (split is None or len(whole) <= len(split)):
        return whole
    return split or words


def _balanced(words: list[str], size_pt: float, room_mm: float) -> list[str] | None:
    """`words` in as few lines as fit, the longest line as short as can be; None if a word
    alone is wider than the room."""
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
    return None
