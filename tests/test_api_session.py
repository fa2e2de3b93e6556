"""The Bot API session sends what aiogram would send: the same fields and values, as one JSON body
(bot/telegram/api_session.py prepares them its own quicker way), and reads back which message
it sent."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageText,
    SendDocument,
    SendMessage,
    SetMyCommands,
    TelegramMethod,
)
from aiogram.types import BotCommand, BotCommandScopeChat, BufferedInputFile, LinkPreviewOptions

from bot.telegram.api_session import BotApiSession
from bot.telegram.render import _question_keyboard
from engine.outline import default_outline_path, load_outline

SESSION = BotApiSession()
BOT = Bot("42:TEST", session=SESSION, default=DefaultBotProperties(parse_mode="HTML"))
QUESTIONS = load_outline(default_outline_path()).asked_questions


def as_aiogram_prepares(method: TelegramMethod[Any]) -> dict[str, Any]:
    prepared = SESSION.prepare_value(method.model_dump(warnings=False, exclude_none=True), bot=BOT,
                                     files={}, _dumps_json=False)
    assert isinstance(prepared, dict)
    return prepared


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_every_question_goes_out_with_the_keyboard_aiogram_would_send(locale: str) -> None:
    for question in QUESTIONS:
        method = SendMessage(chat_id=7001, text=f"<b>{question.name}</b>",
                             reply_markup=_question_keyboard(question, locale))
        body = SESSION._json_body(BOT, method)
        assert body is not None
        sent = json.loads(body)
        assert sent == as_aiogram_prepares(method), question.name
        assert sent["parse_mode"] == "HTML"  # the bot's default, filled in
        assert sent["reply_markup"]["inline_keyboard"]


@pytest.mark.parametrize("method", [
    EditMessageText(chat_id=7001, message_id=12, text="✅ <i>Đã lưu</i>: 1.234"),
    SendMessage(chat_id=7001, text="x", link_preview_options=LinkPreviewOptions(is_disabled=True),
                disable_notification=True),
    AnswerCallbackQuery(callback_query_id="cb-1", text="Đã lưu", show_alert=False),
    SetMyCommands(commands=[BotCommand(command="baocao", description="Tiếp tục báo cáo")],
                  scope=BotCommandScopeChat(chat_id=7001), language_code="vi"),
], ids=["edit", "options", "callback", "commands"])
def test_other_calls_carry_the_fields_aiogram_would_send(method: TelegramMethod[Any]) -> None:
    body = SESSION._json_body(BOT, method)
    assert body is not None
    assert json.loads(body) == as_aiogram_prepares(method)


def test_a_file_goes_as_aiogram_s_form() -> None:
    method = SendDocument(chat_id=7001, document=BufferedInputFile(b"%PDF", "bao-cao.pdf"))
    assert SESSION._json_body(BOT, method) is None


def test_a_sent_message_is_read_back_as_which_message_it_was() -> None:
    method = SendMessage(chat_id=7001, text="x", reply_markup=_question_keyboard(QUESTIONS[0], "vi"))
    answer = {"ok": True, "result": {
        "message_id": 55, "date": 1_780_000_000, "text": "x",
        "chat": {"id": 7001, "type": "private", "first_name": "Cán bộ"},
        "from": {"id": 42, "is_bot": True, "first_name": "kstthc"},
        "entities": [{"type": "bold", "offset": 0, "length": 1}],
        "reply_markup": json.loads(SESSION._json_body(BOT, method) or "{}")["reply_markup"]}}
    sent = SESSION._typed_result(BOT, method, 200, json.dumps(answer))
    assert (sent.message_id, sent.chat.id) == (55, 7001)
    assert sent.reply_markup is None and sent.text is None


def test_a_question_sent_is_known_by_its_message_id_and_a_refusal_raises_as_in_aiogram() -> None:
    method = SendMessage(chat_id=7001, text="x")
    answer = {"ok": True, "result": {"message_id": 56, "date": 1_780_000_000, "text": "x",
                                     "chat": {"id": 7001, "type": "private"}}}
    assert SESSION._message_id(BOT, method, 200, json.dumps(answer)) == 56
    assert SESSION._message_id(BOT, method, 200, json.dumps({"ok": True, "result": True})) is None
    refused = {"ok": False, "error_code": 400, "description": "Bad Request: message is not modified"}
    with pytest.raises(TelegramBadRequest, match="not modified"):
        SESSION._message_id(BOT, EditMessageText(chat_id=7001, message_id=56, text="x"), 400,
                            json.dumps(refused))
