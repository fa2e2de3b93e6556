"""Submissions, their answers, the history, and each officer's place in the conversation."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.answers import Answer, deserialise, serialise
from engine.outline import Outline
from storage.direct_sql import DirectStatement, adopt, columns_of
from storage.models import (
    AnswerRow,
    Campaign,
    Conversation,
    HistoryEntry,
    Submission,
    SubmissionStatus,
    utcnow,
)
from storage.upsert import insert_ignoring_duplicates, upsert
from storage.write_through import write_through


@dataclass(frozen=True)
class Actor:
    """Who did something, and through which channel: written to every history entry."""

    officer_id: int
    channel: str


async def submission_for(session: AsyncSession, campaign: Campaign, unit_id: int) -> Submission:
    """The unit's submission in the campaign, created as a draft on first use."""
    # FOR UPDATE serialises officers of one unit on PostgreSQL; SQLite's BEGIN IMMEDIATE
    # already does, and ignores the clause.
    key = {"campaign_id": campaign.id, "unit_id": unit_id}
    found = await UNIT_SUBMISSION.execute(session, key)
    if found.rows:
        return adopt(session, Submission, found.rows[0])
    # Two officers' first answers at once on PostgreSQL both find nothing to lock: a plain
    # INSERT would fail the second with a unique violation. ON CONFLICT DO NOTHING waits for
    # the first to commit instead, and the SELECT then locks the one shared row.
    await insert_ignoring_duplicates(
        session, Submission,
        [{"campaign_id": campaign.id, "unit_id": unit_id, "status": SubmissionStatus.DRAFT}],
        unique=("campaign_id", "unit_id"),
    )
    (row,) = (await UNIT_SUBMISSION.execute(session, key)).rows
    return adopt(session, Submission, row)


UNIT_SUBMISSION = DirectStatement(
    select(*columns_of(Submission)).where(Submission.campaign_id == bindparam("campaign_id"),
                                          Submission.unit_id == bindparam("unit_id")).with_for_update())


async def load_answers(
    session: AsyncSession, submission: Submission, outline: Outline
) -> dict[str, Answer]:
    # Columns, not AnswerRow objects: read on every answer, and nothing here changes them.
    result = await SUBMISSION_ANSWERS.execute(session, {"submission_id": submission.id})
    return {
        question: deserialise(outline.question(question), kind, value)
        for question, kind, value in result.rows
        if outline.has_question(question)
    }


SUBMISSION_ANSWERS = DirectStatement(select(AnswerRow.question, AnswerRow.kind, AnswerRow.value).where(
    AnswerRow.submission_id == bindparam("submission_id")))


async def save_answer(
    session: AsyncSession,
    submission: Submission,
    outline: Outline,
    question_name: str,
    answer: Answer,
    actor: Actor,
    at: datetime | None = None,
) -> None:
    """Write the current answer and append it to the history (committed by the caller)."""
    when = at or utcnow()
    stored = serialise(outline.question(question_name), answer)
    await upsert(session, AnswerRow, {
        "submission_id": submission.id, "question": question_name, "kind": answer.kind.value,
        "value": stored, "officer_id": actor.officer_id, "channel": actor.channel, "answered_at": when,
    }, unique=("submission_id", "question"))
    await ADD_HISTORY.execute(session, {
        "submission_id": submission.id, "event": "answer", "question": question_name,
        "kind": answer.kind.value, "value": stored, "officer_id": actor.officer_id,
        "channel": actor.channel, "at": when,
    })
    await write_through(session, submission, updated_at=when)


# As a statement, not an object added to the session: written with every answer, and nothing
# reads the entry back in the same event.
ADD_HISTORY = DirectStatement(insert(cast(Table, HistoryEntry.__table__)))


async def clear_answer(
    session: AsyncSession, submission: Submission, question_name: str, actor: Actor
) -> None:
    """Withdraw an answer (it must be given again); the history keeps what it was."""
    row = await session.scalar(
        select(AnswerRow).where(AnswerRow.submission_id == submission.id,
                                AnswerRow.question == question_name)
    )
    if row is None:
        return
    await session.delete(row)
    when = utcnow()
    session.add(HistoryEntry(submission_id=submission.id, event="clear", question=question_name,
                             officer_id=actor.officer_id, channel=actor.channel, at=when))
    submission.updated_at = when


async def mark_submitted(session: AsyncSession, submission: Submission, actor: Actor) -> None:
    """Hand the report in (again, after a return); the history keeps this version's answers."""
    now = utcnow()
    again = submission.status == SubmissionStatus.RETURNED
    submission.status = SubmissionStatus.RESUBMITTED if again else SubmissionStatus.SUBMITTED
    submission.submitted_at = now
    submission.submitted_by = actor.officer_id
    submission.updated_at = now
    # Answers are written with upserts, past the session's identity map: read them afresh.
    rows = await session.scalars(select(AnswerRow).where(AnswerRow.submission_id == submission.id)
                                 .order_by(AnswerRow.question).execution_options(populate_existing=True))
    version = {row.question: {"kind": row.kind, "value": row.value} for row in rows}
    session.add(HistoryEntry(submission_id=submission.id, event="resubmit" if again else "submit",
                             value=json.dumps(version, ensure_ascii=False),
                             officer_id=actor.officer_id, channel=actor.channel, at=now))


async def mark_reviewed(
    session: AsyncSession, submission: Submission, actor: Actor, accepted: bool, reason: str = ""
) -> None:
    """The VP office accepts the report, or returns it for revision with a reason."""
    now = utcnow()
    submission.status = SubmissionStatus.ACCEPTED if accepted else SubmissionStatus.RETURNED
    submission.updated_at = now
    session.add(HistoryEntry(submission_id=submission.id, event="accept" if accepted else "return",
                             value=reason or None, officer_id=actor.officer_id, channel=actor.channel,
                             at=now))


async def history(session: AsyncSession, submission: Submission) -> list[HistoryEntry]:
    rows = await session.scalars(
        select(HistoryEntry).where(HistoryEntry.submission_id == submission.id)
        .order_by(HistoryEntry.id)
    )
    return list(rows)


async def conversation_for(
    session: AsyncSession, officer_id: int, submission: Submission
) -> Conversation:
    found = await OFFICER_CONVERSATION.execute(
        session, {"officer_id": officer_id, "submission_id": submission.id})
    if found.rows:
        return adopt(session, Conversation, found.rows[0])
    conversation = Conversation(officer_id=officer_id, submission_id=submission.id)
    session.add(conversation)
    await session.flush()
    return conversation


OFFICER_CONVERSATION = DirectStatement(
    select(*columns_of(Conversation)).where(Conversation.officer_id == bindparam("officer_id"),
                                            Conversation.submission_id == bindparam("submission_id")))


async def count_answers(session: AsyncSession, submission: Submission) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(AnswerRow).where(AnswerRow.submission_id == submission.id)
    ) or 0)
