"""A newcomer files a whole report on Telegram reading nothing but the screen (issue 17: "a person
can file a whole report on a phone without reading the README"). From the invite code on, they
never ask for help: on each question they press the first choice if there are buttons, else type
the example the prompt gives ("ví dụ: 25"), else a sentence; refused, they press "Không có nội
dung để báo cáo"; with no question on screen, they type the quoted word that submits. The real
Telegram channel's dispatcher and routers (`TelegramChannel.process`, as the inbox worker calls
it) on a SQLite file, in process: what the bot would send is read from its replies."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select

from bot.config import Settings
from bot.telegram.replies import Reply, Send
from bot.telegram.runner import TelegramChannel
from engine.outline import Outline
from storage.campaigns import ensure_campaign
from storage.database import Database
from storage.inbox import TakenEvent
from storage.models import Role, Submission, SubmissionStatus, Unit
from storage.officers import create_invite

POSITION = re.compile(r"câu (\d+)/(\d+)")
EXAMPLE = re.compile(r"ví dụ: ([^\s,]+(?:,\d+)?%?)")
QUOTED = re.compile(r"“([^”]+)”")
TAG = re.compile(r"<[^>]+>")
NONE_BUTTON = "∅ Không có nội dung để báo cáo"
NAVIGATION = {NONE_BUTTON, "⬅ Quay lại", "Để sau", "Mục lục"}
SENTENCE = "Đã thực hiện theo kế hoạch."
USER = {"id": 7, "is_bot": False, "first_name": "Lan"}
CHAT = {"id": 7, "type": "private"}


@dataclass
class Newcomer:
    channel: TelegramChannel
    db: Database
    update_id: int = 0
    inputs: list[str] = field(default_factory=list)
    questions_seen: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    async def feed(self, update: dict[str, object]) -> list[Reply]:
        self.update_id += 1
        update["update_id"] = self.update_id
        async with self.db.transaction() as session:
            after = await self.channel.process(session, TakenEvent(self.update_id, str(self.update_id),
                                                                   json.dumps(update)))
        assert after is not None
        return list(after.args[0].items)  # type: ignore[attr-defined]

    async def types(self, text: str) -> list[Reply]:
        self.inputs.append(text)
        return await self.feed({"message": {"message_id": self.update_id + 1, "date": 1_800_000_000,
                                            "text": text, "chat": CHAT, "from": USER}})

    async def presses(self, label: str, data: str) -> list[Reply]:
        self.inputs.append(f"[{label}]")
        message = {"message_id": self.update_id, "date": 1_800_000_000, "chat": CHAT, "text": "…",
                   "from": {"id": 123456, "is_bot": True, "first_name": "bot"}}
        return await self.feed({"callback_query": {"id": str(self.update_id + 1), "from": USER,
                                                   "chat_instance": "1", "data": data, "message": message}})

    async def files_a_report(self, code: str, steps: int = 300) -> bool:
        replies = await self.types(f"/start {code}")
        asked: dict[str, int] = {}
        for _step in range(steps):
            sends = [reply for reply in replies if isinstance(reply, Send)]
            texts = [html.unescape(TAG.sub("", reply.message.text)) for reply in sends]
            screen = "\n".join(texts)
            if "Đã nộp báo cáo" in screen:
                return True
            keyboard = next((r.message.keyboard for r in reversed(sends) if r.message.keyboard), None)
            buttons = {b.text: b.callback_data or "" for row in (keyboard.inline_keyboard if keyboard else [])
                       for b in row}
            if "✅ Xác nhận nộp" in buttons:
                replies = await self.presses("✅ Xác nhận nộp", buttons["✅ Xác nhận nộp"])
                continue
            question = next((text for text in reversed(texts) if POSITION.search(text)), None)
            if question is None:
                submit = next((word for word in QUOTED.findall(screen) if "nộp" in word), None)
                assert submit is not None, f"nothing on screen says what to do next:\n{screen}"
                replies = await self.types(submit)
                continue
            if "⚠️" in screen:
                self.refusals.append(screen)
            self.questions_seen.append(question)
            asked[question] = asked.get(question, 0) + 1
            choices = [label for label in buttons if label not in NAVIGATION]
            if asked[question] > 1 and NONE_BUTTON in buttons:  # refused: nothing to report, then
                replies = await self.presses(NONE_BUTTON, buttons[NONE_BUTTON])
            elif choices:
                replies = await self.presses(choices[0], buttons[choices[0]])
            else:
                example = EXAMPLE.search(question)
                replies = await self.types(example.group(1).rstrip(".") if example else SENTENCE)
        return False


async def test_a_newcomer_files_a_whole_report_reading_only_the_screen(
    tmp_path: Path, outline: Outline
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    await db.upgrade()
    async with db.transaction() as session:
        unit = Unit(code="31150", name="Phường Tân An", level="commune")
        session.add(unit)
        await ensure_campaign(session, "tu-kiem-tra-2027", "Tự kiểm tra", outline, "ke-hoach-20-2021.yaml",
                              date(2027, 10, 31))
        await session.flush()
        code, _invite = await create_invite(session, unit, Role.OFFICER)
    settings = Settings(database_url=db.url, telegram_token="123456:TEST",  # type: ignore[call-arg]
                        telegram_api_base="http://127.0.0.1:9", data_dir=tmp_path / "data", _env_file=None)
    channel = TelegramChannel(settings, db)
    newcomer = Newcomer(channel, db)
    try:
        assert await newcomer.files_a_report(code), newcomer.inputs[-10:]
        async with db.transaction() as session:
            status = await session.scalar(select(Submission.status))
    finally:
        await channel.bot.session.close()
        await db.close()
    assert status == SubmissionStatus.SUBMITTED
    # Every question said what it expects, in words or with buttons, and where the officer is.
    for question in newcomer.questions_seen:
        assert re.search(r"\b(Gõ|Bấm)\b", question), question
    # Few detours: the figures the examples suggest mostly fit; each refusal said why.
    asked = len(set(newcomer.questions_seen))
    assert asked >= 60 and len(newcomer.inputs) <= asked + 8, newcomer.inputs
    assert len(newcomer.refusals) <= 5
    assert all("⚠️" in refusal and POSITION.search(refusal) for refusal in newcomer.refusals)
