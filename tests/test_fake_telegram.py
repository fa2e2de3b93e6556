"""The fake Telegram Bot API server, driven by a real aiogram Bot."""

from __future__ import annotations

import asyncio
import html
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiohttp import web

from tests.fake_telegram import (
    FakeTelegram,
    HtmlParseError,
    RemoteFakeTelegram,
    parse_telegram_html,
)

TOKEN = "123456:TEST"
USER = 777


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with tg.bot() as bot:  # a real aiogram Bot, closing without aiohttp's TLS grace pause
        yield bot


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=text, callback_data=data)] for text, data in pairs]
    )


async def test_get_me(tg: FakeTelegram) -> None:
    async with Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url))) as bot:
        me = await bot.get_me()
    assert me.id == 123456 and me.is_bot and me.username == "kstthc_test_bot"
    assert tg.request_count("getMe") == 1


async def test_wrong_token_is_unauthorized(tg: FakeTelegram) -> None:
    async with tg.bot(token="999:WRONG") as other:
        with pytest.raises(TelegramUnauthorizedError):
            await other.get_me()
    assert tg.request_log[-1].status == 401


async def test_unknown_method_is_404(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(tg.api_url("sendTelepathy"), data={"chat_id": "1"}) as response:
            assert response.status == 404
            assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.get(tg.api_url("getme")) as response:  # method names are case-insensitive
            assert (await response.json())["result"]["id"] == 123456


async def test_send_and_edit_are_recorded(bot: Bot, tg: FakeTelegram) -> None:
    text = f"<b>Báo cáo</b> {html.escape('Q1 & Q2 <draft>')} 'ok'"
    sent = await bot.send_message(USER, text, parse_mode="HTML", reply_markup=keyboard(("Có", "yes")))
    assert sent.from_user and sent.entities and sent.reply_markup
    assert sent.message_id == 1 and sent.chat.id == USER and sent.from_user.id == 123456
    assert sent.text == "Báo cáo Q1 & Q2 <draft> 'ok'"
    assert sent.entities[0].type == "bold" and sent.entities[0].length == 7
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "yes"

    [record] = tg.messages_to(USER)
    assert (record.chat_id, record.message_id, record.text, record.parse_mode) == (USER, 1, text, "HTML")
    assert record.reply_markup == {"inline_keyboard": [[{"text": "Có", "callback_data": "yes"}]]}
    assert record.callback_data("Có") == "yes" and record.time <= time.monotonic()

    edited = await bot.edit_message_text("Đã lưu", chat_id=USER, message_id=sent.message_id)
    assert isinstance(edited, Message)
    assert edited.text == "Đã lưu" and edited.edit_date is not None and edited.reply_markup is None
    assert record.text == "Đã lưu" and record.reply_markup is None and record.edit_count == 1
    [edit] = tg.edits
    assert (edit.message_id, edit.text, edit.old_text) == (1, "Đã lưu", text)

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("Đã lưu", chat_id=USER, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=99)

    assert await bot.delete_message(USER, sent.message_id)
    assert tg.messages_to(USER) == [] and tg.messages_to(USER, include_deleted=True)[0].deleted
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, sent.message_id)


async def test_message_ids_are_per_chat_and_shared_with_the_user(bot: Bot, tg: FakeTelegram) -> None:
    tg.user_sends_text(USER, "/start")
    assert (await bot.send_message(USER, "a")).message_id == 2
    assert (await bot.send_message(USER + 1, "b")).message_id == 1


async def test_get_updates_offset_semantics(bot: Bot, tg: FakeTelegram) -> None:
    first = tg.user_sends_text(USER, "/start", first_name="Lan")
    second = tg.user_sends_text(USER, "hello")
    assert second == first + 1

    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first, second]
    assert updates[0].message and updates[0].message.from_user
    assert updates[0].message.text == "/start" and updates[0].message.from_user.first_name == "Lan"
    assert updates[0].message.chat.id == USER and updates[0].message.chat.type == "private"
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [first]
    assert [u.update_id for u in await bot.get_updates()] == [first, second]  # not confirmed yet
    assert tg.confirmed_offset == 0

    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second]
    assert tg.confirmed_offset == first
    assert await bot.get_updates(offset=second + 1) == []
    assert tg.confirmed_offset == second
    assert await bot.get_updates() == []  # confirmed updates never come back

    forged = {"message_id": 50, "date": 0, "chat": {"id": USER, "type": "private"}, "text": "odd"}
    third = tg.enqueue_raw({"edited_message": forged})
    assert [u.update_id for u in await bot.get_updates()] == [third]


async def test_long_poll_waits_for_an_update(bot: Bot, tg: FakeTelegram) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_for_request("getUpdates")
    await asyncio.sleep(0.05)
    assert not poll.done()
    update_id = tg.user_sends_text(USER, "hi")
    updates = await asyncio.wait_for(poll, 2)
    assert [u.update_id for u in updates] == [update_id]
    assert time.monotonic() - started < 2

    started = time.monotonic()
    assert await bot.get_updates(offset=update_id + 1, timeout=1) == []
    assert 0.9 <= time.monotonic() - started < 3


async def test_a_newer_get_updates_terminates_the_older(bot: Bot, tg: FakeTelegram) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_for_request("getUpdates")
    assert await bot.get_updates() == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await asyncio.wait_for(older, 2)


async def test_rate_limit_surfaces_as_retry_after(bot: Bot, tg: FakeTelegram) -> None:
    tg.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "one")
    assert caught.value.retry_after == 3
    assert tg.sent == []  # a refused request is not carried out
    await bot.send_message(USER, "one")
    assert [r.status for r in tg.requests("sendMessage")] == [429, 200]
    assert len(tg.send_times(USER)) == 2 and len(tg.send_times(USER, ok_only=True)) == 1


async def test_faults_can_target_one_chat_and_repeat(bot: Bot, tg: FakeTelegram) -> None:
    tg.fail_next(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user", chat_id=5, times=2
    )
    await bot.send_message(6, "fine")
    for _ in range(2):
        with pytest.raises(TelegramForbiddenError):
            await bot.send_message(5, "blocked")
    await bot.send_message(5, "fine again")
    assert [m.chat_id for m in tg.sent] == [6, 5]


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors(bot: Bot, tg: FakeTelegram, status: int) -> None:
    tg.fail_next("getMe", status=status)
    with pytest.raises(TelegramServerError):
        await bot.get_me()
    assert (await bot.get_me()).id == 123456


@pytest.mark.parametrize(
    "text",
    [
        "a < b",
        "a > b",
        "Q1 & Q2",
        "<br>",
        "line<br/>",
        "<b>open",
        "<b><i>crossed</b></i>",
        "</b>",
        "&nbsp;",
        '<span class="x">s</span>',
        '<a href="https://x.vn/?a=1&b=2">link</a>',
    ],
)
async def test_bad_html_is_refused(bot: Bot, tg: FakeTelegram, text: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER, text, parse_mode="HTML")
    assert tg.sent == []


def test_html_parser_accepts_telegram_html() -> None:
    text = (
        "<b>1</b><strong>2</strong><i>3</i><u>4</u><s>5</s><code>6</code><tg-spoiler>7</tg-spoiler>"
        '<a href="https://a.vn/?x=1&amp;y=2">8</a><blockquote>9</blockquote>'
        '<pre><code class="language-python">10</code></pre> &lt;&gt;&amp;&quot;&#x27;&#39; 😀<b>x</b>'
    )
    plain, entities = parse_telegram_html(text)
    assert plain == "12345678910 <>&\"'' 😀x"
    types = [e["type"] for e in entities]
    assert types == [
        "bold",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "code",
        "spoiler",
        "text_link",
        "blockquote",
        "pre",
        "bold",
    ]
    assert entities[7]["url"] == "https://a.vn/?x=1&y=2" and entities[9]["language"] == "python"
    assert entities[-1]["offset"] == len(plain.encode("utf-16-le")) // 2 - 1  # the emoji counts 2
    with pytest.raises(HtmlParseError):
        parse_telegram_html("<b>")


async def test_length_and_button_limits(bot: Bot, tg: FakeTelegram) -> None:
    await bot.send_message(USER, "x" * 4096)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, "  ")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "pick", reply_markup=keyboard(("a", "ậ" * 22)))  # 66 bytes
    await bot.send_message(USER, "pick", reply_markup=keyboard(("a", "x" * 64)))
    assert len(tg.sent) == 2


async def test_send_document_stores_the_bytes(bot: Bot, tg: FakeTelegram) -> None:
    content = bytes(range(256)) * 40
    message = await bot.send_document(
        USER, BufferedInputFile(content, filename="bao-cao.xlsx"), caption="<b>Quý 1</b>", parse_mode="HTML"
    )
    assert message.document
    assert message.document.file_name == "bao-cao.xlsx" and message.document.file_size == len(content)
    assert message.caption == "Quý 1"
    [document] = tg.documents
    assert (document.chat_id, document.filename, document.content) == (USER, "bao-cao.xlsx", content)
    assert document.caption == "<b>Quý 1</b>" and document.message_id == message.message_id
    last = tg.last_message_to(USER)
    assert last and last.kind == "document"

    downloaded = io.BytesIO()
    await bot.download(message.document.file_id, destination=downloaded)
    assert downloaded.getvalue() == content
    again = await bot.send_document(USER + 1, message.document.file_id)  # resend by file_id
    assert again.document
    assert again.document.file_id == tg.documents[1].file_id and tg.documents[1].content == content


async def test_callback_query_round_trip(bot: Bot, tg: FakeTelegram) -> None:
    sent = await bot.send_message(USER, "Tiếp tục?", reply_markup=keyboard(("Có", "go:1"), ("Không", "go:0")))
    with pytest.raises(ValueError, match="no button"):
        tg.user_presses_button(USER, sent.message_id, "go:2")
    update_id = tg.press(USER, "Không")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query and isinstance(query.message, Message)
    assert update.update_id == update_id and query.data == "go:0" and query.from_user.id == USER
    assert query.message.message_id == sent.message_id and query.message.text == "Tiếp tục?"
    assert await bot.answer_callback_query(query.id, text="OK")
    assert [(a.callback_query_id, a.text, a.data) for a in tg.callback_answers] == [(query.id, "OK", "go:0")]
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)
    forged = tg.user_presses_button(USER, sent.message_id, "forged", strict=False)
    assert tg.pending_updates[-1]["update_id"] == forged


async def test_commands_webhook_and_chat_action(bot: Bot, tg: FakeTelegram) -> None:
    commands = [BotCommand(command="start", description="Bắt đầu")]
    assert await bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(), language_code="vi")
    assert tg.commands == {("all_private_chats", "vi"): [{"command": "start", "description": "Bắt đầu"}]}
    listed = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="vi")
    assert [(c.command, c.description) for c in listed] == [("start", "Bắt đầu")]
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])

    assert await bot.set_webhook("https://bot.example.vn/hook", secret_token="s3cret")
    assert tg.webhook is not None
    assert tg.webhook["url"] == "https://bot.example.vn/hook" and tg.webhook["secret_token"] == "s3cret"
    assert (await bot.get_webhook_info()).url == "https://bot.example.vn/hook"
    with pytest.raises(TelegramConflictError):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert tg.webhook is None and (await bot.get_webhook_info()).url == ""

    assert await bot.send_chat_action(USER, "typing")
    assert [(a.chat_id, a.action) for a in tg.chat_actions] == [(USER, "typing")]


async def test_webhook_delivery_retries_until_the_bot_accepts(bot: Bot, tg: FakeTelegram) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    answers = [500, 200, 200]

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=answers.pop(0))

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        first = tg.user_sends_text(USER, "/start")
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret-token")
        second = tg.user_sends_text(USER, "tiếp")
        await tg.wait_for(lambda t: t.confirmed_offset == second, timeout=5)
        assert [(d.update_id, d.status) for d in tg.webhook_deliveries] == [
            (first, 500),
            (first, 200),
            (second, 200),
        ]
        assert {secret for secret, _ in received} == {"s3cret-token"}
        assert received[-1][1]["message"]["text"] == "tiếp"
        info = await bot.get_webhook_info()
        assert info.pending_update_count == 0 and "500" in (info.last_error_message or "")
        assert await bot.delete_webhook()
    finally:
        await runner.cleanup()


async def test_a_dispatcher_talks_to_the_fake(bot: Bot, tg: FakeTelegram) -> None:
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(
            f"<i>{html.escape(message.text or '')}</i>", parse_mode="HTML",
            reply_markup=keyboard(("Lại", "again")),
        )

    @dp.callback_query(F.data == "again")
    async def again(query: CallbackQuery) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        await query.message.edit_text("Đã bấm")

    polling = asyncio.create_task(
        dp.start_polling(bot, polling_timeout=1, handle_signals=False, close_bot_session=False)
    )
    try:
        tg.user_sends_text(USER, "a < b & c")
        reply = await tg.wait_for_message(USER, timeout=5)
        assert reply.plain_text == "a < b & c" and reply.text == "<i>a &lt; b &amp; c</i>"
        tg.press(USER, "Lại")
        await tg.wait_for(lambda t: t.edits and t.callback_answers, timeout=5)
        last = tg.last_message_to(USER)
        assert last and last.text == "Đã bấm"
        await tg.wait_until_confirmed(tg.delivered_update_id)
    finally:
        await dp.stop_polling()
        await polling


async def test_wait_for_times_out_with_the_latest_messages(bot: Bot, tg: FakeTelegram) -> None:
    await bot.send_message(USER, "the last thing the bot said")
    with pytest.raises(AssertionError, match="the last thing the bot said"):
        await tg.wait_for(lambda t: len(t.sent) > 1, timeout=0.2, message="a second message")


async def test_subprocess_mode() -> None:
    with RemoteFakeTelegram.spawn(TOKEN) as tg:
        assert tg.base_url.startswith("http://127.0.0.1:")
        async with tg.bot() as bot:
            assert (await bot.get_me()).id == 123456
            update_id = tg.user_sends_text(USER, "/start")
            [update] = await bot.get_updates()
            assert update.update_id == update_id and update.message.text == "/start"
            await bot.send_message(USER, "Xin chào", reply_markup=keyboard(("OK", "ok")))
            message = await tg.wait_for_message(USER)
            assert message.text == "Xin chào" and message.callback_data("OK") == "ok"
            tg.fail_next("sendMessage", status=429, retry_after=1)
            with pytest.raises(TelegramRetryAfter):
                await bot.send_message(USER, "again")
            assert tg.request_count("sendMessage", status=429) == 1
            with pytest.raises(LookupError):
                tg.user_presses_button(USER, 99, "ok")
    assert tg.process is not None and tg.process.returncode is not None
