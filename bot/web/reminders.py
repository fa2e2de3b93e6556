"""Reminders and notices: what went out, to whom, when, what failed (the outbox); and a
reminder now to the units at risk, through handlers.reminders as the planner queues them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlalchemy import and_, select

from bot.web.board import chosen_campaign
from bot.web.keys import db_session, settings_of
from bot.web.render import page, redirect, request_translator
from engine.i18n import N_
from handlers.board import campaign_board
from handlers.reminders import remind_now
from storage.models import Campaign, Identity, Officer, OutboxMessage, Unit, as_utc

routes = web.RouteTableDef()
SHOWN = 200
KIND_WORDS = {"reminder": N_("nhắc hạn"), "digest": N_("tổng hợp hằng ngày"), "submitted": N_("báo nộp"),
              "return": N_("trả lại"), "accept": N_("tiếp nhận")}
STATUS_WORDS = {"pending": N_("chờ gửi"), "sending": N_("đang gửi"), "sent": N_("đã gửi"),
                "failed": N_("gửi không được"), "unknown": N_("chưa rõ đã gửi chưa"),
                "dropped": N_("bỏ qua")}
NOTICES = {"queued": N_("Đã xếp {count} tin nhắc vào hàng gửi.")}


@dataclass(frozen=True)
class Sent:
    kind: str
    channel: str
    who: str
    status: str
    attempts: int
    due_at: datetime | None
    sent_at: datetime | None
    error: str


@routes.get("/reminders")
async def reminders_page(request: web.Request) -> web.Response:
    session = db_session(request)
    settings = settings_of(request)
    t = request_translator(request)
    rows = await session.execute(
        select(OutboxMessage, Officer.name, Unit.name)
        .outerjoin(Identity, and_(Identity.channel == OutboxMessage.channel,
                                  Identity.chat_id == OutboxMessage.chat_id))
        .outerjoin(Officer, Officer.id == Identity.officer_id)
        .outerjoin(Unit, Unit.id == Officer.unit_id)
        .order_by(OutboxMessage.id.desc()).limit(SHOWN))
    sent = [Sent(message.kind, message.channel, " · ".join(n for n in (unit, officer) if n) or "—",
                 message.status, message.attempts, as_utc(message.due_at), as_utc(message.sent_at),
                 (message.last_error or "")[:120])
            for message, officer, unit in rows]
    campaign = await chosen_campaign(request)
    at_risk = 0 if campaign is None else sum(
        1 for row in await campaign_board(session, campaign, settings.working_calendar(), settings.today())
        if row.at_risk)
    notice = t.gettext(NOTICES["queued"]).format(count=request.query["queued"]) \
        if request.query.get("queued", "").isdigit() else ""
    return page(request, "reminders.html", rows=sent, campaign=campaign, at_risk=at_risk, notice=notice,
                kind_words={k: t.gettext(w) for k, w in KIND_WORDS.items()},
                status_words={k: t.gettext(w) for k, w in STATUS_WORDS.items()})


@routes.post("/reminders/now")
async def send_now(request: web.Request) -> web.Response:
    session = db_session(request)
    settings = settings_of(request)
    wanted = str((await request.post()).get("campaign", ""))
    campaign = await session.get(Campaign, int(wanted)) if wanted.isdigit() else None
    if campaign is None:
        raise web.HTTPNotFound()
    calendar = settings.working_calendar()
    risky = {row.unit.id for row in await campaign_board(session, campaign, calendar, settings.today())
             if row.at_risk}
    queued = await remind_now(session, campaign, risky, settings.clock()(), calendar)
    return redirect(f"/reminders?campaign={campaign.id}&queued={queued}")
