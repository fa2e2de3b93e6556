"""Drafted answers: a text the bot prepared for a question from the unit's other reports (the
follow-up of the last inspection, from its remediation report), which the officer accepts with
one word or replaces by typing their own. Pure: the drafts come in with the State."""

from __future__ import annotations

from engine.answers import AnswerKind
from engine.text import fold
from engine.views import State

# What accepts the draft shown (folded forms); anything else typed is the officer's own answer.
ACCEPT_WORDS = frozenset({"dong y", "dung du thao", "accept", "use draft"})


def draft_for(state: State, name: str) -> str | None:
    """The draft for question `name` while it has no answer (a skipped one counts as none)."""
    current = state.answers.get(name)
    if current is not None and current.kind is not AnswerKind.SKIPPED:
        return None
    return (state.drafts or {}).get(name)


def accepting(state: State, name: str, text: str) -> str:
    """The draft, when `text` accepts it; else `text` as typed."""
    draft = draft_for(state, name)
    return draft if draft is not None and fold(text).rstrip(".!").strip() in ACCEPT_WORDS else text
