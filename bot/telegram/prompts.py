"""Which message showed a chat its question, written to the database without a transaction of its
own while the bot is busy.

The message id is known only once the question is sent, after the turn's commit. Writing it at once
took a second transaction per answer, beside the turn's own. Instead it waits here, and goes into
the database with the chat's next turn in this process, before that turn reads it, or, if no such
turn comes within `delay`, with the others waiting, in one transaction. Another process applying the
chat's next update sooner than that finds the older id: the answered question is then not edited,
and the record is said in a message of its own; the answer itself never depends on this. Like the
write it replaces, it is not durable: a crash costs an edit, never an answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database
from storage.officers import remember_prompt

log = logging.getLogger(__name__)
Waiting = tuple[int, str, int]  # identity id, question, message id
WRITE_DELAY = 0.05  # seconds: a busy bot's next turns come sooner; a person types slower


class PromptIds:
    def __init__(self, db: Database, delay: float = WRITE_DELAY) -> None:
        self.db = db
        self.delay = delay
        self.waiting: dict[str, Waiting] = {}  # by chat key: the chat's newest question message
        self.writer: asyncio.Task[None] | None = None

    def said(self, chat_key: str, identity_id: int, question: str, message_id: int) -> None:
        """`chat_key` as the inbox keys the chat (its sender, which in an officer's private chat is
        the chat itself); a key no turn comes for is written by the writer all the same."""
        known = self.waiting.get(chat_key)
        if known is None or known[2] < message_id:
            self.waiting[chat_key] = (identity_id, question, message_id)
        if self.writer is None:
            self.writer = asyncio.create_task(self._write_soon())

    async def write_chat(self, session: AsyncSession, chat_key: str) -> Waiting | None:
        """Into the chat's turn (its transaction, committed by the caller): the chat's own id only,
        so a turn never locks another chat's row. It stays waiting until `committed` is told: a
        turn rolled back writes nothing."""
        waiting = self.waiting.get(chat_key)
        if waiting is not None:
            await remember_prompt(session, *waiting)
        return waiting

    def committed(self, chat_key: str, written: Waiting | None) -> None:
        if written is not None and self.waiting.get(chat_key) == written:
            del self.waiting[chat_key]

    async def write_all(self) -> None:
        """What waits, in one transaction of its own; lost if that fails (an edit at worst, and no
        retry loop against a database that is away)."""
        waiting = dict(self.waiting)
        try:
            # In one order, so that two processes writing at once never wait on each other in a cycle.
            async with self.db.transaction(durable=False) as session:
                for row in sorted(waiting.values()):
                    await remember_prompt(session, *row)
        finally:
            for chat_key, written in waiting.items():
                self.committed(chat_key, written)

    async def _write_soon(self) -> None:
        try:
            while self.waiting:
                await asyncio.sleep(self.delay)
                await self._write_all_safely()
        finally:
            self.writer = None

    async def _write_all_safely(self) -> None:
        try:
            await self.write_all()
        except Exception as error:  # an edit lost at worst; the answers are all in
            log.warning("the questions' message ids could not be written: %s", type(error).__name__)

    async def close(self) -> None:
        """What is still waiting, written now (on stopping)."""
        if self.writer is not None:
            self.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.writer
        await self._write_all_safely()
