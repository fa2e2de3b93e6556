"""Report filling over storage: load the officer's state, let the engine decide, save the
outcome. Every channel calls these; the caller's transaction commits before anything is said."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from deadlines.schedule import DeadlineKind
from engine.conversation import ReportEngine
from engine.outline import Outline
from engine.views import Mode, Outcome, ReviewView, State, Turn
from handlers.followup_draft import drafted_at, followup_drafts
from handlers.notifications import notify_submitted
from handlers.outline_versions import OUTLINES_DIR as OUTLINES_DIR
from handlers.outline_versions import outline_engine as outline_engine
from handlers.outline_versions import outline_of
from storage.campaigns import campaign_period
from storage.direct_sql import DirectStatement, adopt, columns_of, flush_changes
from storage.models import (
    HANDED_IN,
    Campaign,
    CampaignUnit,
    Conversation,
    Identity,
    Officer,
    Submission,
    SubmissionStatus,
    Unit,
    UnitLevel,
    as_utc,
)
from storage.outbox import drop_unit_reminders
from storage.previous import previous_answers
from storage.reports import (
    Actor,
    clear_answer,
    conversation_for,
    load_answers,
    mark_submitted,
    save_answer,
    submission_for,
)
from storage.write_through import write_through

# The outline's relevance rules know three levels; the province itself reports like a department.
ENGINE_LEVEL = {UnitLevel.PROVINCE: "department"}
LONG_MODES = frozenset({Mode.OVERLONG, Mode.LONG_SAVED})


def engine_level(unit: Unit) -> str:
    """The unit's level as the outline's relevance rules know it."""
    return ENGINE_LEVEL.get(UnitLevel(unit.level), unit.level)


@dataclass(frozen=True)
class Report:
    """One officer at work on their unit's submission in a campaign (read-only rows; the
    submission itself is re-read, and locked, in each event's session)."""

    officer: Officer
    unit: Unit
    campaign: Campaign
    channel: str
    engine: ReportEngine  # of the campaign's own outline version (handlers.outline_versions)
    # The round the VP office closed while this officer's report in it was unfinished, when the
    # officer has not yet been shown this (next) round: they are told before anything is saved.
    closed_round: Campaign | None = None

    @property
    def outline(self) -> Outline:
        return self.engine.outline

    @property
    def actor(self) -> Actor:
        return Actor(self.officer.id, self.channel)


async def open_report(
    session: AsyncSession, officer: Officer, unit: Unit, channel: str
) -> Report | None:
    """The officer's current report; None when the unit takes part in no open campaign."""
    rounds = await unit_rounds(session, unit)
    if rounds.current is None:
        return None
    left = next((campaign for campaign, unfinished in rounds.closed if unfinished), None)
    if left is not None and await session.scalar(select(Conversation.id).join(
            Submission, Submission.id == Conversation.submission_id).where(
            Conversation.officer_id == officer.id, Submission.campaign_id == rounds.current.id,
            Submission.unit_id == unit.id)) is not None:
        left = None  # already moved on to this round
    return Report(officer, unit, rounds.current, channel, await outline_of(session, rounds.current, unit),
                  left)


@dataclass(frozen=True)
class Rounds:
    current: Campaign | None
    # The closed campaigns the unit took part in, closed last first, each with whether the unit's
    # report in it was begun and not handed in.
    closed: list[tuple[Campaign, bool]]


async def current_campaign(session: AsyncSession, unit: Unit) -> Campaign | None:
    return (await unit_rounds(session, unit)).current


async def unit_rounds(session: AsyncSession, unit: Unit) -> Rounds:
    """Of the open campaigns the unit takes part in (every fixed-date one; a visit or conclusion
    one once its date is recorded), the first still to submit, soonest date first, else the
    newest; and the closed ones, where nothing more is taken."""
    parts: list[tuple[Campaign, date, bool]] = []
    closed: list[tuple[Campaign, bool]] = []
    for row in (await UNIT_CAMPAIGNS.execute(session, {"unit_id": unit.id})).rows:
        campaign = adopt(session, Campaign, row)  # the campaign's columns come first
        chosen, dated, visit_date, conclusion_date, status = row[-5:]
        # Every unit takes part in a fixed-date campaign unless it was opened for chosen units.
        if not dated and (campaign.deadline_kind != DeadlineKind.FIXED_DATE or chosen):
            continue
        if campaign.closed_at is not None:
            closed.append((campaign, status is not None and status not in HANDED_IN))
            continue
        parts.append((campaign, visit_date or conclusion_date or campaign.deadline, status in HANDED_IN))
    closed.sort(key=lambda part: as_utc(part[0].closed_at or part[0].created_at), reverse=True)
    open_ones = [(counts_from, campaign) for campaign, counts_from, handed_in in parts if not handed_in]
    if open_ones:
        return Rounds(min(open_ones, key=lambda part: part[0])[1], closed)
    return Rounds(max((campaign for campaign, _, _ in parts), key=lambda campaign: campaign.id, default=None),
                  closed)


CHOSEN = aliased(CampaignUnit)
# Every campaign with what concerns the unit in it: its dates (if it takes part by date) and
# its submission's status; one query, as it runs on every answer.
UNIT_CAMPAIGNS = DirectStatement(
    select(*columns_of(Campaign),
           exists().where(CHOSEN.campaign_id == Campaign.id).label("chosen"),  # opened for some units
           (CampaignUnit.id.is_not(None)).label("dated"), CampaignUnit.visit_date,
           CampaignUnit.conclusion_date, Submission.status)
    .outerjoin(CampaignUnit, (CampaignUnit.campaign_id == Campaign.id)
               & (CampaignUnit.unit_id == bindparam("unit_id")))
    .outerjoin(Submission, (Submission.campaign_id == Campaign.id)
               & (Submission.unit_id == bindparam("unit_id")))
    .order_by(Campaign.deadline.desc(), Campaign.id.desc())  # ties go as open_campaigns lists them
)


def _period_of(campaign: Campaign) -> tuple[date, date]:
    period = campaign_period(campaign)
    return period.start, period.end


async def load_state(
    session: AsyncSession, report: Report, submission: Submission
) -> tuple[State, Conversation]:
    answers = await load_answers(session, submission, report.outline)
    conversation = await conversation_for(session, report.officer.id, submission)
    mode = Mode(conversation.mode)
    return State(
        answers=answers,
        cursor=conversation.cursor,
        mode=mode,
        unit_level=engine_level(report.unit),
        submitted=SubmissionStatus(submission.status).handed_in,
        period=_period_of(report.campaign),
        previous=await previous_answers(session, report.campaign, report.unit.id, report.outline),
        deadline=report.campaign.deadline,
        # In a long-paste mode, the row's time is when the paste was sent (see _save).
        mode_since=as_utc(conversation.updated_at) if mode in LONG_MODES else None,
    ), conversation


async def _save(
    session: AsyncSession, report: Report, submission: Submission, conversation: Conversation,
    outcome: Outcome,
) -> None:
    for name, answer in outcome.saved.items():
        await save_answer(session, submission, report.outline, name, answer, report.actor)
    for name in outcome.cleared:
        await clear_answer(session, submission, name, report.actor)
    if outcome.submit:
        await mark_submitted(session, submission, report.actor)
    if outcome.state.mode in LONG_MODES and outcome.state.mode_since is not None:
        await write_through(session, conversation, cursor=outcome.state.cursor,
                            mode=outcome.state.mode.value, updated_at=outcome.state.mode_since)
    else:
        await write_through(session, conversation, cursor=outcome.state.cursor,
                            mode=outcome.state.mode.value)
    await flush_changes(session)


async def with_drafts(session: AsyncSession, report: Report, state: State,
                      run: Callable[[State], Outcome]) -> Outcome:
    """`run` on the state, then again with the drafted answers when the turn stood at, or moved
    to, a drafted question: reading a draft takes queries that every other answer is spared
    (the engine is pure, so running it twice changes nothing)."""
    outcome = run(state)
    if not drafted_at(state, outcome):
        return outcome
    drafts = await followup_drafts(session, report.unit, report.outline, state.answers)
    return run(replace(state, drafts=drafts)) if drafts else outcome


async def take_turn(
    session: AsyncSession, report: Report, turn: Turn, on_question: str | None = None,
    notify_chats: dict[str, list[str]] | None = None,
) -> Outcome | None:
    """Apply one officer turn; the answers it gives are in the session, to be committed.

    `on_question` is the question a button was shown with: if the officer has moved on since
    (an old message), the turn is refused and None returned, changing nothing."""
    submission = await submission_for(session, report.campaign, report.unit.id)
    state, conversation = await load_state(session, report, submission)
    if on_question is not None and not report.engine.is_current(state, on_question):
        return None
    outcome = await with_drafts(session, report, state, lambda drafted: report.engine.step(drafted, turn))
    await _save(session, report, submission, conversation, outcome)
    if outcome.submit:
        given, none_count, total = report.engine.counts(outcome.state)
        await notify_submitted(session, submission, report.unit, report.campaign,
                               given, none_count, total, notify_chats)
        await drop_unit_reminders(session, report.campaign.id, report.unit.id, "submitted")
    return outcome


async def remember_asked(session: AsyncSession, identity: Identity, outcome: Outcome) -> None:
    """The question this outcome shows in the identity's chat: what its next answer answers."""
    shown = outcome.question_shown
    if shown is not None and shown.question.name != identity.asked_question:
        await write_through(session, identity, asked_question=shown.question.name)


async def resume(session: AsyncSession, report: Report) -> Outcome:
    submission = await submission_for(session, report.campaign, report.unit.id)
    state, conversation = await load_state(session, report, submission)
    outcome = await with_drafts(session, report, state, report.engine.resume)
    await _save(session, report, submission, conversation, outcome)
    return outcome


async def submission_parts(
    session: AsyncSession, submission_id: int
) -> tuple[Submission, Unit, Campaign] | None:
    """A submission with its unit and campaign, or None when any of them is missing."""
    submission = await session.get(Submission, submission_id)
    if submission is None:
        return None
    unit = await session.get(Unit, submission.unit_id)
    campaign = await session.get(Campaign, submission.campaign_id)
    if unit is None or campaign is None:
        return None
    return submission, unit, campaign


async def submission_review(session: AsyncSession, submission_id: int) -> tuple[str, ReviewView] | None:
    """A unit's report as the VP office reads it: a heading and every answer."""
    parts = await submission_parts(session, submission_id)
    if parts is None:
        return None
    submission, unit, campaign = parts
    engine = await outline_of(session, campaign, unit)
    answers = await load_answers(session, submission, engine.outline)
    state = State(answers=answers, unit_level=engine_level(unit))
    return f"{unit.name} ({unit.code}) — {campaign.title}", engine.review(state)
