"""The pure conversation engine: outline + answers + a turn in, the next view and the verdict out."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from engine.answers import NONE_ANSWER, SKIPPED_ANSWER, Answer, AnswerKind
from engine.drafts import accepting, draft_for
from engine.i18n import N_, Message
from engine.number_format import format_number
from engine.outline import Outline
from engine.qtypes import QUESTION_TYPES, AnswerProblem, AnswerWindow
from engine.question import Question
from engine.reading import ReportReading
from engine.text import fold
from engine.views import (
    Action,
    ClosedView,
    CompletedView,
    ConfirmSubmitView,
    ContentsView,
    HelpView,
    Mode,
    Notice,
    NoticeKind,
    Outcome,
    ProgressView,
    QuestionView,
    ReviewView,
    State,
    SubmitBlockedView,
    SubmittedView,
    Turn,
    View,
)

QUESTION_ACTIONS = (Action.NONE, Action.BACK, Action.SKIP, Action.CONTENTS)
# Views after which the open question is shown again (Outcome.then).
SHOWS_WHERE_AFTER = (ProgressView, HelpView, ReviewView)
READ_ONLY_ACTIONS = frozenset({Action.REVIEW, Action.PROGRESS, Action.HELP, Action.CONTENTS})


class ReportEngine(ReportReading):
    """Takes an officer's turn (an answer, a command) to the next view and the answers to save;
    what the answers mean is read by ReportReading. Holds no state of its own between calls."""

    def __init__(self, outline: Outline) -> None:
        super().__init__(outline)
        self._steps: dict[Action, Callable[[State, Turn], Outcome]] = {
            Action.ANSWER: self._answer,
            Action.NONE: self._answer_none,
            Action.BACK: self._back,
            Action.SKIP: self._skip,
            Action.CONTINUE: self._continue,
            Action.CONTENTS: self._contents,
            Action.JUMP: self._jump,
            Action.PROGRESS: self._progress,
            Action.REVIEW: self._review,
            Action.SUBMIT: self._submit,
            Action.CONFIRM: self._confirm,
            Action.HELP: self._help,
            Action.ACCEPT_DRAFT: self._accept_draft,
        }

    # ----- navigation ----------------------------------------------------------------------

    def view_at(self, state: State, cursor: str | None) -> View:
        if cursor is None:
            return CompletedView(total=len(self.relevant_questions(state)))
        names = [q.name for q in self.counted_questions(state)]
        question = self.outline.question(cursor)
        position = names.index(cursor) + 1 if cursor in names else 0
        return QuestionView(
            question=question,
            section=self.outline.section_of(cursor),
            position=position,
            total=len(names),
            current=state.answers.get(cursor),
            actions=QUESTION_ACTIONS,
            period=state.period if question.period else None,
            previous=self.previous_figures(state).get(cursor) if question.numeric else None,
            comparisons=self.comparisons(state) if question.compare_figures else (),
            draft=draft_for(state, cursor),
        )

    def resume(self, state: State) -> Outcome:
        """The view an officer sees on coming back: the open question, or the finished report."""
        if state.submitted:
            return Outcome(state, ClosedView())
        cursor = state.cursor if self._cursor_valid(state) else self.first_open(state)
        new_state = replace(state, cursor=cursor, mode=Mode.ANSWERING)
        return Outcome(new_state, self.view_at(new_state, cursor))

    # ----- a step ----------------------------------------------------------------------------

    def step(self, state: State, turn: Turn) -> Outcome:
        if state.submitted and turn.action not in READ_ONLY_ACTIONS:
            return Outcome(state, ClosedView(), notices=(_info(N_(
                "Báo cáo của đơn vị đã được nộp; không thể thay đổi câu trả lời."
            )),))
        if self._moved_on(state, turn):
            return self._at(state, self._current(state), _info(MOVED_ON))
        if turn.action is Action.ANSWER and self._continues_long_paste(state, turn):
            return self._rest_of_long_paste(state, turn)
        confirming = state.mode is Mode.CONFIRMING and turn.action is Action.ANSWER
        if confirming and fold(turn.text) in CONFIRM_WORDS:
            return self._confirm(state, turn)
        if state.mode is Mode.CONTENTS and turn.action is Action.ANSWER and looks_like_target(turn.text):
            return self._jump(state, replace(turn, action=Action.JUMP, target=turn.text))
        if state.mode is not Mode.ANSWERING and turn.action not in (Action.CONFIRM, Action.JUMP):
            state = replace(state, mode=Mode.ANSWERING, mode_since=None)
        outcome = self._steps[turn.action](state, turn)
        if turn.action is Action.ANSWER and turn.sent_at is not None and len(turn.text) >= LONG_PASTE:
            mode = Mode.LONG_SAVED if outcome.saved else Mode.OVERLONG
            outcome = replace(outcome, state=replace(outcome.state, mode=mode, mode_since=turn.sent_at))
        return self.where_after(outcome)

    def where_after(self, outcome: Outcome) -> Outcome:
        """A view that is not a question (progress, help, review) followed by the open question."""
        if not isinstance(outcome.view, SHOWS_WHERE_AFTER) or outcome.state.submitted:
            return outcome
        cursor = self._current(outcome.state)
        if cursor is None:
            return outcome
        view = self.view_at(outcome.state, cursor)  # read only: the state is left as it was
        return replace(outcome, then=view if isinstance(view, QuestionView) else None)

    def _continues_long_paste(self, state: State, turn: Turn) -> bool:
        """Whether this message is the rest of the long paste just before it: a Telegram client
        sends a text longer than one message (4,096 characters) as several, a second apart."""
        if state.mode not in (Mode.OVERLONG, Mode.LONG_SAVED):
            return False
        if turn.sent_at is None or state.mode_since is None:
            return False
        return abs(turn.sent_at - state.mode_since) <= SPLIT_WINDOW

    def _rest_of_long_paste(self, state: State, turn: Turn) -> Outcome:
        """Refuse the rest of a split paste: saving it alone would store a text cut mid-word."""
        still = replace(state, mode_since=turn.sent_at)  # a third part follows the second
        cursor = self._current(still)
        if state.mode is Mode.OVERLONG:
            question = self.outline.question(cursor) if cursor else None
            limit = question.max_length if question and question.type == "text" else None
            message = Message(N_(
                "Tin nhắn này là phần tiếp theo của đoạn văn bản dài vừa gửi (Telegram tự tách tin "
                "nhắn dài hơn 4.096 ký tự thành nhiều tin) nên cũng chưa được lưu. Vui lòng rút gọn "
                "câu trả lời rồi gửi lại trong một tin nhắn."))
            if limit is not None:
                message = Message(N_(
                    "Tin nhắn này là phần tiếp theo của đoạn văn bản dài vừa gửi (Telegram tự tách tin "
                    "nhắn dài hơn 4.096 ký tự thành nhiều tin) nên cũng chưa được lưu. Vui lòng rút gọn "
                    "câu trả lời còn tối đa {limit} ký tự rồi gửi lại trong một tin nhắn."),
                    {"limit": _Figure(limit)})
        else:
            message = Message(N_(
                "Tin nhắn này đến ngay sau một đoạn văn bản dài nên có thể là phần Telegram tự tách "
                "ra (tin nhắn dài hơn 4.096 ký tự bị tách thành nhiều tin); tin nhắn này chưa được "
                "lưu. Câu trước chỉ lưu phần đầu: gõ “lại” để xem và gửi lại câu trả lời đầy đủ, "
                "ngắn gọn hơn."))
        return self._at(still, cursor, Notice(NoticeKind.ERROR, message))

    def _moved_on(self, state: State, turn: Turn) -> bool:
        """An answer typed against a question that is no longer the open one."""
        return turn.question is not None and turn.action in BOUND_TO_QUESTION \
            and state.mode is Mode.ANSWERING and turn.question != self._current(state)

    def _answer(self, state: State, turn: Turn) -> Outcome:
        cursor = self._current(state)
        if cursor is None:
            return self._at(state, None, _info(N_(
                "Đơn vị đã trả lời đủ các câu hỏi. Gõ “xem” để xem lại hoặc “nộp” để nộp báo cáo."
            )))
        question = self.outline.question(cursor)
        if turn.choice is not None and not self._offers(question, turn.choice):
            # Only a forged or mangled button carries a choice its question does not list.
            return self._at(state, cursor, Notice(NoticeKind.ERROR, Message(N_(
                "Lựa chọn này không có trong câu hỏi đang trả lời nên không được ghi nhận. "
                "Vui lòng trả lời câu hỏi dưới đây."))))
        if question.type in CHOICE_TYPES and fold(turn.text) == "0":
            return self._record(state, question, NONE_ANSWER)
        try:
            text = accepting(state, cursor, turn.text)
            value = QUESTION_TYPES[question.type].read(text, question, AnswerWindow(state.deadline))
        except AnswerProblem as problem:
            return self._at(state, cursor, Notice(NoticeKind.ERROR, problem.message))
        return self._record(state, question, Answer.of(value))

    @staticmethod
    def _offers(question: Question, choice: int) -> bool:
        """Whether a button's choice number is one the question lists (0 is "Không có")."""
        count = {"yes_no": 2, "select_one": len(question.choices)}.get(question.type)
        return count is not None and 0 <= choice <= count

    def _answer_none(self, state: State, turn: Turn) -> Outcome:
        cursor = self._current(state)
        if cursor is None:
            return self._at(state, None)
        return self._record(state, self.outline.question(cursor), NONE_ANSWER)

    def _record(self, state: State, question: Question, answer: Answer) -> Outcome:
        answers = {**state.answers, question.name: answer}
        broken = self.broken_rules(state, question, answer, answers)
        own = [notice for checked, notice in broken if checked is question]
        if own:
            return self._at(state, question.name, own[0])
        # The new figure contradicts figures given earlier that depend on it: keep the new one
        # and ask those again, rather than lock the officer out of correcting either.
        cleared = tuple(checked.name for checked, _notice in broken)
        for name in cleared:
            answers.pop(name, None)
        new_state = replace(state, answers=answers)
        cursor = cleared[0] if cleared else self.first_open(new_state, after=question.name)
        shown = self.show_answer(question, answer)
        notices = [Notice(NoticeKind.SAVED, Message(N_("Đã lưu: {answer}"), {"answer": shown}))]
        for checked, notice in broken:
            notices.append(Notice(NoticeKind.WARNING, notice.message))
            notices.append(Notice(NoticeKind.INFO, Message(
                N_("Câu {number} không còn khớp với số liệu vừa nhập nên đã được xóa; vui lòng nhập lại."),
                {"number": checked.number})))
        notices.extend(self.warnings(new_state, only_about=question.name))
        return Outcome(
            replace(new_state, cursor=cursor),
            self.view_at(new_state, cursor),
            saved={question.name: answer},
            cleared=cleared,
            notices=tuple(notices),
        )

    def show_answer(self, question: Question, answer: Answer) -> Message | _Shown:
        if answer.kind is AnswerKind.NONE:
            return Message(N_("Không có"))
        if answer.kind is AnswerKind.SKIPPED:
            return Message(N_("(để sau)"))
        return _Shown(question, answer.value)

    def _back(self, state: State, turn: Turn) -> Outcome:
        names = [q.name for q in self.relevant_questions(state)]
        cursor = self._current(state)
        if not names:
            return self._at(state, None)
        if cursor is None:
            return self._at(state, names[-1])
        index = names.index(cursor)
        if index == 0:
            return self._at(state, cursor, _info(N_("Đây là câu hỏi đầu tiên của đề cương.")))
        return self._at(state, names[index - 1])

    def _skip(self, state: State, turn: Turn) -> Outcome:
        cursor = self._current(state)
        if cursor is None:
            return self._at(state, None)
        saved: dict[str, Answer] = {}
        answers = dict(state.answers)
        if cursor not in answers:
            answers[cursor] = SKIPPED_ANSWER
            saved[cursor] = SKIPPED_ANSWER
        new_state = replace(state, answers=answers)
        following = self.first_open(new_state, after=cursor)
        outcome = self._at(new_state, following)
        notice = _info(N_("Đã để lại câu này; bot sẽ hỏi lại sau khi đi hết đề cương."))
        return replace(outcome, saved=saved, notices=(notice,) if saved else ())

    def _accept_draft(self, state: State, turn: Turn) -> Outcome:
        """The draft shown with the question, saved as its answer; with none (answered since, or a
        forged button) the question is shown again and nothing is saved."""
        cursor = self._current(state)
        draft = None if cursor is None else draft_for(state, cursor)
        if draft is None:
            return self._at(state, cursor)
        return self._answer(state, replace(turn, action=Action.ANSWER, text=draft))

    def _continue(self, state: State, turn: Turn) -> Outcome:
        return self._at(state, self._current(state))

    def _contents(self, state: State, turn: Turn) -> Outcome:
        if turn.target:
            return self._jump(state, turn)
        return Outcome(replace(state, mode=Mode.CONTENTS),
                       ContentsView(self.section_progress(state)))

    def _jump(self, state: State, turn: Turn) -> Outcome:
        target = self.find_target(state, turn.target)
        if target is None:
            notice = Notice(NoticeKind.ERROR, Message(
                N_("Không tìm thấy mục hoặc câu “{target}”. Vui lòng gõ số mục (ví dụ: 4 hoặc II) "
                   "hoặc số câu (ví dụ: 4.3.a)."), {"target": turn.target.strip()}))
            return Outcome(replace(state, mode=Mode.CONTENTS),
                           ContentsView(self.section_progress(state)), notices=(notice,))
        return self._at(replace(state, mode=Mode.ANSWERING), target)

    def _progress(self, state: State, turn: Turn) -> Outcome:
        sections = self.section_progress(state)
        return Outcome(state, ProgressView(
            sections=sections,
            given=sum(p.given for p in sections),
            total=sum(p.total for p in sections),
            warnings=self.warnings(state),
        ))

    def _review(self, state: State, turn: Turn) -> Outcome:
        """A summary line per section; "xem 4": that section in full."""
        review = self.review(state)
        if not turn.target:
            return Outcome(state, replace(review, summary=True))
        wanted = fold(turn.target)
        chosen = tuple(part for part in review.sections
                       if wanted in (fold(part[0].number), fold(part[0].number.removeprefix("I."))))
        if not chosen:
            return Outcome(state, replace(review, summary=True), notices=(Notice(NoticeKind.ERROR, Message(
                N_("Không có mục “{target}”. Gõ “xem” kèm số mục, ví dụ: xem 4 hoặc xem II."),
                {"target": turn.target})),))
        return Outcome(state, replace(review, sections=chosen))

    def _submit(self, state: State, turn: Turn) -> Outcome:
        missing = self.missing_required(state)
        if missing:
            return Outcome(state, SubmitBlockedView(missing))
        given, none_count, total = self.counts(state)
        return Outcome(replace(state, mode=Mode.CONFIRMING),
                       ConfirmSubmitView(given, none_count, total, self.warnings(state)))

    def _confirm(self, state: State, turn: Turn) -> Outcome:
        if state.mode is not Mode.CONFIRMING:
            return self._submit(state, turn)
        if self.missing_required(state):
            return self._submit(replace(state, mode=Mode.ANSWERING), turn)
        given, none_count, total = self.counts(state)
        return Outcome(replace(state, mode=Mode.ANSWERING, submitted=True, cursor=None),
                       SubmittedView(given, none_count, total), submit=True)

    def _help(self, state: State, turn: Turn) -> Outcome:
        return Outcome(state, HelpView())

    def _at(self, state: State, cursor: str | None, *notices: Notice) -> Outcome:
        new_state = replace(state, cursor=cursor)
        return Outcome(new_state, self.view_at(new_state, cursor), notices=notices)


class _Figure:
    """A count in a message, formatted for the officer's locale when rendered."""

    def __init__(self, value: int) -> None:
        self.value = value

    def render(self, translator: Any) -> str:
        return format_number(self.value, translator.locale)


class _Shown:
    """An answer value formatted for the officer's locale when rendered."""

    def __init__(self, question: Question, value: Any) -> None:
        self.question = question
        self.value = value

    def render(self, translator: Any) -> str:
        return QUESTION_TYPES[self.question.type].show(self.value, self.question, translator)


def _info(msgid: str) -> Notice:
    return Notice(NoticeKind.INFO, Message(msgid))


# "4", "II", "4.3.a", "mục 4.3.đ" or a question's name: what names a section or a question.
TARGET = re.compile(r"^((muc|cau)\s*)?[ivx0-9]+(\.[0-9a-z]+)*$|^[a-z][a-z0-9]*(_[a-z0-9]+)+$")


def looks_like_target(text: str) -> bool:
    """After the contents, a section or question number jumps; anything else is an answer."""
    return TARGET.match(fold(text)) is not None


# What answers the question on screen: typed against an older one, it is not applied.
BOUND_TO_QUESTION = frozenset({Action.ANSWER, Action.NONE, Action.SKIP, Action.ACCEPT_DRAFT})
MOVED_ON = N_("Câu trả lời vừa gửi chưa được lưu vì câu hỏi đó không còn là câu đang mở (câu hỏi đã "
              "được trả lời hoặc chuyển tiếp trên thiết bị, kênh khác). Câu hỏi hiện tại như sau; "
              "anh/chị vui lòng trả lời lại.")

# A message this long may be the first part of a paste the officer's Telegram split in several
# (it cuts near 4,096 characters, never below half); its other parts come within seconds.
LONG_PASTE = 2000
SPLIT_WINDOW = timedelta(seconds=5)

# Choices are listed numbered from 1, with "0. Không có" last.
CHOICE_TYPES = frozenset({"yes_no", "select_one"})
CONFIRM_WORDS = frozenset({"xac nhan", "dong y", "confirm", "co", "yes", "y", "ok"})

