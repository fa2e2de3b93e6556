"""bot.zalo.client.ZaloClient against the fake Zalo Bot API (tests/fake_zalo.py)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import traceback
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.zalo.client import ZaloClient, split_message
from bot.zalo.errors import (
    ZaloApiError,
    ZaloDeliveryUnknown,
    ZaloError,
    ZaloNetworkError,
    ZaloRetryAfter,
    ZaloServerError,
    ZaloUnauthorized,
    redact,
)
from bot.zalo.updates import (
    EVENT_IMAGE,
    EVENT_STICKER,
    EVENT_TEXT,
    EVENT_UNSUPPORTED,
    WEBHOOK_SECRET_HEADER,
    SeenMessages,
    check_webhook_secret,
    parse_webhook_update,
)
from tests.fake_zalo import DEFAULT_TOKEN, FakeZalo

USER = "7a1c0e55d2f3b9c8a4e1"


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo() as fake:
        yield fake


@pytest.fixture
async def client(zalo: FakeZalo) -> AsyncIterator[ZaloClient]:
    async with zalo.client() as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def assert_no_token(exc: BaseException, token: str = DEFAULT_TOKEN) -> None:
    secret = token.split(":", 1)[1]
    for text in (str(exc), repr(exc), "".join(traceback.format_exception(exc))):
        assert token not in text and secret not in text, text


# -- getMe / polling ---------------------------------------------------------------------------


async def test_get_me(zalo: FakeZalo, client: ZaloClient) -> None:
    me = await client.get_me()
    assert me.id == DEFAULT_TOKEN.split(":")[0]
    assert me.account_name == "bot.kstthc_test" and me.account_type == "BASIC"
    assert zalo.request_count("getMe") == 1 and zalo.request_log[-1].ok


async def test_polling_receives_each_kind_of_event(zalo: FakeZalo, client: ZaloClient) -> None:
    zalo.user_sends_text(USER, "Xin chào", display_name="Nguyễn Văn A")
    zalo.user_sends_sticker(USER)
    zalo.user_sends_image(USER, "https://img.example.invalid/a.jpg", caption="Ảnh báo cáo")
    zalo.user_sends_unsupported(USER)
    updates = []
    for _ in range(4):  # one event per getUpdates, as documented
        got = await client.get_updates(1)
        assert len(got) == 1
        updates += got
    assert [u.event_name for u in updates] == [EVENT_TEXT, EVENT_STICKER, EVENT_IMAGE, EVENT_UNSUPPORTED]
    text = updates[0]
    assert (text.text, text.user_id, text.chat_id, text.display_name) == (
        "Xin chào", USER, USER, "Nguyễn Văn A"
    )
    assert text.message is not None and text.message.chat.chat_type == "PRIVATE"
    assert not text.message.from_user.is_bot and text.message.date > 1_600_000_000_000  # milliseconds
    assert updates[1].message is not None and updates[1].message.sticker
    image = updates[2].message
    assert image is not None and image.photo_url == "https://img.example.invalid/a.jpg"
    assert image.caption == "Ảnh báo cáo" and updates[2].text is None
    assert len({u.message_id for u in updates}) == 4
    assert zalo.requests("getUpdates")[0].params["timeout"] == "1"  # sent as a string


async def test_empty_long_poll_waits_then_returns_nothing(zalo: FakeZalo, client: ZaloClient) -> None:
    start = time.monotonic()
    assert await client.get_updates(1) == []
    assert 0.9 <= time.monotonic() - start < 3
    assert zalo.requests("getUpdates")[-1].error_code == 408


async def test_long_poll_wakes_up_on_a_new_event(zalo: FakeZalo, client: ZaloClient) -> None:
    poll = asyncio.create_task(client.get_updates(10))
    await zalo.wait_for_request("getUpdates")
    zalo.user_sends_text(USER, "/start")
    start = time.monotonic()
    [update] = await asyncio.wait_for(poll, 3)
    assert update.text == "/start" and time.monotonic() - start < 2


async def test_redelivered_event_keeps_its_message_id_and_is_dropped(
    zalo: FakeZalo, client: ZaloClient
) -> None:
    event = zalo.user_sends_text(USER, "Báo cáo quý 3")
    [first] = await client.get_updates(1)
    zalo.redeliver(event)
    assert await client.get_updates(1) == []  # the client drops what it already returned
    assert [e["message"]["message_id"] for e in zalo.delivered] == [first.message_id] * 2

    zalo.redeliver(event)
    [again] = await client.get_updates(1, dedupe=False)
    assert again.message_id == first.message_id and again.text == first.text
    zalo.user_sends_text(USER, "tin mới")
    [new] = await client.get_updates(1)
    assert new.text == "tin mới"


def test_seen_messages_is_bounded() -> None:
    seen = SeenMessages(maxlen=3)
    assert not any(seen.check_and_add(i) for i in ("a", "b", "c"))
    assert seen.check_and_add("a")  # seen; now the most recent
    assert not seen.check_and_add("d")  # forgets "b", the oldest
    assert len(seen) == 3 and "b" not in seen and "a" in seen


# -- sending -----------------------------------------------------------------------------------


async def test_send_message(zalo: FakeZalo, client: ZaloClient) -> None:
    sent = await client.send_message(USER, "Đã ghi nhận câu trả lời.")
    assert sent.message_id and sent.date > 0
    msg = await zalo.wait_for_message(USER, contains="ghi nhận")
    assert (msg.chat_id, msg.text, msg.message_id) == (USER, "Đã ghi nhận câu trả lời.", sent.message_id)
    assert zalo.texts_to(USER) == ["Đã ghi nhận câu trả lời."]


async def test_text_over_2000_characters_is_refused(zalo: FakeZalo, client: ZaloClient) -> None:
    await client.send_message(USER, "a" * 2000)
    with pytest.raises(ZaloApiError) as info:
        await client.send_message(USER, "a" * 2001)
    assert info.value.error_code == 400 and "2000" in info.value.description
    with pytest.raises(ZaloApiError):
        await client.send_message(USER, "")
    assert [len(t) for t in zalo.texts_to(USER)] == [2000]
    assert zalo.request_count("sendMessage") == 3  # a 400 is not retried


async def test_send_photo_and_chat_action(zalo: FakeZalo, client: ZaloClient) -> None:
    sent = await client.send_photo(USER, "https://img.example.invalid/chart.png", caption="Biểu đồ")
    [msg] = zalo.messages_to(USER)
    assert (msg.kind, msg.photo, msg.text, msg.message_id) == (
        "photo", "https://img.example.invalid/chart.png", "Biểu đồ", sent.message_id
    )
    with pytest.raises(ValueError):
        await client.send_photo(USER, "/tmp/chart.png")
    assert await client.send_chat_action(USER, "typing") is True
    assert [(a.chat_id, a.action) for a in zalo.chat_actions] == [(USER, "typing")]
    with pytest.raises(ZaloApiError):
        await client.send_chat_action(USER, "record_video")


# -- split_message -----------------------------------------------------------------------------


def words(pieces: list[str]) -> list[str]:
    return [w for piece in pieces for w in piece.split()]


def test_split_message_at_the_real_limit() -> None:
    paragraph = "Thủ tục hành chính được giải quyết đúng hạn theo quy định của Ủy ban nhân dân tỉnh. "
    text = "\n".join(f"{i}. {paragraph * 5}" for i in range(40))  # ~17 000 characters
    pieces = split_message(text)
    assert len(pieces) > 8 and all(0 < len(p) <= 2000 for p in pieces)
    assert words(pieces) == text.split()  # everything kept, no word cut
    assert "".join("".join(pieces).split()) == "".join(text.split())
    assert split_message("ngắn") == ["ngắn"] and split_message("") == []


def test_split_message_cuts_only_a_word_longer_than_the_limit() -> None:
    long_word = "x" * 4500
    pieces = split_message(f"trước {long_word} sau")
    assert all(len(p) <= 2000 for p in pieces)
    assert "".join("".join(pieces).split()) == f"trước{long_word}sau"
    assert pieces[0] == "trước" and pieces[-1].endswith("sau")


_word = st.text(alphabet="abcđơưạễ", min_size=1, max_size=12)
_line = st.lists(_word, max_size=12).map(" ".join)
_spaced = st.tuples(st.sampled_from(["", " ", "  "]), _line).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(_spaced, max_size=12).map("\n".join), st.integers(min_value=12, max_value=60))
def test_split_message_keeps_everything_and_never_cuts_a_word(text: str, limit: int) -> None:
    pieces = split_message(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert words(pieces) == text.split()  # words of at most 12 < limit characters stay whole


# -- failures and retries ----------------------------------------------------------------------


async def test_5xx_is_retried_then_succeeds(zalo: FakeZalo, client: ZaloClient) -> None:
    zalo.fail_next("sendMessage", 502, times=2)
    zalo.fail_next("getMe", 500)
    await client.send_message(USER, "sau hai lần lỗi")
    await client.get_me()
    assert [r.status for r in zalo.requests("sendMessage")] == [502, 502, 200]
    assert zalo.texts_to(USER) == ["sau hai lần lỗi"]  # sent once
    assert zalo.request_count("getMe") == 2


async def test_5xx_that_persists_raises_server_error(zalo: FakeZalo) -> None:
    async with zalo.client(max_retries=2) as client:
        zalo.fail_next("getWebhookInfo", 503, times=None)
        with pytest.raises(ZaloServerError) as info:
            await client.get_webhook_info()
    assert info.value.error_code == 503 and zalo.request_count("getWebhookInfo") == 3


async def test_send_that_timed_out_after_sending_is_not_repeated(zalo: FakeZalo) -> None:
    async with zalo.client(timeout=0.3) as client:
        zalo.delay_next("sendMessage", 0.8)  # carried out at once, answered late
        with pytest.raises(ZaloDeliveryUnknown) as info:
            await client.send_message(USER, "có thể đã tới")
    assert info.value.chat_id == USER and info.value.method == "sendMessage"
    assert zalo.request_count("sendMessage") == 1  # not retried...
    assert zalo.texts_to(USER) == ["có thể đã tới"]  # ...although it did arrive
    assert_no_token(info.value)


async def test_a_504_on_a_send_is_delivery_unknown(zalo: FakeZalo, client: ZaloClient) -> None:
    zalo.fail_next("sendMessage", 504)
    with pytest.raises(ZaloDeliveryUnknown):
        await client.send_message(USER, "x")
    assert zalo.request_count("sendMessage") == 1


async def test_timeout_of_a_read_is_retried(zalo: FakeZalo) -> None:
    async with zalo.client(timeout=0.3) as client:
        zalo.delay_next("getMe", 1.0)
        assert (await client.get_me()).id
    assert zalo.request_count("getMe") == 2


async def test_long_poll_timeout_is_longer_than_the_poll(zalo: FakeZalo) -> None:
    async with zalo.client(timeout=0.2, poll_grace=1.0) as client:
        assert await client.get_updates(1) == []  # the 1 s poll outlives the 0.2 s request timeout
    assert zalo.request_count("getUpdates") == 1


async def test_unreachable_api_raises_network_error_after_retries(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    base = f"http://127.0.0.1:{free_port()}"
    async with ZaloClient(DEFAULT_TOKEN, api_base=base, max_retries=2, backoff_base=0.01) as client:
        with pytest.raises(ZaloNetworkError) as info:
            await client.get_me()
        with pytest.raises(ZaloNetworkError):  # not even connected: safe to retry, not "unknown"
            await client.send_message(USER, "x")
    assert_no_token(info.value)
    assert sum("retry" in r.getMessage() for r in caplog.records) == 4
    assert all(DEFAULT_TOKEN not in r.getMessage() for r in caplog.records)


async def test_rate_limit_raises_retry_after(zalo: FakeZalo, client: ZaloClient) -> None:
    zalo.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(ZaloRetryAfter) as info:
        await client.send_message(USER, "x")
    assert info.value.retry_after == 3 and zalo.request_count("sendMessage") == 1


async def test_wrong_token_is_unauthorized(zalo: FakeZalo) -> None:
    wrong = "1234567890123456789:WrongAccessToken"
    async with zalo.client(token=wrong) as client:
        with pytest.raises(ZaloUnauthorized) as info:
            await client.get_me()
    assert info.value.error_code == 401
    assert_no_token(info.value, wrong)


async def test_the_token_never_appears_in_errors_or_logs(
    zalo: FakeZalo, client: ZaloClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = zalo.api_url("sendMessage")
    errors: list[BaseException] = []
    zalo.fail_next("sendMessage", 400, description=f"Bad Request: wrong URL {url}")
    zalo.fail_next("getMe", 500, times=None, description=f"upstream failed for {url}")
    for call in (
        lambda: client.send_message(USER, "x"),
        lambda: client.get_me(),
        lambda: client.send_message(USER, "y" * 2001),
    ):
        try:
            await call()
        except ZaloError as exc:
            errors.append(exc)
    assert len(errors) == 3
    for error in errors:
        assert_no_token(error)
    assert "/bot<token>/sendMessage" in str(errors[0])
    assert caplog.records and all(DEFAULT_TOKEN not in r.getMessage() for r in caplog.records)
    assert DEFAULT_TOKEN not in repr(client)
    assert redact(f"GET {url}", DEFAULT_TOKEN) == f"GET {zalo.base_url}/bot<token>/sendMessage"


async def test_errors_given_as_http_statuses_are_read_the_same() -> None:
    async with FakeZalo(errors_as_http_status=True) as zalo, zalo.client() as client:
        assert await client.get_updates(1) == []  # HTTP 408
        with pytest.raises(ZaloApiError) as info:
            await client.send_message(USER, "a" * 2001)
        assert info.value.error_code == 400
        assert zalo.requests("sendMessage")[-1].status == 400
    async with FakeZalo(errors_as_http_status=True) as zalo, zalo.client(token="1:x") as client:
        with pytest.raises(ZaloUnauthorized):
            await client.get_me()


# -- webhook -----------------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[str | None, Any]]]]:
    """A local webhook endpoint: (url, received [(secret header, json body)])."""
    received: list[tuple[str | None, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get(WEBHOOK_SECRET_HEADER), await request.json()))
        return web.json_response({"message": "Success"})

    app = web.Application()
    app.router.add_post("/zalo-webhook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/zalo-webhook", received
    await runner.cleanup()


async def test_webhook_set_get_delete(
    zalo: FakeZalo, client: ZaloClient, receiver: tuple[str, list[tuple[str | None, Any]]]
) -> None:
    url, received = receiver
    secret = "kstthc-secret-123"
    assert (await client.get_webhook_info()).url == ""
    info = await client.set_webhook(url, secret)
    assert info.url == url and info.updated_at
    assert (await client.get_webhook_info()).url == url

    event = zalo.user_sends_text(USER, "qua webhook", display_name="Lan")
    await zalo.wait_for(lambda z: len(received) == 1)
    header, body = received[0]
    assert check_webhook_secret(header, secret) and not check_webhook_secret("wrong-secret", secret)
    assert body["ok"] is True  # the documented shape: {"ok": true, "result": {event}}
    update = parse_webhook_update(body)
    assert (update.event_name, update.text, update.display_name) == (EVENT_TEXT, "qua webhook", "Lan")
    assert update.message_id == event["message"]["message_id"]
    assert parse_webhook_update(body["result"]) == update  # a bare event is read too

    with pytest.raises(ZaloApiError) as conflict:  # no polling while a webhook is set
        await client.get_updates(1)
    assert conflict.value.error_code == 409

    zalo.redeliver(event)
    await zalo.wait_for(lambda z: len(received) == 2)
    assert received[1][1] == body

    assert (await client.delete_webhook()).url == ""
    assert (await client.get_webhook_info()).url == ""
    zalo.user_sends_text(USER, "lại polling")
    [polled] = await client.get_updates(1)
    assert polled.text == "lại polling" and len(received) == 2


async def test_webhook_secret_must_have_8_to_256_characters(zalo: FakeZalo, client: ZaloClient) -> None:
    with pytest.raises(ValueError):
        await client.set_webhook("https://example.invalid/hook", "short")
    with pytest.raises(ValueError):
        await client.set_webhook("https://example.invalid/hook", "x" * 257)
    async with aiohttp.ClientSession() as http:  # the fake refuses it too
        payload = {"url": "https://example.invalid/hook", "secret_token": "short"}
        async with http.post(zalo.api_url("setWebhook"), json=payload) as response:
            body: dict[str, Any] = await response.json()
    assert body["ok"] is False and body["error_code"] == 400 and zalo.webhook is None


async def test_webhook_delivery_is_retried_until_accepted(zalo: FakeZalo, client: ZaloClient) -> None:
    zalo.webhook_retry_delay = 0.05
    answers = [500, 200]

    async def hook(request: web.Request) -> web.Response:
        return web.Response(status=answers.pop(0) if answers else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await client.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook", "s" * 8)
        zalo.user_sends_sticker(USER)
        await zalo.wait_until_delivered()
        assert [d.status for d in zalo.webhook_deliveries] == [500, 200]
    finally:
        await client.delete_webhook()
        await runner.cleanup()


def test_parse_webhook_update_refuses_other_bodies() -> None:
    bodies: list[Any] = [{}, {"ok": True, "result": {}}, [], "x", {"message": {"text": "no event name"}}]
    for body in bodies:
        with pytest.raises(ValueError):
            parse_webhook_update(body)
