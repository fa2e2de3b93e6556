"""What the city summary says beyond totals, computed from the units' reports: who has not
handed in or was late, whose shares stand far from the city's, which units chose a rare answer,
and the units' own words on difficulties and proposals. Pure: reports in, plain data out.

The rule for "outside the norm" (argued in docs/city-summary.md): a unit is named on a share when
it is at least NORM_GAP_POINTS percentage points worse than the city's share recomputed from the
summed figures, or, where the plan sets a floor (self-inspection of more than 50% of the sub-units,
Kế hoạch 20/KH-UBND §II.2.a), when it does not clear that floor. A gap of 20 points is wide enough
that rounding or one unusual month cannot put a unit there, and narrow enough to catch a unit that
resolved a third of its dossiers late while the city resolved 97% on time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from documents.model import UnitReport
from engine.answers import AnswerKind
from engine.figures import NOT_ARISING
from engine.question import Question

NORM_GAP_POINTS = Decimal(20)
# A choice made by so few units is worth their names (e.g. the units that met difficulties).
FEW_UNITS = 10


@dataclass(frozen=True)
class Norm:
    """How a share is judged: which way is better, and the plan's floor if it sets one."""

    higher_is_better: bool = True
    floor: Decimal | None = None  # the plan asks for MORE than this


# The shares judged, by question name; the late share mirrors the on-time one and is left out.
NORMS: dict[str, Norm] = {
    "dossiers_on_time_rate": Norm(),
    "dossiers_postal_rate": Norm(),
    "results_postal_rate": Norm(),
    "one_stop_desk_rate": Norm(),
    "self_inspection_coverage": Norm(floor=Decimal(50)),
}


@dataclass(frozen=True)
class Standing:
    """Where the units stand on handing in, as of a day."""

    handed_in: tuple[UnitReport, ...]
    on_time: tuple[UnitReport, ...]
    late: tuple[UnitReport, ...]  # handed in after their deadline
    missing: tuple[UnitReport, ...]  # not handed in (drafting, sent back, not started)
    overdue: tuple[UnitReport, ...]  # of the missing, those past their deadline (a report sent
    # back after handing it in on time is overdue all the same once the deadline has passed)


def standing(reports: Sequence[UnitReport], today: date) -> Standing:
    handed_in = tuple(r for r in reports if r.submitted)
    late = tuple(r for r in handed_in if r.late_as_of(today))
    missing = tuple(r for r in reports if not r.submitted)
    return Standing(handed_in, tuple(r for r in handed_in if r not in late), late, missing,
                    tuple(r for r in missing if today > r.deadline))


@dataclass(frozen=True)
class Outlier:
    unit: UnitReport
    share: Decimal


def outliers(question: Question, reports: Iterable[UnitReport], city: object) -> tuple[Outlier, ...]:
    """The handed-in units whose share of `question` is outside the norm (see the module's doc),
    worst first; none for a share not judged."""
    norm = NORMS.get(question.name)
    if norm is None:
        return ()
    found = []
    for report in reports:
        if not report.submitted:
            continue
        value = report.calculated.get(question.name)
        if value is None or value is NOT_ARISING:
            continue
        share = Decimal(str(value))
        if _outside(share, city, norm):
            found.append(Outlier(report, share))
    return tuple(sorted(found, key=lambda o: o.share if norm.higher_is_better else -o.share))


def _outside(share: Decimal, city: object, norm: Norm) -> bool:
    if norm.floor is not None and share <= norm.floor:
        return True
    if city is None or city is NOT_ARISING:
        return False
    gap = Decimal(str(city)) - share if norm.higher_is_better else share - Decimal(str(city))
    return gap >= NORM_GAP_POINTS


def choosers(question: Question, reports: Iterable[UnitReport]) -> dict[str, tuple[UnitReport, ...]]:
    """Handed-in units per chosen value of a yes/no or single-choice item."""
    chosen: dict[str, list[UnitReport]] = {}
    for report in reports:
        answer = report.answers.get(question.name)
        if report.submitted and answer is not None and answer.kind is AnswerKind.VALUE:
            chosen.setdefault(str(answer.value), []).append(report)
    return {value: tuple(units) for value, units in chosen.items()}


def quoted(question: Question) -> bool:
    """Whether the summary quotes each unit's own words for an item: difficulties and
    obstacles wherever the outline asks for them, and every recommendation and proposal
    (Đề cương part IV)."""
    if question.type != "text":
        return False
    label = question.label.vi.casefold()
    return question.section_number.startswith("IV") or "khó khăn" in label or "vướng mắc" in label


@dataclass(frozen=True)
class Quote:
    """One text and the units that wrote it (word for word, spacing aside)."""

    text: str
    units: tuple[UnitReport, ...]


def quotes(question: Question, reports: Iterable[UnitReport]) -> tuple[Quote, ...]:
    """The handed-in units' texts for an item, units with the same words together, in the order
    the units come."""
    grouped: dict[str, list[UnitReport]] = {}
    shown: dict[str, str] = {}
    for report in reports:
        answer = report.answers.get(question.name)
        if not report.submitted or answer is None or answer.kind is not AnswerKind.VALUE:
            continue
        text = str(answer.value).strip()
        key = " ".join(text.split()).casefold()
        grouped.setdefault(key, []).append(report)
        shown.setdefault(key, text)
    return tuple(Quote(shown[key], tuple(units)) for key, units in grouped.items())


def names(units: Iterable[UnitReport]) -> str:
    """"Xã A, Phường B" in the order given."""
    return ", ".join(unit.unit_name for unit in units)
