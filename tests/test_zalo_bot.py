"""The Zalo channel end to end: the real `kstthc-bot run` process against the fake Zalo Bot API
(tests/fake_zalo.py), a SQLite file in tmp_path, officers typing plain text on their phones."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from engine.commands import parse_text
from engine.conversation import ReportEngine
from engine.outline import Outline
from engine.views import State
from handlers.render import review_texts
from locales.translation import translator
from tests.fake_telegram import FakeTelegram
from tests.fake_zalo import WEBHOOK_SECRET_HEADER, FakeZalo
from tests.scripted_officer import script_for, typed_answer
from tests.zalo_harness import (
    DONE,
    ONLY_TEXT,
    POSITION,
    SAVED,
    TIMEOUT,
    Bot,
    TelegramOfficer,
    ZaloOfficer,
    bot_environment,
    cli,
    code_in,
    query,
    running_bot,
    scalar,
)

ADMIN, OFFICER = "a1d2m3i4n5", "0f1c2e3r4u5s6e7r"
TELEGRAM_USER, TELEGRAM_STRANGER = 2002, 3003
STARTUP = 30.0  # the first reply waits for the process to start and migrate the database
# `kstthc-bot run --webhook` refuses to start unless the Telegram webhook is configured, even with
# no Telegram token (bot/cli.py): satisfied here; without a Telegram token no Telegram channel runs.
TELEGRAM_WEBHOOK_CHECK = {"KSTTHC_TELEGRAM_WEBHOOK_URL": "https://telegram.example.invalid/unused",
                          "KSTTHC_TELEGRAM_WEBHOOK_SECRET": "unused-telegram-secret"}


@pytest.fixture
async def zalo() -> AsyncIterator[FakeZalo]:
    async with FakeZalo(strict_chats=True) as fake:
        yield fake


async def test_an_officer_fills_in_the_whole_outline_in_text_and_the_vp_office_is_told(
    zalo: FakeZalo, tmp_path: Path, outline: Outline
) -> None:
    admin_code = cli(tmp_path, "invite", "--admin")
    unit_code = cli(tmp_path, "invite", "31135")
    async with running_bot(tmp_path, zalo) as bot:
        admin = ZaloOfficer(zalo, ADMIN, outline, "Văn phòng")
        await admin.says(admin_code, expect="đã đăng ký là cán bộ Văn phòng UBND", timeout=STARTUP)
        officer = ZaloOfficer(zalo, OFFICER, outline, "Lan")

        # Without a code the bot says how to get one; the code is accepted as people type it.
        await officer.says("Xin chào", expect="mã mời do Văn phòng UBND thành phố cấp")
        typed_code = unit_code.lower().replace("-", " ")
        assert typed_code != unit_code
        await officer.says(typed_code, expect="câu 1/")
        # The greeting, the guide and the first question come packed in as few messages as fit.
        welcome = officer.texts()[-1]
        greeting, first = welcome.split("Mục 1 · ", 1)
        first = "Mục 1 · " + first
        assert "Phường Ninh Kiều" in greeting and "31/10/" in greeting
        # The action words are explained once, at the start.
        assert "HƯỚNG DẪN" in greeting
        assert all(word in greeting for word in ("“không có”", "“lại”", "“sau”", "“mục lục”", "“nộp”"))
        assert "Mục 1 · " in first and officer.question_on_screen() == outline.asked_questions[0]

        nothing_said = 0
        skipped: str | None = None
        done: set[str] = set()
        while not officer.finished():
            question = officer.question_on_screen()
            if question.name == "publication_status" and "contents" not in done:
                # A typing mistake in "mục lục", then a section number: the section's first question.
                done.add("contents")
                await officer.says("muc luv", expect="MỤC LỤC ĐỀ CƯƠNG BÁO CÁO")
                await officer.says("3", expect="câu")
                assert officer.question_on_screen() == question
                continue
            if question.name == "control_staffing" and "progress" not in done:
                done.add("progress")
                await officer.says("tien doo", expect="TIẾN ĐỘ BÁO CÁO: đã trả lời 2/")
                assert officer.question_on_screen() == question  # what comes next answers it
            if question.name == "dossiers_total" and "wrong" not in done:
                # A wrong number: a clear message, the same question stays, nothing is saved.
                done.add("wrong")
                saved_before = len([t for t in officer.texts() if SAVED in t])
                await officer.says("mười hai", expect="Vui lòng nhập một số nguyên")
                assert officer.question_on_screen() == question
                assert len([t for t in officer.texts() if SAVED in t]) == saved_before
                await officer.answer()  # "2.500"
                # Going back (in capitals) shows the recorded answer; re-answering goes on.
                await officer.says("LAI", expect="Đã trả lời: 2.500")
                assert officer.question_on_screen() == question
                await officer.answer("2.500")
                assert officer.question_on_screen().name == "dossiers_new"
                continue
            if question.name == "feedback_about_conduct" and "back" not in done:
                done.add("back")
                await officer.says("lai", expect="Đã trả lời: 3")
                assert officer.question_on_screen().name == "feedback_about_regulations"
                await officer.answer("3")
                assert officer.question_on_screen() == question
                continue
            if question.name == "review_progress" and skipped is None:
                skipped = question.name
                await officer.says("sau", expect="Đã để lại câu này")
                assert officer.question_on_screen().name == "review_results_handling"
                continue
            if question.name == skipped:
                # The skipped question comes back once the rest of the outline is done.
                assert "other_recommendations" in officer.answered
            if question.name == "internal_procedures_built":
                await officer.answer("0")  # "0" for a choice: nothing to report
                continue
            typed = typed_answer(question, len(officer.answered))  # numbers as "1.234", "1 200"
            if question.type == "yes_no":
                typed = "1"  # choices by their number
            elif typed == "không có":
                nothing_said += 1
                typed = "khong co" if nothing_said % 2 else typed
            await officer.answer(typed)
        assert done == {"contents", "progress", "wrong", "back"} and skipped is not None
        assert skipped in officer.answered and nothing_said > 1

        done_text = next(t for t in officer.texts() if DONE in t)
        total = officer.position()[1]
        assert f"{DONE} {total} câu" in done_text
        await officer.says("nộp", expect="“xác nhận”")
        submitted = await officer.says("xac nhan", expect="Đã nộp báo cáo")
        assert f"{total}/{total}" in submitted.text

        # The VP office hears of it on Zalo, with the word to type instead of a button.
        notice = await zalo.wait_for_message(ADMIN, contains="Phường Ninh Kiều đã nộp báo cáo", timeout=15)
        assert "“/xembaocao 31135”" in notice.text
        await admin.says("/xembaocao 31135", expect="Phường Ninh Kiều (31135)")
        review = await zalo.wait_for_message(ADMIN, contains="IV.4.", timeout=15)
        shown = "\n".join(admin.texts()[admin.texts().index(notice.text):])
        assert "3.1.c." in shown and "1.234" in shown and review.text
        # The VP office's progress, asked in words as officers are taught to ask theirs.
        await admin.says("tiến độ", expect="✅ Đã nộp (1):\n  • Phường Ninh Kiều (31135)")

        # SIGTERM: a clean exit within the grace.
        started = time.monotonic()
        assert await bot.stop() == 0
        assert time.monotonic() - started < 10
        assert all(len(m.text) <= 2000 for m in zalo.sent)
        # The explanation of the action words came once only.
        assert sum("HƯỚNG DẪN" in t for t in officer.texts()) == 1

    assert query(tmp_path, "select status from submissions") == [("submitted",)]
    kinds = dict(query(tmp_path, "select kind, count(*) from answers group by kind"))
    assert sum(kinds.values()) == len(set(officer.answered)) == total
    assert set(kinds) == {"value", "none"} and kinds["none"] >= nothing_said + 1
    values = dict(query(tmp_path, "select question, value from answers where kind = 'value'"))
    assert values["procedures_total"] == "1234" and values["procedures_one_stop"] == "1100"
    assert values["dossiers_total"] == "2500" and values["implementation_difficulties_any"] == "yes"
    assert query(tmp_path, "select distinct channel from history") == [("zalo",)]
    given = scalar(tmp_path, "select count(*) from history where event = 'answer' and kind != 'skipped'")
    assert given == len(officer.answered)


async def test_an_officer_starts_on_zalo_and_finishes_on_telegram_with_a_link_code(
    zalo: FakeZalo, tmp_path: Path, outline: Outline
) -> None:
    unit_code = cli(tmp_path, "invite", "31135")
    async with FakeTelegram() as tg, running_bot(tmp_path, zalo, tg):
        on_zalo = ZaloOfficer(zalo, OFFICER, outline, "Lan")
        await on_zalo.says(unit_code, expect="câu 1/", timeout=STARTUP)
        for _ in range(4):
            await on_zalo.answer()
        where = on_zalo.question_on_screen()
        link = await on_zalo.says("liên kết", expect="Mã liên kết")
        code = code_in(link.text)
        assert on_zalo.question_on_screen() == where

        # On Telegram the same officer goes on with the same report, at the same question.
        on_telegram = TelegramOfficer(tg, TELEGRAM_USER, outline)
        await on_telegram.says(f"/start {code}", expect="câu 5/")
        assert on_telegram.question_on_screen() == where
        # The link code works once: someone else cannot use it again.
        stranger = TelegramOfficer(tg, TELEGRAM_STRANGER, outline)
        await stranger.says(f"/start {code}", expect="đã được sử dụng")
        while not on_telegram.finished():
            await on_telegram.answer_current()
        confirm = await on_telegram.says("/nop", expect="Xác nhận")
        await on_telegram.presses("✅ Xác nhận nộp", message=confirm, expect="Đã nộp báo cáo")
        # Back on Zalo the report reads as submitted.
        await on_zalo.says("tiếp", expect="đã được nộp")

    assert query(tmp_path, "select status from submissions") == [("submitted",)]
    [(officer_id,)] = query(tmp_path, "select distinct officer_id from history")
    identities = dict(query(tmp_path, "select channel, external_id from identities where officer_id = ?",
                            officer_id))
    assert identities == {"zalo": OFFICER, "telegram": str(TELEGRAM_USER)}
    by_channel = dict(query(tmp_path, "select channel, count(*) from history where event = 'answer' "
                                      "group by channel"))
    assert by_channel == {"zalo": 4, "telegram": len(on_telegram.answered)}
    assert query(tmp_path, "select channel from history where event = 'submit'") == [("telegram",)]
    answers = scalar(tmp_path, "select count(*) from answers")
    assert answers == 4 + len(on_telegram.answered) == len(set(on_zalo.answered + on_telegram.answered))
    first = [q.name for q in outline.asked_questions[:4]]
    assert on_zalo.answered == first and not set(first) & set(on_telegram.answered)


def long_answer(index: int, length: int = 1500) -> str:
    """About `length` characters of distinct words ("ý03x017"), so that a word cut in two shows."""
    words: list[str] = []
    while len(" ".join(words)) < length:
        words.append(f"ý{index:02d}x{len(words):03d}")
    return " ".join(words)


async def test_a_long_section_review_arrives_in_parts_of_at_most_2000_characters(
    zalo: FakeZalo, tmp_path: Path, outline: Outline, engine: ReportEngine
) -> None:
    unit_code = cli(tmp_path, "invite", "31135")
    async with running_bot(tmp_path, zalo):
        officer = ZaloOfficer(zalo, OFFICER, outline, "Lan")
        await officer.says(unit_code, expect="câu 1/", timeout=STARTUP)
        typed: list[str] = []
        long_ones: dict[str, str] = {}
        while len(long_ones) < 12:
            question = officer.question_on_screen()
            text = typed_answer(question, len(officer.answered))
            if question.type == "text":
                text = long_ones[question.number] = long_answer(len(long_ones))
            await officer.answer(text)
            typed.append(text)
        since = len(officer.messages())
        # /xem is a summary; a section in full by its number, the open question after it (the last part)
        await officer.says("xem 1", expect="Hoặc gõ: “không có”")
        parts = officer.texts()[since:]

    # What the review says, rendered here from the same answers.
    state = engine.resume(State(answers={}, unit_level="commune")).state
    for text in typed:
        state = engine.step(state, parse_text(text)).state
    view = replace(engine.review(state), sections=engine.review(state).sections[:1])  # "xem 1"
    expected = "\n".join(review_texts(view, translator("vi")))
    assert len(expected) > 4 * 1500
    assert all(0 < len(part) <= 2000 for part in parts)
    assert len(parts) >= len(expected) // 2000 + 1
    # Together the parts hold everything, in order (the open question after them): only line
    # breaks and spaces were cut.
    assert " ".join("\n".join(parts).split()).startswith(" ".join(expected.split()))
    joined = "\n".join(parts)
    numbers = [item.question.number for _, items in view.sections for item in items]
    assert all(f"  {number}. " in joined or f"\n{number}. " in joined for number in numbers)
    in_section = [index for index, number in enumerate(long_ones) if number in numbers]
    assert len(in_section) >= 4
    # No word is split: every piece of every long answer is whole, each exactly once, in order.
    for index in in_section:
        answer = list(long_ones.values())[index]
        assert re.findall(rf"\S*ý{index:02d}x\S*", joined) == answer.split()


async def test_webhook_refuses_a_wrong_secret_and_answers_a_redelivered_event_once(
    zalo: FakeZalo, tmp_path: Path, outline: Outline, unused_tcp_port: int
) -> None:
    unit_code = cli(tmp_path, "invite", "31135")
    secret = "zalo-webhook-secret-for-tests"
    url = f"http://127.0.0.1:{unused_tcp_port}/zalo/webhook"
    settings = {"KSTTHC_ZALO_WEBHOOK_URL": url, "KSTTHC_ZALO_WEBHOOK_SECRET": secret,
                "KSTTHC_ZALO_WEBHOOK_PORT": str(unused_tcp_port), "KSTTHC_ZALO_WEBHOOK_MAX_BODY": "20000"}
    async with running_bot(tmp_path, zalo, args=("--webhook",), env=settings | TELEGRAM_WEBHOOK_CHECK):
        await zalo.wait_for(lambda s: s.webhook and s.webhook["url"] == url, timeout=STARTUP,
                            message="setWebhook")
        assert zalo.webhook is not None and zalo.webhook["secret_token"] == secret
        zalo.users[OFFICER] = "Lan"  # a chat the fake will let the bot write to
        event: dict[str, Any] = {"event_name": "message.text.received", "message": {
            "from": {"id": OFFICER, "display_name": "Lan", "is_bot": False},
            "chat": {"id": OFFICER, "chat_type": "PRIVATE"},
            "message_id": "5eed0001c0de", "date": 1_700_000_000_000, "text": unit_code}}
        body = {"ok": True, "result": event}
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {WEBHOOK_SECRET_HEADER: "wrong"}, {WEBHOOK_SECRET_HEADER: secret[:-1]},
                            {WEBHOOK_SECRET_HEADER: secret.upper()}):
                async with http.post(url, json=body, headers=headers) as response:
                    assert response.status == 401, headers
            # Larger than the configured cap: refused, right secret or not.
            huge = {"ok": True, "result": {**event, "message": {**event["message"], "text": "x" * 30_000}}}
            async with http.post(url, json=huge, headers={WEBHOOK_SECRET_HEADER: secret}) as response:
                assert response.status == 413
            await asyncio.sleep(0.5)
            assert zalo.messages_to(OFFICER) == []
            assert scalar(tmp_path, "select count(*) from inbox") == 0
            assert scalar(tmp_path, "select count(*) from invites where used_at is not null") == 0

            for _ in range(2):  # the same event twice with the right secret: answered once
                async with http.post(url, json=body, headers={WEBHOOK_SECRET_HEADER: secret}) as response:
                    assert response.status == 200
            await zalo.wait_for_message(OFFICER, contains="câu 1/", timeout=TIMEOUT)

        # Zalo's own deliveries (with the secret it was given): redelivered, answered once.
        officer = ZaloOfficer(zalo, OFFICER, outline, "Lan")
        await officer.answer()
        zalo.redeliver(officer.events[-1])
        await zalo.wait_for(lambda s: len([d for d in s.webhook_deliveries if d.status == 200]) == 2,
                            timeout=TIMEOUT, message="the redelivery accepted")
        await officer.says("tiến độ", expect="TIẾN ĐỘ BÁO CÁO: đã trả lời 1/")
        assert all(d.status == 200 for d in zalo.webhook_deliveries)
        assert not zalo.requests("getUpdates")

    texts = zalo.texts_to(OFFICER)
    assert sum("câu 1/" in t for t in texts) == 1 and sum(SAVED in t for t in texts) == 1
    assert scalar(tmp_path, "select count(*) from inbox") == 3
    assert scalar(tmp_path, "select count(*) from inbox where processed_at is null") == 0
    assert scalar(tmp_path, "select count(*) from history where event = 'answer'") == 1


async def test_redeliveries_and_sigkill_mid_run_never_apply_an_answer_twice(
    zalo: FakeZalo, tmp_path: Path, outline: Outline, engine: ReportEngine
) -> None:
    """An officer sends 30 answers; Zalo delivers some events again, and the bot is killed with
    SIGKILL three times and started again. History has exactly one 'answer' per typed answer.

    Redeliveries: the running process drops a message id it has already been given (the client's
    memory); a new process, which has no such memory, finds the id in the inbox and ignores it.

    What the bot has stored in its inbox is processed exactly once: handling an event and marking
    it processed commit together, and a restart picks up whatever was stored but not processed.
    The reply is sent after the commit, so a kill in between costs the reply, never a second
    application of the answer.

    Before the inbox there is a gap no bot can close: Zalo's getUpdates has no offset, so an
    event counts as delivered the moment getUpdates answers with it. An event handed to the bot
    that the bot had not yet stored when it died (or handed to a long poll the dying process had
    abandoned) is gone: Zalo will not serve it again, except by one of its own occasional
    redeliveries, and the bot never saw it. The officer gets no reply and types the answer again.
    Polling is therefore at-most-once up to the inbox commit and exactly-once after it. (A webhook
    has no such gap: the bot answers 200 only after the commit, and Zalo retries until then.)
    """
    script = scripted_answers(engine)[:30]
    unit_code = cli(tmp_path, "invite", "31135")
    officer = ZaloOfficer(zalo, OFFICER, outline, "Lan")
    bot = Bot(tmp_path, bot_environment(tmp_path, zalo)).start()

    def saved() -> int:
        return sum(SAVED in t for t in officer.texts())

    async def answered(count: int) -> None:
        await zalo.wait_for(lambda s: saved() >= count, timeout=STARTUP, message=f"{count} answers saved")

    async def kill_and_restart(before_start: Callable[[], None] = lambda: None) -> None:
        bot.kill()
        await polls_finished(zalo)  # what the dead process left behind can deliver nothing more
        before_start()
        polls = zalo.request_count("getUpdates")
        bot.start()
        await zalo.wait_for(lambda s: s.request_count("getUpdates") > polls, timeout=STARTUP,
                            message="the restarted bot polling")

    try:
        await officer.says(unit_code, expect="câu 1/", timeout=STARTUP)
        # Zalo delivers events again, before and after the bot has handled them.
        for index, (name, line) in enumerate(script[:8]):
            assert officer.question_on_screen().name == name
            if index % 2:
                await officer.answer(line)
                zalo.redeliver(officer.events[-1])
            else:
                since = len(officer.messages())
                officer.sends(line)
                zalo.redeliver(officer.events[-1])
                await zalo.wait_for_message(OFFICER, since=since, contains=SAVED, timeout=TIMEOUT)
        await officer.says("tiến độ", expect="TIẾN ĐỘ BÁO CÁO: đã trả lời 8/")
        assert saved() == 8

        # 1. Killed with events stored but not processed: the reply to answer 9 was carried out
        #    but Zalo's answer to it is slow, so the chat's worker waits while the officer goes on.
        zalo.delay_next("sendMessage", 20)
        officer.sends(script[8][1])
        await answered(9)
        for _, line in script[9:14]:
            officer.sends(line)
        await wait_until(lambda: unprocessed(tmp_path) == 5, "5 events stored, not processed")
        await kill_and_restart()
        await answered(14)

        # 2. Killed after getUpdates handed over an event and before the bot stored it.
        await zalo.wait_for(polling_now, timeout=TIMEOUT, message="a fresh long poll")
        bot.pause()
        lost = officer.sends(script[14][1])
        await zalo.wait_for(lambda s: lost in s.delivered, timeout=TIMEOUT, message="the event handed over")
        await kill_and_restart()
        await officer.says("tiến độ", expect="TIẾN ĐỘ BÁO CÁO: đã trả lời 14/")
        assert saved() == 14  # the lost answer got no reply: the officer types it again
        assert officer.question_on_screen().name == script[14][0]
        await officer.answer(script[14][1])

        # 3. Killed in the middle of a burst of ten, all stored, a few processed; then Zalo serves
        #    every earlier event again to the new process.
        for _, line in script[15:25]:
            officer.sends(line)
        await wait_until(lambda: scalar(tmp_path, "select count(*) from inbox") == len(officer.events) - 1,
                         "the burst stored")
        await answered(18)

        def serve_again() -> None:
            for event in officer.events:
                if event is not lost:
                    zalo.redeliver(event)

        await kill_and_restart(serve_again)
        await wait_until(lambda: unprocessed(tmp_path) == 0 and not zalo.pending_events, "all processed")
        for _, line in script[25:]:
            await officer.says(line, expect=SAVED)
        await officer.says("tiến độ", expect="TIẾN ĐỘ BÁO CÁO: đã trả lời 30/")

        # An event the database refuses to store is lost as well, but the bot keeps listening.
        query(tmp_path, "create trigger refuse before insert on inbox when new.payload like '%từ chối%' "
                        "begin select raise(abort, 'refused'); end")
        refused = officer.sends("từ chối")
        await officer.says("tiến độ", expect="TIẾN ĐỘ BÁO CÁO: đã trả lời 30/")
        assert "storing 1 Zalo events failed" in bot.log()
    finally:
        await bot.stop()
    assert bot.starts == 4

    history = query(tmp_path, "select question, value from history where event = 'answer' order by id")
    assert [question for question, _ in history] == [name for name, _ in script]
    values = dict(history)
    assert values["procedures_total"] == "1234" and values["dossiers_total"] == "2500"
    assert scalar(tmp_path, "select count(*) from answers") == 30
    stored = {row[0] for row in query(tmp_path, "select update_id from inbox")}
    sent = {event["message"]["message_id"] for event in officer.events}
    assert stored == sent - {lost["message"]["message_id"], refused["message"]["message_id"]}
    assert unprocessed(tmp_path) == 0
    # No reply twice: each "saved" reply asks a different next question.
    positions = [found.group(1) for t in officer.texts() if SAVED in t and (found := POSITION.search(t))]
    assert len(positions) == len(set(positions)) >= 29


async def test_stickers_and_files_zalo_does_not_pass_on_get_a_polite_reply_and_change_nothing(
    zalo: FakeZalo, tmp_path: Path, outline: Outline
) -> None:
    unit_code = cli(tmp_path, "invite", "31135")
    async with running_bot(tmp_path, zalo):
        officer = ZaloOfficer(zalo, OFFICER, outline, "Lan")
        # Someone not registered yet: the same reply, and no officer made of a picture.
        since = len(officer.messages())
        zalo.user_sends_sticker(OFFICER, display_name="Lan")
        reply = await zalo.wait_for_message(OFFICER, since=since, timeout=STARTUP)
        assert ONLY_TEXT in reply.text
        assert scalar(tmp_path, "select count(*) from officers") == 0

        await officer.says(unit_code, expect="câu 1/")
        await officer.answer()
        question = officer.question_on_screen()
        before = [scalar(tmp_path, f"select count(*) from {table}") for table in TABLES]
        # (A picture is an attachment: tests/test_attachments.py.)
        for kind in ("sticker", "unsupported"):
            since = len(officer.messages())
            if kind == "sticker":
                zalo.user_sends_sticker(OFFICER)
            else:
                zalo.user_sends_unsupported(OFFICER)  # a voice message, a file
            reply = await zalo.wait_for_message(OFFICER, since=since, timeout=TIMEOUT)
            if kind == "sticker":
                assert ONLY_TEXT in reply.text and "“hướng dẫn”" in reply.text
            else:  # what to do instead, and the question again
                assert "Zalo chưa chuyển tệp" in reply.text and question.number in reply.text
        assert [scalar(tmp_path, f"select count(*) from {table}") for table in TABLES] == before
        assert officer.question_on_screen() == question
        await officer.answer()
        assert officer.answered == [q.name for q in outline.asked_questions[:2]]
    assert scalar(tmp_path, "select count(*) from answers") == 2
    assert scalar(tmp_path, "select count(*) from inbox where processed_at is null") == 0


TABLES = ("officers", "identities", "answers", "history", "registration_attempts", "submissions")


def scripted_answers(engine: ReportEngine) -> list[tuple[str, str]]:
    """(question name, typed line) for the whole outline, in the order a commune is asked."""
    state = engine.resume(State(answers={}, unit_level="commune")).state
    lines = script_for(engine, "commune")
    names = []
    for line in lines:
        assert state.cursor is not None
        names.append(state.cursor)
        state = engine.step(state, parse_text(line)).state
    return list(zip(names, lines, strict=True))


def unprocessed(workdir: Path) -> int:
    return int(scalar(workdir, "select count(*) from inbox where processed_at is null"))


def polling_now(zalo: FakeZalo) -> bool:
    """A long poll has just arrived and is waiting: an event sent now is handed over at once."""
    polls = zalo.requests("getUpdates")
    return bool(polls) and polls[-1].status == 0 and time.monotonic() - polls[-1].time < 0.3


async def polls_finished(zalo: FakeZalo) -> None:
    """Long polls still open on the fake: once the process that made them is gone, the fake would
    hand an event to one of them (a dead socket) if it came within the poll's timeout."""
    await zalo.wait_for(lambda s: all(r.status for r in s.requests("getUpdates")), timeout=TIMEOUT,
                        message="the dead process's long polls over")


async def wait_until(condition: Callable[[], bool], what: str, timeout: float = STARTUP) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for: {what}"
        await asyncio.sleep(0.05)


async def test_an_answer_that_cannot_be_saved_gets_a_request_to_send_it_again(
    zalo: FakeZalo, tmp_path: Path, outline: Outline
) -> None:
    unit_code = cli(tmp_path, "invite", "31135")
    # A fault inside the real database while `fault` has a row: no answer can be written.
    with sqlite3.connect(tmp_path / "bot.sqlite3") as connection:
        connection.executescript(
            "CREATE TABLE fault (reason TEXT); INSERT INTO fault VALUES ('disk');"
            "CREATE TRIGGER answers_fault BEFORE INSERT ON answers WHEN EXISTS (SELECT 1 FROM fault)"
            " BEGIN SELECT RAISE(ABORT, 'simulated disk fault'); END;")
    async with running_bot(tmp_path, zalo):
        officer = ZaloOfficer(zalo, OFFICER, outline, "Lan")
        await officer.says(unit_code, expect="câu 1/")
        question = officer.question_on_screen()
        reply = await officer.says(typed_answer(question, 1),
                                   expect="vui lòng gửi lại", timeout=TIMEOUT + 5)
        assert "sự cố kỹ thuật" in reply.text
        assert scalar(tmp_path, "select count(*) from answers") == 0
        assert scalar(tmp_path, "select count(*) from inbox where failed_at is not null") == 1

        query(tmp_path, "delete from fault")
        await officer.says(typed_answer(question, 1), expect="câu 2/")
    assert scalar(tmp_path, "select count(*) from answers") == 1
    assert unprocessed(tmp_path) == 0
