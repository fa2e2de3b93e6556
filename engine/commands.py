"""The words officers type for actions, in Vietnamese (with or without diacritics) and English."""

from __future__ import annotations

import difflib
import re

from engine.text import clean, fold
from engine.views import Action, Turn

# Folded forms (lower case, no diacritics); "/command" forms are the Telegram commands.
ACTION_WORDS: dict[Action, tuple[str, ...]] = {
    Action.NONE: ("khong co", "kco", "k co", "ko co", "khong co gi", "0 (khong)", "0 (khong co)",
                  "0 (ko co)", "0 - khong co", "none", "n/a", "nothing"),
    Action.BACK: ("lai", "quay lai", "tro lai", "back", "/back"),
    Action.SKIP: ("sau", "de sau", "bo qua", "later", "skip", "/skip"),
    Action.CONTINUE: ("tiep", "tiep tuc", "bao cao", "/baocao", "continue", "/continue"),
    Action.CONTENTS: ("muc luc", "/mucluc", "contents", "menu", "/contents"),
    Action.PROGRESS: ("tien do", "/tiendo", "progress", "/progress"),
    Action.REVIEW: ("xem", "xem lai", "/xem", "review", "/review"),
    Action.SUBMIT: ("nop", "nop bao cao", "/nop", "submit", "/submit"),
    Action.CONFIRM: ("xac nhan", "xac nhan nop", "confirm"),
    Action.HELP: ("huong dan", "/huongdan", "tro giup", "help", "/help", "?"),
}

_WORD_TO_ACTION = {word: action for action, words in ACTION_WORDS.items() for word in words}
# Actions that take what follows the word as their target: "mục lục 4.3.a".
_WITH_TARGET = {Action.CONTENTS}
# "xem 4", "/xem II", "xem mục 4": a section to read in full (only a section number: "xem xét hồ
# sơ…" is an answer).
_REVIEW_SECTION = re.compile(r"^/?xem(?: lai)? (?:muc )?((?:i\.)?[0-9]{1,2}|i{1,3}|iv)$")


# Typing mistakes ("muc luv", "tien do") are forgiven only in short inputs that are close to
# exactly one action word: anything longer is an answer.
FUZZY_MAX_LENGTH = 14
FUZZY_CUTOFF = 0.8


# A sentence's full stop or an exclamation mark does not change the word: "Không có."
_TRAILING = ".!…;,"
_LONGEST_COMMAND = 200


def parse_text(text: str, fuzzy: bool = False) -> Turn:
    """Turn one typed line into a turn: an action word, or else an answer."""
    text = clean(text)
    # A long paste is an answer: only its start can hold a command ("mục lục 4.3.a").
    short = len(text) <= _LONGEST_COMMAND
    folded = fold(text if short else text[:_LONGEST_COMMAND]).rstrip(_TRAILING).rstrip()
    action = _WORD_TO_ACTION.get(folded) if short else None
    if action is None and fuzzy and 3 <= len(folded) <= FUZZY_MAX_LENGTH and not folded[0].isdigit():
        close = difflib.get_close_matches(folded, [w for w in _WORD_TO_ACTION if len(w) >= 3], n=2,
                                          cutoff=FUZZY_CUTOFF)
        if close and len({_WORD_TO_ACTION[word] for word in close}) == 1:
            action = _WORD_TO_ACTION[close[0]]
    if action is not None:
        return Turn(action)
    for word, candidate in _WORD_TO_ACTION.items():
        if candidate in _WITH_TARGET and folded.startswith(word + " "):
            # The target keeps its letters: "4.3.đ" and "4.3.d" are different items.
            return Turn(candidate, target=" ".join(text.split()[len(word.split()):]))
    if (section := _REVIEW_SECTION.match(folded)) is not None:
        return Turn(Action.REVIEW, target=section.group(1))  # "xem 4", "xem mục II": one section in full
    if folded.startswith("/"):
        return Turn(Action.HELP)  # an unknown command is never taken for an answer
    return Turn(Action.ANSWER, text=text)
