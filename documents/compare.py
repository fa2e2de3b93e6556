"""This period beside the same period a year before (kỳ này / cùng kỳ năm trước / tăng, giảm):
the wording every document uses."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from documents.shares import count_text, points_text, share_text
from engine.figures import NOT_ARISING

SAME_PERIOD_LAST_YEAR = "cùng kỳ năm trước"


def change_text(now: Any, before: Any, *, rate: bool, locale: str = "vi") -> str | None:
    """"tăng 25,0%", "giảm 1,5 điểm phần trăm", "không thay đổi": a figure's change in per cent of
    last period's (from nothing: by how much), a rate's in percentage points, both at the one
    precision of shares (documents.shares); None where either side is missing or did not arise."""
    if now is None or before is None or now is NOT_ARISING or before is NOT_ARISING:
        return None
    current, earlier = Decimal(str(now)), Decimal(str(before))
    way = "tăng" if current > earlier else "giảm"
    if current == earlier:
        return "không thay đổi"
    if rate:
        return f"{way} {points_text(abs(current - earlier), locale)} điểm phần trăm"
    if earlier == 0:
        return f"tăng {count_text(current, locale)}"
    return f"{way} {share_text(abs(current - earlier) / earlier * 100, locale)}"


def change_percent(now: Any, before: Any) -> float | None:
    """The change in per cent of last period's figure, for a spreadsheet cell; None where it
    cannot be said (either side missing or not arising, or last period's was 0)."""
    if now is None or before is None or now is NOT_ARISING or before is NOT_ARISING:
        return None
    earlier = Decimal(str(before))
    if earlier == 0:
        return None
    return float(((Decimal(str(now)) - earlier) / earlier * 100).quantize(Decimal("0.01"), ROUND_HALF_UP))
