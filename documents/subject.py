"""What a report says it is: its subject line (trích yếu) and the words of its opening sentence,
from the outline it answers, so the remediation report does not call itself the Đề cương's.

An outline may state both (`outline.subject`, `outline.opening`); otherwise they come from its
title: "Báo cáo tình hình, kết quả khắc phục …" reports on "Tình hình, kết quả khắc phục …", and
an outline of a report ("Đề cương báo cáo hoạt động kiểm soát thủ tục hành chính năm 2021") on
"Tình hình, kết quả thực hiện hoạt động kiểm soát thủ tục hành chính". The year is the period's,
not the title's: the document adds it where it has no period line."""

from __future__ import annotations

import re

from engine.outline import Outline

_OUTLINE_OF = re.compile(r"^đề cương\s+báo cáo\s+", re.IGNORECASE)
_REPORT = re.compile(r"^báo cáo\s+", re.IGNORECASE)
_TRAILING_YEAR = re.compile(r"\s+năm\s+(19|20)\d\d\s*$", re.IGNORECASE)
_RESULTS_OF = "Tình hình, kết quả thực hiện "


def report_subject(outline: Outline) -> str:
    """The subject line of a unit's report on `outline`, without a year."""
    stated = " ".join(outline.meta.subject.split())
    if stated:
        return _TRAILING_YEAR.sub("", stated)
    title = _TRAILING_YEAR.sub("", " ".join(outline.meta.title.vi.split()))
    if _OUTLINE_OF.match(title):
        return _RESULTS_OF + _OUTLINE_OF.sub("", title)
    return upper_first(_REPORT.sub("", title))


def report_opening(outline: Outline) -> str:
    """The opening sentence's words after the unit's name, before the period: "báo cáo tình
    hình, kết quả thực hiện hoạt động kiểm soát thủ tục hành chính"."""
    stated = " ".join(outline.meta.opening.split())
    return stated.rstrip(" .:") if stated else "báo cáo " + lower_first(report_subject(outline))


def summary_phrase(outline: Outline) -> str:
    """What the city summary compiles: the report's subject mid-sentence."""
    return lower_first(report_subject(outline))


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def lower_first(text: str) -> str:
    """Mid-sentence: the first letter in lower case, unless the word is a name in capitals."""
    if len(text) > 1 and text[1].isupper():
        return text
    return text[:1].lower() + text[1:]
