"""One database session per update, the officer it comes from, and their language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy import bindparam, select

from bot.i18n import translator
from storage.database import Database
from storage.direct_sql import DirectStatement, adopt_row, columns_of
from storage.inbox import claim_event
from storage.models import Identity, Officer, Unit
from storage.write_through import write_through

CHANNEL = "telegram"
WRITER = (Identity, Officer, Unit)
WHO_WRITES = DirectStatement(
    select(*columns_of(*WRITER)).join(Officer, Officer.id == Identity.officer_id)
    .outerjoin(Unit, Unit.id == Officer.unit_id)
    .where(Identity.channel == CHANNEL, Identity.external_id == bindparam("external_id"))
)


class EventContext(BaseMiddleware):
    """Opens the event's transaction (the one place that commits), claims the stored update so
    it is processed once, and injects `session`, `identity`, `officer` and `t`."""

    def __init__(self, db: Database, default_locale: str = "vi",
                 prompts: dict[int, tuple[int, str]] | None = None) -> None:
        self.db = db
        self.default_locale = default_locale
        self.prompts = prompts if prompts is not None else {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sent: tuple[int, tuple[int, str]] | None = None
        async with self.db.transaction() as session:
            inbox_id = data.get("inbox_id")
            if inbox_id is not None and not await claim_event(session, inbox_id):
                return None  # processed already: a redelivery, or another worker has it
            user: User | None = data.get("event_from_user")
            identity = officer = None
            if user is not None:
                # The unit comes along so that handlers find it in the session, not by a query.
                found = await WHO_WRITES.execute(session, {"external_id": str(user.id)})
                if found.rows:
                    identity, officer, _unit = adopt_row(session, WRITER, found.rows[0])
                    # The question message sent since this chat's last event (see remember_prompt).
                    prompt = self.prompts.get(identity.id)
                    if prompt is not None:
                        sent = identity.id, prompt
                        await write_through(session, identity, prompt_message_id=prompt[0],
                                            prompt_question=prompt[1])
            data.update(session=session, identity=identity, officer=officer,
                        t=translator(officer.locale if officer else self.default_locale))
            result = await handler(event, data)
        if sent is not None and self.prompts.get(sent[0]) == sent[1]:
            # Stored now; kept in memory until then, for the event to be tried again.
            del self.prompts[sent[0]]
        return result
