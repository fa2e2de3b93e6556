"""What a handler wants said, collected during the event and said only after it is committed."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram.types import InlineKeyboardMarkup

from bot.telegram.render import TelegramMessage


@dataclass(frozen=True)
class Send:
    chat_id: int
    message: TelegramMessage
    prompt_for: tuple[int, str] | None = None  # (identity id, question) to edit once answered


@dataclass(frozen=True)
class Edit:
    chat_id: int
    message_id: int
    text: str
    keyboard: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class AnswerCallback:
    callback_id: str
    text: str = ""
    alert: bool = False


@dataclass(frozen=True)
class SendDocument:
    """A file; a PNG goes as a photo."""

    chat_id: int
    filename: str
    content: bytes
    caption: str = ""


@dataclass(frozen=True)
class SendStoredFile:
    """An attachment from the file store, read only as it is sent: a unit's fifty files are
    never all in memory at once."""

    chat_id: int
    filename: str
    sha256: str
    caption: str = ""


@dataclass(frozen=True)
class SetMenu:
    """The command menu of one chat: the VP office's (`office`), else the officers' (the default)."""

    chat_id: int
    office: bool
    locale: str = "vi"


Reply = Send | Edit | AnswerCallback | SendDocument | SendStoredFile | SetMenu


@dataclass
class Replies:
    items: list[Reply] = field(default_factory=list)

    def send(self, chat_id: int, message: TelegramMessage,
             prompt_for: tuple[int, str] | None = None) -> None:
        self.items.append(Send(chat_id, message, prompt_for))

    def send_all(self, chat_id: int, messages: list[TelegramMessage],
                 prompt_for: tuple[int, str] | None = None) -> None:
        for index, message in enumerate(messages):
            self.send(chat_id, message, prompt_for if index == len(messages) - 1 else None)

    def edit(self, chat_id: int, message_id: int, text: str) -> None:
        self.items.append(Edit(chat_id, message_id, text))

    def send_file(self, chat_id: int, filename: str, content: bytes, caption: str = "") -> None:
        self.items.append(SendDocument(chat_id, filename, content, caption))

    def send_stored(self, chat_id: int, filename: str, sha256: str, caption: str = "") -> None:
        self.items.append(SendStoredFile(chat_id, filename, sha256, caption))

    def answer_callback(self, callback_id: str, text: str = "", alert: bool = False) -> None:
        self.items.append(AnswerCallback(callback_id, text, alert))

    def set_menu(self, chat_id: int, office: bool, locale: str = "vi") -> None:
        self.items.append(SetMenu(chat_id, office, locale))
