"""The officer an update comes from, and their language, in the update's database session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User
from sqlalchemy import bindparam, select

from locales.translation import translator
from storage.direct_sql import DirectStatement, adopt_row, columns_of
from storage.models import Identity, Officer, Unit

CHANNEL = "telegram"
WRITER = (Identity, Officer, Unit)
WHO_WRITES = DirectStatement(
    select(*columns_of(*WRITER)).join(Officer, Officer.id == Identity.officer_id)
    .outerjoin(Unit, Unit.id == Officer.unit_id)
    .where(Identity.channel == CHANNEL, Identity.external_id == bindparam("external_id"))
)


class EventContext(BaseMiddleware):
    """Injects `identity`, `officer` and `t`, read in the update's `session` (the transaction the
    inbox worker opened, in which the update was claimed and which commits once it is applied)."""

    def __init__(self, default_locale: str = "vi") -> None:
        self.default_locale = default_locale

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        session = data["session"]
        user: User | None = data.get("event_from_user")
        identity = officer = None
        if user is not None:
            # The unit comes along so that handlers find it in the session, not by a query.
            found = await WHO_WRITES.execute(session, {"external_id": str(user.id)})
            if found.rows:
                identity, officer, _unit = adopt_row(session, WRITER, found.rows[0])
        data.update(identity=identity, officer=officer,
                    t=translator(officer.locale if officer else self.default_locale))
        return await handler(event, data)
