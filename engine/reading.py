"""What an outline means for one report's answers, read without changing them: computed
figures, which questions apply, progress and warnings, the rules an answer would break, where the
officer is, last period's figures, comparisons and the review. The conversation's steps
(engine.conversation) are built on it."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from engine.answers import Answer, AnswerKind, expression_answers
from engine.answers import expression_value as answer_expression_value
from engine.expressions import ExpressionError, MissingReference
from engine.figures import NOT_ARISING, CalculatedValue, rounded
from engine.outline import Outline
from engine.question import Question
from engine.text import fold
from engine.views import (
    FigureMessage,
    Notice,
    NoticeKind,
    ReviewItem,
    ReviewView,
    SectionProgress,
    State,
)


class ReportReading:
    """Answers questions about one outline; holds no state of its own between calls, only a
    cache of the values last computed (see `values`)."""

    def __init__(self, outline: Outline) -> None:
        self.outline = outline
        self._values_memo: tuple[Mapping[str, Answer], str, dict[str, Any]] | None = None
        self._relevance_memo: tuple[dict[str, Any], list[tuple[Question, bool | None]]] | None = None
        self._asked_names = frozenset(q.name for q in outline.asked_questions)
        self._calculated_questions = tuple(q for q in outline.questions if q.calculate is not None)
        self._dependents: dict[str, tuple[Question, ...]] = {
            q.name: tuple(
                other for other in outline.questions
                if other.constraint is not None and q.name in other.constraint.references
            )
            for q in outline.questions
        }

    # ----- what the outline means for these answers ------------------------------------------

    def context(self, state: State) -> dict[str, Any]:
        return {"unit_level": state.unit_level}

    def values(self, state: State, answers: dict[str, Answer] | None = None) -> dict[str, Any]:
        """Expression values of the given answers plus every computable calculated item.

        One step asks this of the same answers several times (where am I, what is next, how
        far along): the last result is kept. Answers are never changed in place (a step makes
        a new dict), so the same dict object at the same unit level means the same values."""
        given = state.answers if answers is None else answers
        memo = self._values_memo
        if memo is not None and memo[0] is given and memo[1] == state.unit_level:
            return memo[2]
        values = self._compute_values(state, given)
        self._values_memo = (given, state.unit_level, values)
        return values

    def _compute_values(self, state: State, answers: Mapping[str, Answer]) -> dict[str, Any]:
        values = expression_answers(self.outline, answers)
        for question in self._calculated_questions:
            assert question.calculate is not None
            if question.relevant is not None and not self.is_relevant(question, state, values):
                continue
            try:
                result = question.calculate.evaluate(values, self.context(state))
            except (MissingReference, ExpressionError):
                continue
            if result is not None:
                values[question.name] = float(result)
        return values

    def calculated(self, state: State) -> dict[str, CalculatedValue]:
        """Every calculated item that can be worked out, rounded to 2 decimals; a rate whose
        figures are all given but whose denominator is 0 is NOT_ARISING ("không phát sinh")."""
        values = self.values(state)
        result: dict[str, CalculatedValue] = {}
        for question in self._calculated_questions:
            if question.name in values:
                result[question.name] = rounded(values[question.name])
            elif self._divides_by_zero(question, state, values):
                result[question.name] = NOT_ARISING
        return result

    def _divides_by_zero(self, question: Question, state: State, values: dict[str, Any]) -> bool:
        """Whether a calculated item has every figure it needs and still no value: its
        division is by zero (the expression evaluates to None only then)."""
        assert question.calculate is not None
        if not question.calculate.references <= values.keys():
            return False
        if not self.is_relevant(question, state, values):
            return False
        try:
            return question.calculate.evaluate(values, self.context(state)) is None
        except ExpressionError:
            return False

    def relevance(self, question: Question, state: State, values: dict[str, Any]) -> bool | None:
        """True or False, or None while an answer it depends on is not given yet."""
        if question.relevant is None:
            return True
        try:
            return bool(question.relevant.evaluate(values, self.context(state)))
        except MissingReference as missing:
            # A detail of a question that is itself never asked is never asked either.
            depended_on = self.outline.question(str(missing.args[0]))
            if self.relevance(depended_on, state, values) is False:
                return False
            return None

    def is_relevant(self, question: Question, state: State, values: dict[str, Any]) -> bool:
        return self.relevance(question, state, values) is True

    def relevant_questions(self, state: State) -> list[Question]:
        """The questions to ask now, in order."""
        return [q for q, relevant in self._asked_relevance(state) if relevant is True]

    def counted_questions(self, state: State) -> list[Question]:
        """The questions the officer may still be asked: those to ask now and those waiting on
        an earlier answer (a "nếu có" detail before its yes/no). Counting these keeps "câu N/M"
        steady until an answer really removes items."""
        return [q for q, relevant in self._asked_relevance(state) if relevant is not False]

    def _asked_relevance(self, state: State) -> list[tuple[Question, bool | None]]:
        """Each asked question with its relevance, kept with the values it was worked out from
        (a step asks for it several times, as for the values)."""
        values = self.values(state)
        memo = self._relevance_memo
        if memo is not None and memo[0] is values:
            return memo[1]
        relevance = [(q, True if q.relevant is None else self.relevance(q, state, values))
                     for q in self.outline.asked_questions]
        self._relevance_memo = (values, relevance)
        return relevance

    def section_progress(self, state: State) -> tuple[SectionProgress, ...]:
        values = self.values(state)
        progress = []
        for section in self.outline.sections:
            verdicts = [(q, self.relevance(q, state, values)) for q in section.questions if q.asked]
            counted = [q for q, verdict in verdicts if verdict is not False]
            given = [q for q in counted if self._given(state, q.name)]
            missing = tuple(q for q, verdict in verdicts
                            if verdict and q.required and not self._given(state, q.name))
            progress.append(SectionProgress(section, len(given), len(counted), missing))
        return tuple(progress)

    def missing_required(self, state: State) -> tuple[Question, ...]:
        return tuple(q for p in self.section_progress(state) for q in p.missing_required)

    def warnings(self, state: State, only_about: str | None = None) -> tuple[Notice, ...]:
        """Soft findings that do not block an answer: a rate below what the plan requires
        (self-inspection coverage ≤ 50%), two answers to the same concept that differ (8.3.a
        and 3.1.d)."""
        values = self.values(state)
        notices = []
        for question in self.outline.questions:
            if question.warning is None or question.warning_message is None:
                continue
            if question.name not in values:
                continue
            if only_about and only_about not in self._inputs_of(question):
                continue
            if not self.is_relevant(question, state, values):
                continue
            current = values[question.name]
            try:
                flagged = question.warning.evaluate(values, self.context(state), current)
            except MissingReference:
                continue
            if flagged:
                figures = self._figures(question.warning.references, values)
                # A computed rate is shown as reports print it; an asked figure as typed.
                shown = current if question.asked else Decimal(str(current)).quantize(Decimal("0.01"))
                figures["value"] = (question, shown)
                notices.append(Notice(NoticeKind.WARNING,
                                      FigureMessage(question.warning_message, figures)))
        return tuple(notices)

    def _inputs_of(self, question: Question) -> set[str]:
        """The asked questions a warning depends on, directly or through calculated items: an
        asked question's own warning (a cross-check with another question) depends on it too."""
        names: set[str] = {question.name} if question.asked else set()
        pending = [question]
        while pending:
            current = pending.pop()
            for expression in (current.calculate, current.warning):
                if expression is None:
                    continue
                for name in expression.references:
                    if name not in names:
                        names.add(name)
                        pending.append(self.outline.question(name))
        return names

    # ----- where the officer is --------------------------------------------------------------

    def _given(self, state: State, name: str) -> bool:
        answer = state.answers.get(name)
        return answer is not None and answer.given

    def first_open(self, state: State, after: str | None = None) -> str | None:
        """Where to go next: the first unanswered question after `after`, wrapping round,
        and the ones left for later only when nothing else is open."""
        relevant = self.relevant_questions(state)
        names = [q.name for q in relevant]
        start = names.index(after) + 1 if after in names else 0
        ordered = names[start:] + names[:start]
        for name in ordered:
            if name not in state.answers:
                return name
        for name in ordered:
            if not self._given(state, name):
                return name
        return None

    def is_current(self, state: State, name: str) -> bool:
        """Whether `name` is the question the officer is at (buttons of older ones are stale)."""
        return not state.submitted and self._current(state) == name

    def _cursor_valid(self, state: State) -> bool:
        """Whether the cursor is a question to ask now: its own relevance, not every question's
        (this runs several times in every step)."""
        if state.cursor is None or state.cursor not in self._asked_names:
            return False
        question = self.outline.question(state.cursor)
        # Values only when its relevance needs them: most questions are always asked.
        return question.relevant is None or self.is_relevant(question, state, self.values(state))

    def _current(self, state: State) -> str | None:
        return state.cursor if self._cursor_valid(state) else self.first_open(state)

    # ----- the rules an answer would break ---------------------------------------------------

    def check_rules(
        self, state: State, question: Question, answer: Answer, answers: dict[str, Answer]
    ) -> Notice | None:
        """The first cross-field rule the tentative answer breaks, as an error naming figures."""
        broken = self.broken_rules(state, question, answer, answers)
        return broken[0][1] if broken else None

    def broken_rules(
        self, state: State, question: Question, answer: Answer, answers: dict[str, Answer]
    ) -> list[tuple[Question, Notice]]:
        """Every rule the tentative answer breaks: the question's own, then those of answered
        questions that refer to it; each as an error naming the figures."""
        if answer.kind is AnswerKind.NONE and not question.numeric:
            return []
        values = self.values(state, answers)
        broken = []
        for checked in (question, *self._dependents[question.name]):
            constraint = checked.constraint
            if constraint is None or checked.constraint_message is None:
                continue
            if checked is not question and checked.name not in values:
                continue
            if not self.is_relevant(checked, state, values):
                continue
            current = (answer_expression_value(question, answer) if checked is question
                       else values[checked.name])
            try:
                satisfied = constraint.evaluate(values, self.context(state), current)
            except MissingReference:
                continue
            if satisfied is False or satisfied is None:
                figures = self._figures(constraint.references, values)
                figures["value"] = (checked, current)
                notice = Notice(NoticeKind.ERROR, FigureMessage(checked.constraint_message, figures))
                broken.append((checked, notice))
        return broken

    def _figures(self, names: Iterable[str], values: dict[str, Any]) -> dict[str, tuple[Question, Any]]:
        return {name: (self.outline.question(name), values.get(name, 0)) for name in names}

    # ----- a section or question the officer names -------------------------------------------

    def find_target(self, state: State, text: str) -> str | None:
        """A question name for what the officer typed: a section ("4", "I.4", "II"),
        a question number ("4.3.a") or a question name."""
        wanted = fold(text).replace(" ", "").removeprefix("muc").removeprefix("cau")
        relevant = self.relevant_questions(state)
        # Exact number first: the outline letters items "d" and "đ" apart ("4.3.d", "4.3.đ"),
        # and folding alone would send "4.3.đ" to "4.3.d".
        exact = "".join(unicodedata.normalize("NFC", text).lower().split())
        exact = exact.removeprefix("mục").removeprefix("câu")
        for question in self.outline.questions:
            if exact == question.number.lower():
                return question.name if question.name in {q.name for q in relevant} else None
        for question in relevant:
            if wanted in (fold(question.number), question.name):
                return question.name
        for section in self.outline.sections:
            numbers = {fold(section.number)}
            if section.number.startswith("I."):
                numbers.add(fold(section.number.removeprefix("I.")))
            if wanted in numbers:
                in_section = [q.name for q in relevant if q.section_number == section.number]
                for name in in_section:
                    if not self._given(state, name):
                        return name
                return in_section[0] if in_section else None
        return None

    # ----- last period, and the report read back ---------------------------------------------

    def previous_figures(self, state: State, with_calculated: bool = False) -> dict[str, Any]:
        """Last period's figures of the unit (its answers in the previous campaign of the same
        kind): name → value of every figure question ("không có" is 0), and with
        `with_calculated` every calculated item worked out on them."""
        if not state.previous:
            return {}
        figures: dict[str, Any] = {}
        for name, answer in state.previous.items():
            if not self.outline.has_question(name) or not answer.given:
                continue
            question = self.outline.question(name)
            if question.asked and question.numeric:
                figures[name] = answer.value if answer.kind is AnswerKind.VALUE else 0
        if with_calculated:
            earlier = State(answers=dict(state.previous), unit_level=state.unit_level)
            figures.update(self._calculated_on(earlier))
        return figures

    def comparisons(self, state: State) -> tuple[tuple[Question, Any, Any], ...]:
        """Every figure and rate with a value this period and last, in the outline's order:
        (question, this period's, last period's); the draft of Đề cương II's comparison."""
        previous = self.previous_figures(state, with_calculated=True)
        if not previous:
            return ()
        values = self.values(state)
        calculated = self.calculated(state)
        found = []
        for question in self.outline.questions:
            if question.name not in previous or not question.numeric:
                continue
            if question.asked:
                answer = state.answers.get(question.name)
                if answer is None or not answer.given or not self.is_relevant(question, state, values):
                    continue
                now = answer.value if answer.kind is AnswerKind.VALUE else 0
            elif question.name in calculated:
                now = calculated[question.name]
            else:
                continue
            found.append((question, now, previous[question.name]))
        return tuple(found)

    def _calculated_on(self, state: State) -> dict[str, CalculatedValue]:
        """`calculated` for answers other than the ones being worked on, leaving their cache."""
        memo = self._values_memo
        try:
            return self.calculated(state)
        finally:
            self._values_memo = memo

    def review(self, state: State) -> ReviewView:
        values = self.values(state)
        calculated = self.calculated(state)
        previous = self.previous_figures(state, with_calculated=True)
        grouped = []
        for section in self.outline.sections:
            items = tuple(
                ReviewItem(q, state.answers.get(q.name), calculated.get(q.name), previous.get(q.name))
                for q in section.questions
                if (q.asked and self.is_relevant(q, state, values))
                or (not q.asked and q.name in calculated)
            )
            grouped.append((section, items))
        return ReviewView(tuple(grouped), self.warnings(state), closed=state.submitted)

    def counts(self, state: State) -> tuple[int, int, int]:
        """(answered, of which "không có", relevant questions)."""
        relevant = self.relevant_questions(state)
        answers = [state.answers.get(q.name) for q in relevant]
        given = sum(1 for a in answers if a is not None and a.given)
        none_count = sum(1 for a in answers if a is not None and a.kind is AnswerKind.NONE)
        return given, none_count, len(relevant)
