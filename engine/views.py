"""Platform-neutral results of a conversation step: what to show, what to tell, what to save."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

from engine.answers import Answer
from engine.i18n import Translator
from engine.outline import Section
from engine.qtypes import QUESTION_TYPES
from engine.question import Question, Text


class Action(StrEnum):
    """What an officer can do; channels turn words, commands and buttons into these."""

    ANSWER = "answer"
    NONE = "none"
    BACK = "back"
    SKIP = "skip"
    CONTINUE = "continue"
    CONTENTS = "contents"
    JUMP = "jump"
    PROGRESS = "progress"
    REVIEW = "review"
    SUBMIT = "submit"
    CONFIRM = "confirm"
    HELP = "help"
    ACCEPT_DRAFT = "draft"  # the draft shown with the question, accepted (engine/drafts.py)


class Mode(StrEnum):
    ANSWERING = "answering"
    CONTENTS = "contents"  # the next words name a section or question to jump to
    CONFIRMING = "confirming"  # the next word confirms the submission
    # The last answer was a long paste (refused as too long, or saved): a message that follows
    # it within seconds is the rest of it, which the officer's Telegram split (> 4,096 characters).
    OVERLONG = "overlong"
    LONG_SAVED = "long_saved"


class Renderable(Protocol):
    def render(self, translator: Translator) -> str: ...


@dataclass(frozen=True)
class FigureMessage:
    """An outline-authored message (constraint, warning) with figures formatted per locale."""

    text: Text
    figures: dict[str, tuple[Question, Any]]

    def render(self, translator: Translator) -> str:
        shown = {
            placeholder: QUESTION_TYPES[question.type].show(value, question, translator)
            for placeholder, (question, value) in self.figures.items()
        }
        return self.text.get(translator.locale).format(**shown)


class NoticeKind(StrEnum):
    SAVED = "saved"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    message: Renderable


@dataclass(frozen=True)
class Turn:
    action: Action
    text: str = ""
    target: str = ""
    choice: int | None = None  # a button's choice number: valid only on a choice question
    sent_at: datetime | None = None  # when the channel says the message was sent, if it says
    # The question the officer had in front of them when they typed this (the last one their
    # chat or terminal showed); None where it is not known. An answer typed against a question
    # that is no longer the open one (answered meanwhile on another channel or terminal) is
    # not saved under whatever question is open now.
    question: str | None = None


@dataclass(frozen=True)
class SectionProgress:
    section: Section
    given: int
    total: int
    missing_required: tuple[Question, ...]

    @property
    def complete(self) -> bool:
        return self.given == self.total


@dataclass(frozen=True)
class QuestionView:
    question: Question
    section: Section
    position: int
    total: int
    current: Answer | None
    actions: tuple[Action, ...]
    # The reporting period (first day, last day), for a figure counted within it.
    period: tuple[date, date] | None = None
    previous: Any = None  # the unit's figure in the previous campaign of the same kind
    # For an item comparing this period with last: (figure, this period's, last period's).
    comparisons: tuple[tuple[Question, Any, Any], ...] = ()
    draft: str | None = None  # a drafted answer the officer may accept (engine/drafts.py)


@dataclass(frozen=True)
class ContentsView:
    sections: tuple[SectionProgress, ...]


@dataclass(frozen=True)
class ProgressView:
    sections: tuple[SectionProgress, ...]
    given: int
    total: int
    warnings: tuple[Notice, ...]


@dataclass(frozen=True)
class ReviewItem:
    question: Question
    answer: Answer | None
    calculated: Any = None
    previous: Any = None  # last period's figure or rate, where the unit has one


@dataclass(frozen=True)
class ReviewView:
    sections: tuple[tuple[Section, tuple[ReviewItem, ...]], ...]
    warnings: tuple[Notice, ...]
    closed: bool = False  # handed in: to read, not to edit
    # One line per section (answered of asked) instead of every answer: what /xem shows first;
    # a section in full on asking ("xem 4"), the whole report as the .docx.
    summary: bool = False


@dataclass(frozen=True)
class SubmitBlockedView:
    missing: tuple[Question, ...]


@dataclass(frozen=True)
class ConfirmSubmitView:
    given: int
    none_count: int
    total: int
    warnings: tuple[Notice, ...]


@dataclass(frozen=True)
class SubmittedView:
    given: int
    none_count: int
    total: int


@dataclass(frozen=True)
class CompletedView:
    """Every relevant question has an answer: review or submit."""

    total: int


@dataclass(frozen=True)
class HelpView:
    pass


@dataclass(frozen=True)
class ClosedView:
    """The report was submitted; it can be read, not changed."""


View = (
    QuestionView | ContentsView | ProgressView | ReviewView | SubmitBlockedView
    | ConfirmSubmitView | SubmittedView | CompletedView | HelpView | ClosedView
)


@dataclass(frozen=True)
class State:
    """Everything the engine needs to decide a step; loaded from and saved to storage."""

    answers: dict[str, Answer]
    cursor: str | None = None
    mode: Mode = Mode.ANSWERING
    unit_level: str = "commune"
    submitted: bool = False
    period: tuple[date, date] | None = None  # the campaign's reporting period (first, last day)
    # The unit's answers in the previous campaign of the same kind (last period), if any.
    previous: dict[str, Answer] | None = None
    # Drafted answers by question name, from the unit's other reports (engine/drafts.py).
    drafts: dict[str, str] | None = None
    deadline: date | None = None  # the campaign's: dates far beyond it are refused
    mode_since: datetime | None = None  # when the long paste of a long mode was sent


@dataclass(frozen=True)
class Outcome:
    state: State
    view: View
    saved: dict[str, Answer] = field(default_factory=dict)
    cleared: tuple[str, ...] = ()  # answers withdrawn because a figure they depend on changed
    notices: tuple[Notice, ...] = ()
    submit: bool = False
    # Where the officer is, shown after a view that is not a question (progress, help, review),
    # so that no reply leaves them guessing what to type next; None where nothing is open.
    then: QuestionView | None = None

    @property
    def question_shown(self) -> QuestionView | None:
        """The question this outcome leaves on screen: what the officer's next answer answers."""
        return self.view if isinstance(self.view, QuestionView) else self.then
