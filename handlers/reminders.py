"""Reminders and the VP office's digest: planned from the database into the outbox (no timers),
worded when they go out so they say where the unit really is."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.schedule import (
    DeadlineKind,
    ReminderDay,
    ReminderSettings,
    UnitDates,
    latest_due,
    reminder_days,
    send_at,
    unit_deadline,
)
from deadlines.workdays import VN_TZ, WorkingCalendar, next_send_time
from engine.views import State
from handlers.due import due_text
from handlers.outline_versions import outline_of
from handlers.overview import Progress, campaign_overview
from handlers.report import engine_level
from locales.translation import translator
from storage.models import (
    HANDED_IN,
    Campaign,
    CampaignUnit,
    Identity,
    Officer,
    OutboxMessage,
    Role,
    Submission,
    SubmissionStatus,
    Unit,
    UnitLevel,
)
from storage.outbox import REMINDER, OutboxStatus, Outgoing
from storage.reports import load_answers
from storage.upsert import insert_ignoring_duplicates

DIGEST = "digest"
PLAN_SLICE = 1000  # outbox rows (or keys) per statement


@dataclass(frozen=True)
class Member:
    unit: Unit
    deadline: date


async def campaign_members(session: AsyncSession, campaign: Campaign, calendar: WorkingCalendar
                           ) -> list[Member]:
    """The units reporting in the campaign with their own deadlines. A fixed-date campaign
    takes every reporting unit, or the ones it was opened for; the others, the units whose
    visit or conclusion is recorded."""
    units = {u.id: u for u in await session.scalars(select(Unit).where(Unit.level != UnitLevel.PROVINCE))}
    dated = {cu.unit_id: cu for cu in await session.scalars(
        select(CampaignUnit).where(CampaignUnit.campaign_id == campaign.id))}
    members = []
    for unit_id, unit in units.items():
        # A fixed-date campaign's rows, if any, are the units it was opened for.
        if (campaign.deadline_kind != DeadlineKind.FIXED_DATE or dated) and unit_id not in dated:
            continue
        record = dated.get(unit_id)
        dates = UnitDates(campaign.deadline, record.visit_date if record else None,
                          record.conclusion_date if record else None)
        deadline = unit_deadline(campaign.deadline_kind, dates, calendar)
        if deadline is not None:
            members.append(Member(unit, deadline))
    return members


async def _submitted_units(session: AsyncSession, campaign: Campaign) -> set[int]:
    return set(await session.scalars(select(Submission.unit_id).where(
        Submission.campaign_id == campaign.id, Submission.status.in_(HANDED_IN))))


async def _recipients(session: AsyncSession) -> tuple[dict[int, list[Identity]], list[Identity]]:
    """Officers' chat identities by unit, and the VP office's."""
    by_unit: dict[int, list[Identity]] = {}
    admins: list[Identity] = []
    rows = await session.execute(select(Identity, Officer).join(Officer, Officer.id == Identity.officer_id)
                                 .where(Identity.chat_id.is_not(None)))
    for row in rows:
        identity, officer = row[0], row[1]
        if officer.role == Role.ADMIN:
            admins.append(identity)
        elif officer.unit_id is not None:
            by_unit.setdefault(officer.unit_id, []).append(identity)
    return by_unit, admins


def reminder_key(campaign_id: int, unit_id: int, identity_id: int, deadline: date, day: date) -> str:
    """One reminder of one schedule: a unit whose deadline moves (visit or conclusion date) gets a
    new schedule, which a day's key from the old one must not block."""
    return f"{REMINDER}:{campaign_id}:{unit_id}:{identity_id}:{deadline.isoformat()}:{day.isoformat()}"


def digest_key(campaign_id: int, identity_id: int, day: date) -> str:
    return f"{DIGEST}:{campaign_id}:{identity_id}:{day.isoformat()}"


@dataclass
class Plan:
    queued: int = 0
    dropped: int = 0


async def plan(session: AsyncSession, now: datetime, calendar: WorkingCalendar) -> Plan:
    """Queue the reminders and digests whose day has come. Only the newest due one per
    recipient goes out: one missed while the bot was down is recorded as dropped instead."""
    result = Plan()
    by_unit, admins = await _recipients(session)
    for campaign in await session.scalars(select(Campaign).where(Campaign.closed_at.is_(None))):
        settings = ReminderSettings.from_json(campaign.settings)
        submitted = await _submitted_units(session, campaign)
        existing = {key: status for key, status in await session.execute(
            select(OutboxMessage.key, OutboxMessage.status).where(
                OutboxMessage.key.like(f"{REMINDER}:{campaign.id}:%")
                | OutboxMessage.key.like(f"{DIGEST}:{campaign.id}:%")))}
        rows: list[dict[str, Any]] = []
        stale: list[str] = []
        digest_days: set[date] = set()
        schedules: dict[date, tuple[list[ReminderDay], int | None]] = {}  # most units share a deadline
        for member in await campaign_members(session, campaign, calendar):
            if member.deadline not in schedules:
                days = reminder_days(member.deadline, settings, calendar)
                schedules[member.deadline] = days, latest_due(days, now, settings)
            days, newest = schedules[member.deadline]
            if newest is None:
                continue
            if campaign.deadline_kind == DeadlineKind.FIXED_DATE:
                digest_days.update(d.day for d in days[: newest + 1] if d.offset >= -settings.digest_within)
            if member.unit.id in submitted:
                continue
            for identity in by_unit.get(member.unit.id, []):
                for index, reminder in enumerate(days[: newest + 1]):
                    key = reminder_key(campaign.id, member.unit.id, identity.id, member.deadline,
                                       reminder.day)
                    latest = index == newest
                    if not latest and existing.get(key) == OutboxStatus.PENDING:
                        stale.append(key)
                    if key in existing:
                        continue
                    payload = {"kind": REMINDER, "campaign": campaign.id, "unit": member.unit.id,
                               "officer": identity.officer_id, "deadline": member.deadline.isoformat(),
                               "day": reminder.day.isoformat()}
                    rows.append(_row(key, identity, REMINDER, payload,
                                     send_at(reminder.day, now, settings, calendar), now,
                                     OutboxStatus.PENDING if latest else OutboxStatus.DROPPED))
        for day in sorted(digest_days):
            for identity in admins:
                key = digest_key(campaign.id, identity.id, day)
                if day != max(digest_days):
                    if existing.get(key) == OutboxStatus.PENDING:
                        stale.append(key)  # one waiting since last night: today's replaces it
                elif key not in existing:
                    payload = {"kind": DIGEST, "campaign": campaign.id, "officer": identity.officer_id,
                               "day": day.isoformat()}
                    rows.append(_row(key, identity, DIGEST, payload, send_at(day, now, settings, calendar),
                                     now, OutboxStatus.PENDING))
        result.queued += sum(1 for r in rows if r["status"] == OutboxStatus.PENDING)
        result.dropped += sum(1 for r in rows if r["status"] == OutboxStatus.DROPPED)
        # In slices: PostgreSQL takes at most 32,767 parameters a statement (3,640 rows here).
        for start in range(0, len(rows), PLAN_SLICE):
            await insert_ignoring_duplicates(session, OutboxMessage, rows[start:start + PLAN_SLICE],
                                             unique=("key",))
        for start in range(0, len(stale), PLAN_SLICE):
            # Older reminders still waiting (the bot was down): the newest one replaces them.
            await session.execute(update(OutboxMessage).where(
                OutboxMessage.key.in_(stale[start:start + PLAN_SLICE]),
                OutboxMessage.status == OutboxStatus.PENDING,
            ).values(status=OutboxStatus.DROPPED, last_error="superseded by a newer reminder"))
    return result


def _row(key: str, identity: Identity, kind: str, payload: dict[str, Any], due_at: datetime,
         now: datetime, status: str) -> dict[str, Any]:
    # In UTC, like every stored time: SQLite drops the zone and compares wall clocks.
    return {"key": key, "channel": identity.channel, "chat_id": identity.chat_id or "", "kind": kind,
            "payload": json.dumps(payload), "status": status, "attempts": 0,
            "due_at": due_at.astimezone(UTC), "created_at": now.astimezone(UTC)}


async def remind_now(session: AsyncSession, campaign: Campaign, unit_ids: set[int], now: datetime,
                     calendar: WorkingCalendar) -> int:
    """Today's reminder to these units' officers, queued at once (the VP office's "send now").
    Keyed as the planner keys today's reminder, so no officer gets two today; worded as it goes,
    so a unit that submits meanwhile gets none. The number queued."""
    by_unit, _admins = await _recipients(session)
    deadlines = {m.unit.id: m.deadline for m in await campaign_members(session, campaign, calendar)
                 if m.unit.id in unit_ids}
    today = now.astimezone(VN_TZ).date()
    rows = [_row(reminder_key(campaign.id, unit_id, identity.id, deadline, today), identity, REMINDER,
                 {"kind": REMINDER, "campaign": campaign.id, "unit": unit_id, "officer": identity.officer_id,
                  "deadline": deadline.isoformat(), "day": today.isoformat()}, now, now, OutboxStatus.PENDING)
            for unit_id, deadline in deadlines.items() for identity in by_unit.get(unit_id, [])]
    return await insert_ignoring_duplicates(session, OutboxMessage, rows, unique=("key",))


# ----- wording, at the moment of sending -----------------------------------------------------------

def deadline_phrase(deadline: date, campaign: Campaign, today: date, calendar: WorkingCalendar,
                    locale: str) -> str:
    """The due date as everywhere (handlers.due.due_text), and how many working days are left."""
    t = translator(locale)
    _ = t.gettext
    phrase = due_text(campaign, deadline, t)
    left = calendar.working_days_between(today, deadline)
    if left > 0:
        return phrase + ", " + _("còn {days} ngày làm việc").format(days=left)
    if left == 0:
        return phrase + ", " + _("hôm nay là hạn cuối")
    return phrase + ", " + _("đã quá hạn {days} ngày làm việc").format(days=-left)


async def word_reminder(session: AsyncSession, payload: dict[str, Any], now: datetime,
                        calendar: WorkingCalendar) -> Outgoing | None:
    """The reminder as it reads now, or None when it is no longer wanted (the unit submitted)."""
    campaign = await session.get(Campaign, payload["campaign"])
    unit = await session.get(Unit, payload["unit"])
    officer = await session.get(Officer, payload["officer"])
    if campaign is None or unit is None or officer is None or officer.unit_id != unit.id:
        return None
    submission = await session.scalar(select(Submission).where(
        Submission.campaign_id == campaign.id, Submission.unit_id == unit.id))
    if submission is not None and SubmissionStatus(submission.status).handed_in:
        return None
    engine = await outline_of(session, campaign, unit)
    answers = await load_answers(session, submission, engine.outline) if submission else {}
    given, _none, total = engine.counts(State(answers=answers, unit_level=engine_level(unit)))
    t = translator(officer.locale)
    deadline = date.fromisoformat(payload["deadline"])
    text = t.gettext("⏰ Nhắc báo cáo “{campaign}” của {unit}: hạn nộp {deadline}. Đơn vị đã trả lời "
                     "{given}/{total} câu.").format(
        campaign=campaign.title, unit=unit.name,
        deadline=deadline_phrase(deadline, campaign, now.astimezone(VN_TZ).date(), calendar, officer.locale),
        given=given, total=total)
    return Outgoing(text, [[{"text": t.gettext("Tiếp tục báo cáo"), "data": "a:continue:",
                             "word": t.gettext("tiếp")}]])


async def word_digest(session: AsyncSession, payload: dict[str, Any], now: datetime,
                      calendar: WorkingCalendar) -> Outgoing | None:
    campaign = await session.get(Campaign, payload["campaign"])
    officer = await session.get(Officer, payload["officer"])
    if campaign is None or officer is None:
        return None
    overview = await campaign_overview(session, campaign)
    t = translator(officer.locale)
    deadline = calendar.last_working_day_on_or_before(campaign.deadline)
    at_risk = [item.unit.name for item in overview.at_risk]
    shown = ", ".join(at_risk[:30]) + (t.gettext(" và {more} đơn vị khác").format(more=len(at_risk) - 30)
                                       if len(at_risk) > 30 else "")
    text = t.gettext("📊 Tổng hợp “{campaign}”, hạn nộp {deadline}: {submitted} đã nộp, {in_progress} đang "
                     "thực hiện, {not_started} chưa bắt đầu. Đơn vị có nguy cơ trễ hạn: {units}.").format(
        campaign=campaign.title,
        deadline=deadline_phrase(deadline, campaign, now.astimezone(VN_TZ).date(), calendar, officer.locale),
        submitted=overview.handed_in, in_progress=overview.at_work,
        not_started=overview.count(Progress.NOT_STARTED), units=shown or t.gettext("không có"))
    return Outgoing(text, attachments=[{"kind": "chart", "campaign": campaign.id}])


WORDERS = {REMINDER: word_reminder, DIGEST: word_digest}


async def word(session: AsyncSession, kind: str, payload_text: str, now: datetime,
               calendar: WorkingCalendar) -> Outgoing | datetime | None:
    """The message an outbox row stands for, now: reminders and digests are worded as they go
    (None: no longer wanted; a time: not now, outside office hours); others were worded when
    queued."""
    worder = WORDERS.get(kind)
    if worder is None:
        return Outgoing.from_json(payload_text)
    payload = json.loads(payload_text)
    campaign = await session.get(Campaign, payload["campaign"])
    if campaign is not None:
        hours = ReminderSettings.from_json(campaign.settings).office_hours
        opening = next_send_time(now, calendar, hours)
        if opening > now:
            return opening
    return await worder(session, payload, now, calendar)
