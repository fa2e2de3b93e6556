"""The Telegram channel end to end: the real `kstthc-bot run` process against the fake Bot API."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from engine.outline import Outline
from tests.fake_telegram import FakeTelegram
from tests.telegram_harness import (
    Officer,
    bot_environment,
    cli,
    query,
    running_bot,
    stop_within,
)

ADMIN, OFFICER, OTHER = 1001, 2002, 3003
RECORD = "✅ <b>Đã làm</b> & *xong* _hết_ 🎉"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


# A drill (KSTTHC_NOW, here in the past) must tell the VP office just the same, at the drill's time.
DRILL = {"KSTTHC_NOW": "2026-10-20T02:00:00+00:00"}


@pytest.mark.parametrize("clock", [{}, DRILL], ids=["real clock", "drill clock"])
async def test_an_officer_registers_fills_in_the_whole_outline_and_submits(
    tg: FakeTelegram, tmp_path: Path, outline: Outline, clock: dict[str, str]
) -> None:
    admin_code = cli(tmp_path, tg, "invite", "--admin", **clock)
    unit_code = cli(tmp_path, tg, "invite", "31135", **clock)
    async with running_bot(tmp_path, tg, **clock) as process:
        admin = Officer(tg, ADMIN, outline)
        await admin.says(f"/start {admin_code}", expect="Văn phòng UBND thành phố")
        officer = Officer(tg, OFFICER, outline)

        # Without a code the bot explains how to get one; a wrong code is refused politely.
        await officer.says("/start", expect="mã mời do Văn phòng UBND thành phố cấp")
        await officer.says("/start ABCD-EFGH", expect="Mã mời không đúng")
        await officer.says(f"/start {unit_code}", expect="câu 1/")
        greeting = [m for m in officer.messages() if "Phường Ninh Kiều" in m.plain_text]
        assert greeting and ("31/10/2026" if clock else "31/10/") in greeting[0].plain_text
        first = officer.current_question()
        assert first.button_texts == ["∅ Không có nội dung để báo cáo", "⬅ Quay lại", "Để sau", "Mục lục"]

        while officer.question_on_screen().name != "dossiers_total":
            await officer.answer_current()
        # A wrong number: a clear message, the question stays open, nothing is saved.
        question = officer.current_question()
        error = await officer.says("mười hai", expect="Vui lòng nhập một số nguyên")
        assert officer.current_question().message_id == question.message_id
        assert error.message_id > question.message_id
        await officer.answer_current()  # 2.500
        # Going back shows the recorded answer; re-answering goes on where the officer was.
        await officer.presses("⬅ Quay lại", expect="Đã trả lời: 2.500")
        await officer.says("2.500", expect="câu")
        assert officer.question_on_screen().name == "dossiers_new"

        while True:
            if any("Đơn vị đã trả lời đủ" in m.plain_text for m in officer.messages()):
                break
            await officer.answer_current()

        # The chat reads as a record: every answered question's message shows its answer.
        edited = [m for m in officer.messages() if m.edit_count and "✅" in m.plain_text]
        assert len(edited) >= len(officer.answered) - 2

        review = await officer.says("/xem", expect="XEM LẠI BÁO CÁO")
        assert all(len(m.text) <= 4096 for m in officer.messages())
        assert review.plain_text
        confirm = await officer.says("/nop", expect="Xác nhận")
        await officer.presses("✅ Xác nhận nộp", message=confirm, expect="Đã nộp báo cáo")

        notice = await tg.wait_for_message(ADMIN, contains="Phường Ninh Kiều đã nộp báo cáo",
                                           timeout=15)
        assert "Xem báo cáo" in notice.button_texts
        if clock:
            assert re.search(r"lúc 09:\d\d 20/10/2026", notice.plain_text)
        await admin.presses("Xem báo cáo", message=notice, expect="Phường Ninh Kiều (31135)")

        # SIGTERM: what is in hand is finished and the process is gone within 10 seconds.
        assert await stop_within(process, 10) < 10
        assert process.returncode == 0

    assert query(tmp_path, "select status from submissions") == [("submitted",)]
    answers = query(tmp_path, "select count(*) from answers")[0][0]
    assert answers == len(set(officer.answered))
    assert query(tmp_path, "select count(*) from answers where kind = 'none'")[0][0] > 0
    texts = {row[0] for row in query(tmp_path, "select value from answers where kind = 'value'")}
    assert "Đã thực hiện đầy đủ theo kế hoạch <số 15/KH-UBND> & đúng tiến độ 👍" in texts
    channels = {row[0] for row in query(tmp_path, "select distinct channel from history")}
    assert channels == {"telegram"}
    vietnamese = {c["command"]: c["description"] for c in tg.commands_for(language_code="vi")}
    english = {c["command"]: c["description"] for c in tg.commands_for(language_code="en")}
    assert set(vietnamese) == set(english) >= {"baocao", "mucluc", "tiendo", "xem", "nop", "huongdan",
                                               "ngonngu"}
    assert vietnamese["nop"] == "Nộp báo cáo"


async def test_a_drill_clock_runs_on_so_the_next_reminder_comes(
    tg: FakeTelegram, tmp_path: Path, outline: Outline
) -> None:
    """A drill started just before a reminder day's 07:30 opening (the −3 working-day one before
    the 30/10/2026 self-inspection deadline): once the drill's clock reaches 07:30, the reminder
    goes out, as it would on the day. (A clock frozen at KSTTHC_NOW never got there.)

    The drill's clock starts when the bot has read its settings, after the /start is sent: with
    07:30 15 s away, a reply to the /start within says()'s 15 s is always before 07:30, however
    slow the machine, and the test waits 15 s for the clock rather than 25."""
    drill = {"KSTTHC_NOW": "2026-10-27T07:29:45+07:00", "KSTTHC_PLANNER_INTERVAL": "0.5"}
    unit_code = cli(tmp_path, tg, "invite", "31135", **drill)
    async with running_bot(tmp_path, tg, **drill):
        officer = Officer(tg, OFFICER, outline)
        await officer.says(f"/start {unit_code}", expect="câu 1/")
        assert not any("còn 3 ngày làm việc" in m.plain_text for m in officer.messages())
        reminder = await tg.wait_for_message(OFFICER, contains="còn 3 ngày làm việc", timeout=60)
        assert reminder.plain_text.startswith("⏰") and "30/10/2026" in reminder.plain_text


async def test_forged_and_stale_buttons_change_nothing(
    tg: FakeTelegram, tmp_path: Path, outline: Outline
) -> None:
    first_unit = cli(tmp_path, tg, "invite", "31135")
    second_unit = cli(tmp_path, tg, "invite", "31120")
    async with running_bot(tmp_path, tg):
        officer = Officer(tg, OFFICER, outline)
        other = Officer(tg, OTHER, outline)
        await officer.says(f"/start {first_unit}", expect="câu 1/")
        await other.says(f"/start {second_unit}", expect="câu 1/")
        old = officer.current_question()
        await officer.answer_current()
        # A button of an old message: refused with an alert, nothing changes.
        before = len(tg.callback_answers)
        stale = f"a:none:{outline.asked_questions[0].name}"
        tg.user_presses_button(OFFICER, old.message_id, stale, strict=False)
        # Forged data: a choice for another question, a jump to nowhere, junk, another unit's view.
        tg.user_presses_button(OFFICER, old.message_id, "p:dossiers_total:1", strict=False)
        tg.user_presses_button(OFFICER, old.message_id, "g:99.9", strict=False)
        tg.user_presses_button(OFFICER, old.message_id, "zzz", strict=False)
        tg.user_presses_button(OFFICER, old.message_id, "v:1", strict=False)
        await tg.wait_for(lambda s: len(s.callback_answers) >= before + 5, timeout=15,
                          message="5 answers")
        alerts = [a for a in tg.callback_answers[before:] if a.show_alert]
        assert len(alerts) == 4  # all but the jump to nowhere, which says so in the chat
        assert all("tin nhắn mới nhất" in (a.text or "") for a in alerts)
        # Markup-like text round-trips unchanged and is shown escaped.
        await officer.says("<b>Đã làm</b> & *xong* _hết_ 🎉", expect="câu 3/")
        # The record is an edit sent alongside the next question, so it may land just after it.
        await tg.wait_for(lambda s: any(RECORD in m.plain_text for m in officer.messages()), timeout=10,
                          message="the answered question edited into its record")
        recorded = [m for m in officer.messages() if RECORD in m.plain_text]
        assert "&lt;b&gt;" in recorded[0].text
    rows = query(tmp_path, "select s.unit_id, a.question, a.kind, a.value from answers a "
                           "join submissions s on s.id = a.submission_id order by a.id")
    assert {row[0] for row in rows} == {query(tmp_path, "select id from units where code='31135'")[0][0]}
    assert [row[1] for row in rows] == [outline.asked_questions[0].name, outline.asked_questions[1].name]
    assert rows[0][2] == "none"
    assert rows[1][3] == "<b>Đã làm</b> & *xong* _hết_ 🎉"


async def test_webhook_checks_its_secret_before_anything_else(
    tg: FakeTelegram, tmp_path: Path, unused_tcp_port: int, outline: Outline
) -> None:
    code = cli(tmp_path, tg, "invite", "31135")
    secret = "s3cret-token-for-tests"
    url = f"http://127.0.0.1:{unused_tcp_port}/telegram/webhook"
    extra = {"KSTTHC_TELEGRAM_WEBHOOK_URL": url, "KSTTHC_TELEGRAM_WEBHOOK_SECRET": secret,
             "KSTTHC_TELEGRAM_WEBHOOK_PORT": str(unused_tcp_port)}
    env = bot_environment(tmp_path, tg, **extra)
    assert env["KSTTHC_TELEGRAM_WEBHOOK_SECRET"] == secret
    import subprocess

    from tests.commands import command

    process = subprocess.Popen([*command(), "run", "--webhook"], cwd=tmp_path, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        await tg.wait_for(lambda s: s.webhook.get("url") == url, timeout=15, message="setWebhook")
        update = {"update_id": 777, "message": {
            "message_id": 1, "date": 0, "chat": {"id": OFFICER, "type": "private"},
            "from": {"id": OFFICER, "is_bot": False, "first_name": "A"}, "text": f"/start {code}"}}
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(url, json=update, headers=headers) as response:
                    assert response.status == 401
            await asyncio.sleep(0.5)
            assert tg.messages_to(OFFICER) == []
            assert query(tmp_path, "select count(*) from inbox")[0][0] == 0
            async with http.post(url, json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as response:
                assert response.status == 200
            await tg.wait_for_message(OFFICER, contains="câu 1/", timeout=15)
            # A redelivery of the same update changes nothing.
            async with http.post(url, json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as response:
                assert response.status == 200
            await asyncio.sleep(0.5)
            assert len([m for m in tg.messages_to(OFFICER) if "câu 1/" in m.text]) == 1
    finally:
        await stop_within(process, 10)
