"""City-wide totals of the units' figures, and the rates recomputed from those totals."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from documents.model import SUBMITTED_STATUSES, UnitReport
from engine.answers import AnswerKind
from engine.expressions import ExpressionError, MissingReference
from engine.figures import NOT_ARISING, CalculatedValue, NotArising
from engine.outline import Outline
from engine.question import Question

_PRECISION = Decimal("0.0001")
SUMMED_TYPES = frozenset({"integer", "decimal"})
COUNTED_CHOICE_TYPES = frozenset({"yes_no", "select_one"})


class Totals(dict[str, Decimal | int | NotArising]):
    """Question name → city total: the sum of an integer or decimal item over the units that
    gave a figure (an int for integer items, a Decimal for decimal ones), and each calculated
    item (a rate) recomputed from those sums with the outline's own `calculate` expression
    (NOT_ARISING where its denominator totals 0).

    An item nobody answered is absent; an item every unit answered "không có" totals 0.
    Alongside the mapping:
    - `units`: how many reports were counted; `all_units`: how many were given;
    - `given[name]`: units that gave a value (a figure, a text, a choice, a date);
    - `none[name]`: units that answered "không có";
    - `choices[name]`: for yes/no and single-choice items, units per chosen value."""

    def __init__(self, units: int, all_units: int) -> None:
        super().__init__()
        self.units = units
        self.all_units = all_units
        self.given: Counter[str] = Counter()
        self.none: Counter[str] = Counter()
        self.choices: dict[str, Counter[str]] = {}

    def answered(self, name: str) -> int:
        """Units that answered the item at all (a value or "không có")."""
        return self.given[name] + self.none[name]


def totals(
    outline: Outline,
    reports: Iterable[UnitReport],
    *,
    statuses: Collection[str] | None = SUBMITTED_STATUSES,
) -> Totals:
    """The totals over the reports whose status is in `statuses` (by default those handed in
    and not sent back: submitted, resubmitted, accepted); `statuses=None` counts every report."""
    reports = list(reports)
    counted = [r for r in reports if statuses is None or r.status in statuses]
    result = Totals(units=len(counted), all_units=len(reports))
    sums: dict[str, Decimal | int] = {}
    asked = outline.asked_questions
    # name → (summed?, counted by choice?, zero): looked up once, not per answer.
    kinds = {q.name: (q.type in SUMMED_TYPES, q.type in COUNTED_CHOICE_TYPES, _zero(q)) for q in asked}
    given: dict[str, int] = dict.fromkeys(kinds, 0)
    none: dict[str, int] = dict.fromkeys(kinds, 0)
    value_kind, none_kind = AnswerKind.VALUE, AnswerKind.NONE
    for report in counted:
        for name, answer in report.answers.items():
            kind = kinds.get(name)
            if kind is None:
                continue
            summed, by_choice, zero = kind
            if answer.kind is none_kind:
                none[name] += 1
                if summed and name not in sums:
                    sums[name] = zero
            elif answer.kind is value_kind:
                given[name] += 1
                if summed:
                    sums[name] = sums.get(name, zero) + _figure(zero, answer.value)
                elif by_choice:
                    result.choices.setdefault(name, Counter())[str(answer.value)] += 1
    result.given.update({name: count for name, count in given.items() if count})
    result.none.update({name: count for name, count in none.items() if count})
    for question in asked:  # in the outline's order
        if question.name in sums:
            result[question.name] = sums[question.name]
    result.update(recompute_rates(outline, sums))
    return result


def recompute_rates(outline: Outline, figures: dict[str, Decimal | int]) -> dict[str, CalculatedValue]:
    """Every calculated item evaluated on `figures` (e.g. the city totals), as the engine would
    on one unit's answers: in outline order, so one calculated item may use another; an item
    whose inputs are missing, or whose `relevant` is false on these figures, is left out; a
    rate whose denominator totals 0 is NOT_ARISING ("không phát sinh", never 0%).
    Values keep 4 decimals (ReportEngine.calculated keeps 2): documents round shares once, to
    documents.shares' precision, from these, so 100/2300 = 4,3478% prints 4,3%, not 4,35% → 4,4%."""
    values: dict[str, Any] = {
        name: float(value) if isinstance(value, Decimal) else value for name, value in figures.items()
    }
    context = {"unit_level": None}  # a city total belongs to no unit level
    rates: dict[str, CalculatedValue] = {}
    for question in outline.questions:
        if question.calculate is None:
            continue
        try:
            if question.relevant is not None and not question.relevant.evaluate(values, context):
                continue
            result = question.calculate.evaluate(values, context)
        except (MissingReference, ExpressionError):
            continue
        if result is None:  # every figure given, and a division by zero
            rates[question.name] = NOT_ARISING
            continue
        values[question.name] = float(result)
        rates[question.name] = Decimal(str(result)).quantize(_PRECISION, ROUND_HALF_UP)
    return rates


def _zero(question: Question) -> Decimal | int:
    return 0 if question.type == "integer" else Decimal(0)


def _figure(zero: Decimal | int, value: Any) -> Decimal | int:
    """A figure as summed: an int for integer items (their zero is 0), else a Decimal."""
    if isinstance(zero, int):
        return int(value)
    return value if isinstance(value, Decimal) else Decimal(str(value))
