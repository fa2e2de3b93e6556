"""Views as Telegram messages: HTML-escaped text and inline keyboards."""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from engine.i18n import Translator
from engine.outline import Outline, Section
from engine.question import Question
from engine.views import (
    Action,
    ConfirmSubmitView,
    ContentsView,
    QuestionView,
    ReviewView,
    SubmitBlockedView,
    View,
)
from handlers.render import NONE_LABEL, pack_texts, render, section_heading
from locales.translation import translator

MESSAGE_LIMIT = 4096
LABEL_IN_BUTTON = 40


class Pick(CallbackData, prefix="p"):
    """A choice of a yes/no or list question; `q` names the question it was shown with."""

    q: str
    n: int


class Act(CallbackData, prefix="a"):
    """An action button; `q` is the question it was shown with ("" when not tied to one)."""

    act: str
    q: str = ""


class Goto(CallbackData, prefix="g"):
    """Jump to a section ("4", "II") or a question number ("4.3.a")."""

    target: str


class SectionList(CallbackData, prefix="s"):
    """Show the questions of one section, to pick one to re-answer."""

    section: str


class ViewSubmission(CallbackData, prefix="v"):
    submission: int


class Review(CallbackData, prefix="r"):
    """The VP office accepts a submission, or asks how to return it."""

    submission: int
    accept: bool


class Language(CallbackData, prefix="l"):
    code: str


@dataclass(frozen=True)
class TelegramMessage:
    text: str
    keyboard: InlineKeyboardMarkup | None = None


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def escaped_pieces(texts: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Texts packed into as few messages as fit, then escaped. Telegram's limit counts the text
    as shown; cutting already-escaped text could also split an entity ("&am|p;"), which
    Telegram refuses with "can't parse entities" and the message is lost."""
    return [escape(piece) for piece in pack_texts(texts, limit)]


def clipped(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """One message's text, shortened to the limit (an edit cannot become two messages)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def question_keyboard(view: QuestionView, t: Translator) -> InlineKeyboardMarkup:
    keyboard = _question_keyboard(view.question, t.locale)
    if view.draft is None:
        return keyboard
    accept = button("📋 " + t.gettext("Dùng dự thảo"), Act(act=Action.ACCEPT_DRAFT, q=view.question.name))
    return InlineKeyboardMarkup(inline_keyboard=[[accept], *keyboard.inline_keyboard])


@lru_cache(maxsize=1024)
def _question_keyboard(question: Question, locale: str) -> InlineKeyboardMarkup:
    """The same for every officer at this question in this language: built once (it goes out
    with every question), and never changed once built."""
    t = translator(locale)
    _ = t.gettext
    rows: list[list[InlineKeyboardButton]] = []
    if question.type == "yes_no":
        rows.append([button(_("Có"), Pick(q=question.name, n=1)),
                     button(_("Không"), Pick(q=question.name, n=2))])
    elif question.type == "select_one":
        rows.extend([button(choice.label.get(t.locale), Pick(q=question.name, n=index))]
                    for index, choice in enumerate(question.choices, start=1))
    rows.append([button("∅ " + _(NONE_LABEL), Act(act=Action.NONE, q=question.name))])  # a row of its own
    rows.append([button(_("⬅ Quay lại"), Act(act=Action.BACK, q=question.name)),
                 button(_("Để sau"), Act(act=Action.SKIP, q=question.name)),
                 button(_("Mục lục"), Act(act=Action.CONTENTS))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def contents_keyboard(view: ContentsView, t: Translator) -> InlineKeyboardMarkup:
    rows = []
    for progress in view.sections:
        if progress.total == 0:
            continue
        mark = "✅" if progress.complete else "✏️" if progress.given else "◻️"
        label = f"{mark} {section_heading(progress.section, t)} ({progress.given}/{progress.total})"
        rows.append([button(label, Goto(target=progress.section.number))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def short_label(question: Question, t: Translator) -> str:
    """A question as a button: its number and the start of its label."""
    label = question.label.get(t.locale)
    short = label if len(label) <= LABEL_IN_BUTTON else label[: LABEL_IN_BUTTON - 1] + "…"
    return f"{question.number} · {short}"


def section_questions_keyboard(outline: Outline, section: Section, t: Translator) -> InlineKeyboardMarkup:
    rows = []
    for question in section.questions:
        if not question.asked:
            continue
        rows.append([button(short_label(question, t), Goto(target=question.number))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def review_keyboard(view: ReviewView, t: Translator) -> InlineKeyboardMarkup:
    _ = t.gettext
    sections = [section for section, items in view.sections if items]
    row: list[InlineKeyboardButton] = []
    rows = []
    for section in sections:
        row.append(button("✏️ " + section.number.removeprefix("I."), SectionList(section=section.number)))
        if len(row) == 5:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    rows.append([button(_("📤 Nộp báo cáo"), Act(act=Action.SUBMIT))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def missing_keyboard(view: SubmitBlockedView, t: Translator) -> InlineKeyboardMarkup:
    rows = []
    for question in view.missing[:8]:
        rows.append([button("➡ " + short_label(question, t), Goto(target=question.number))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_keyboard(view: ConfirmSubmitView, t: Translator) -> InlineKeyboardMarkup:
    _ = t.gettext
    return InlineKeyboardMarkup(inline_keyboard=[
        [button(_("✅ Xác nhận nộp"), Act(act=Action.CONFIRM))],
        [button(_("✏️ Tiếp tục chỉnh sửa"), Act(act=Action.CONTINUE))],
    ])


def keyboard_for(view: View, t: Translator) -> InlineKeyboardMarkup | None:
    if isinstance(view, QuestionView):
        return question_keyboard(view, t)
    if isinstance(view, ContentsView):
        return contents_keyboard(view, t)
    if isinstance(view, ReviewView):
        return None if view.closed else review_keyboard(view, t)  # handed in: nothing to edit
    if isinstance(view, SubmitBlockedView):
        return missing_keyboard(view, t)
    if isinstance(view, ConfirmSubmitView):
        return confirm_keyboard(view, t)
    return None


def view_messages(view: View, t: Translator) -> list[TelegramMessage]:
    """The view as messages within Telegram's length limit; the keyboard goes on the last."""
    texts = escaped_pieces(render(view, t, words=False))
    messages = [TelegramMessage(text) for text in texts]
    keyboard = keyboard_for(view, t)
    if keyboard is not None:
        messages[-1] = TelegramMessage(messages[-1].text, keyboard)
    return messages
