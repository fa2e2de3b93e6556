"""Answers as the engine sees them, and what expressions see of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from engine.outline import Outline
from engine.qtypes import NUMBER_CEILING, QUESTION_TYPES
from engine.question import Question


class AnswerKind(StrEnum):
    VALUE = "value"
    NONE = "none"  # the explicit "không có": nothing to report
    SKIPPED = "skipped"  # left for later; still counts as unanswered


@dataclass(frozen=True)
class Answer:
    kind: AnswerKind
    value: Any = None

    @property
    def given(self) -> bool:
        """A value or "không có": what completes a required item."""
        return self.kind in (AnswerKind.VALUE, AnswerKind.NONE)

    @classmethod
    def of(cls, value: Any) -> Answer:
        return cls(AnswerKind.VALUE, value)


NONE_ANSWER = Answer(AnswerKind.NONE)
SKIPPED_ANSWER = Answer(AnswerKind.SKIPPED)
Answers = Mapping[str, Answer]


def serialise(question: Question, answer: Answer) -> str | None:
    if answer.kind is not AnswerKind.VALUE:
        return None
    return QUESTION_TYPES[question.type].to_storage(answer.value)


def deserialise(question: Question, kind: str, stored: str | None) -> Answer:
    answer_kind = AnswerKind(kind)
    if answer_kind is not AnswerKind.VALUE or stored is None:
        return Answer(answer_kind)
    return Answer.of(QUESTION_TYPES[question.type].from_storage(stored))


def expression_value(question: Question, answer: Answer) -> Any:
    """The value an expression sees: numbers as numbers, "không có" as 0 for figures."""
    if answer.kind is AnswerKind.NONE:
        return 0 if question.numeric else None
    value = answer.value
    return float(value) if isinstance(value, Decimal) else value


def expression_answers(outline: Outline, answers: Answers) -> dict[str, Any]:
    """Name → value for every given answer (skipped and unanswered are absent)."""
    return {
        name: expression_value(outline.question(name), answer)
        for name, answer in answers.items()
        if answer.given and outline.has_question(name) and not _beyond_reckoning(answer)
    }


def _beyond_reckoning(answer: Answer) -> bool:
    """A figure saved before figures had bounds, too large for a float: it is shown as saved,
    but no rate or rule can be worked out from it (as if it were not given yet)."""
    value = answer.value
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return False
    return abs(Decimal(value)) > NUMBER_CEILING
