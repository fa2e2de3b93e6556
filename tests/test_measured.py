"""A scripted officer fills a whole report on Telegram and on Zalo, and the messages the bot sends
per question are counted (issue 17, "Measured"): Telegram ≤ 1.1 new messages per question (the
edit of the answered question's message counted apart), Zalo ≤ 2. The real Telegram channel (its
dispatcher, `process` and `say`) against the fake Bot API in process; Zalo's text path with its
packing into messages of at most 2,000 characters. The figures are printed (pytest -s)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from bot.config import Settings
from bot.telegram.runner import TelegramChannel
from bot.zalo.client import MAX_TEXT_LENGTH
from deadlines.workdays import WorkingCalendar
from engine.conversation import ReportEngine
from handlers.render import pack_texts
from handlers.text_chat import TextContext, handle_text
from storage.campaigns import ensure_campaign
from storage.database import Database
from storage.inbox import TakenEvent
from storage.models import Unit
from storage.officers import create_invite
from tests.fake_telegram import FakeTelegram
from tests.scripted_officer import script_for

TODAY = date(2027, 3, 1)


async def database(tmp_path: Path, engine: ReportEngine) -> tuple[Database, list[str]]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    await db.upgrade()
    async with db.transaction() as session:
        unit = Unit(code="31150", name="Phường Tân An", level="commune")
        session.add(unit)
        await session.flush()
        await ensure_campaign(session, "tu-kiem-tra-2027", "Tự kiểm tra", engine.outline,
                              "ke-hoach-20-2021.yaml", date(2027, 10, 31))
        codes = [(await create_invite(session, unit))[0] for _ in range(2)]
    return db, codes


async def test_a_whole_report_on_zalo_costs_at_most_two_messages_a_question(
    tmp_path: Path, engine: ReportEngine
) -> None:
    db, (code, _) = await database(tmp_path, engine)
    script = script_for(engine)
    counts, characters = [], 0
    try:
        for index, line in enumerate([code, *script]):
            async with db.transaction() as session:
                ctx = TextContext(session, "zalo", "u1", "u1", "Cán bộ", WorkingCalendar(), TODAY,
                                  "ke-hoach-20-2021.yaml")
                messages = pack_texts(await handle_text(ctx, line), MAX_TEXT_LENGTH)
            if index:
                counts.append(len(messages))
                characters += sum(len(message) for message in messages)
    finally:
        await db.close()
    per_question = sum(counts) / len(script)
    print(json.dumps({"channel": "zalo", "questions": len(script), "messages": sum(counts),
                      "per_question": round(per_question, 2), "characters": characters,
                      "characters_per_question": round(characters / len(script))}))
    assert per_question <= 2


async def test_a_whole_report_on_telegram_costs_at_most_1_1_new_messages_a_question(
    tmp_path: Path, engine: ReportEngine
) -> None:
    db, (_, code) = await database(tmp_path, engine)
    script = script_for(engine)
    user = 42
    try:
        async with FakeTelegram() as tg:
            settings = Settings(database_url=db.url, telegram_token=tg.token,  # type: ignore[call-arg]
                                telegram_api_base=tg.base_url, _env_file=None)
            channel = TelegramChannel(settings, db)
            try:
                tg.user_sends_text(user, "xin chào")
                for number, line in enumerate([f"/start {code}", *script], start=1):
                    if number == 2:
                        sent_before, edits_before = len(tg.texts_to(user)), len(tg.edits_of(user))
                        requests_before = len(tg.request_log)
                    update = {"update_id": number, "message": {
                        "message_id": 1000 + number, "date": 1_800_000_000 + number, "text": line,
                        "chat": {"id": user, "type": "private"},
                        "from": {"id": user, "is_bot": False, "first_name": "Cán bộ"}}}
                    async with db.transaction() as session:
                        after = await channel.process(session, TakenEvent(number, str(number),
                                                                          json.dumps(update)))
                    assert after is not None
                    await after()
            finally:
                await channel.bot.session.close()
            sent = tg.texts_to(user)[sent_before:]
            edits = len(tg.edits_of(user)) - edits_before
            # What went over the wire: new messages and edits (the chat as read at the end differs).
            characters = sum(len(str(request.params.get("text", "")))
                             for request in tg.request_log[requests_before:]
                             if request.method in ("sendMessage", "editMessageText"))
    finally:
        await db.close()
    per_question = len(sent) / len(script)
    print(json.dumps({"channel": "telegram", "questions": len(script), "new_messages": len(sent),
                      "per_question": round(per_question, 2), "edits": edits, "characters": characters,
                      "characters_per_question": round(characters / len(script))}))
    assert per_question <= 1.1
