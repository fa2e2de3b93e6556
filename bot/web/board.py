"""The campaign board: every unit's state, filtered by state and level, searched by name."""

from __future__ import annotations

from aiohttp import web

from bot.web.keys import db_session, settings_of
from bot.web.render import page, request_translator
from engine.i18n import N_
from handlers.admin_commands import PROGRESS_WORDS
from handlers.board import campaign_board
from handlers.due import campaign_due_text, campaign_period_text
from handlers.overview import Progress
from storage.campaigns import open_campaigns
from storage.models import Campaign, UnitLevel

routes = web.RouteTableDef()
LEVEL_WORDS = {UnitLevel.DEPARTMENT: N_("Sở, ban, ngành"), UnitLevel.DISTRICT: N_("Quận, huyện"),
               UnitLevel.COMMUNE: N_("Xã, phường, thị trấn")}


async def chosen_campaign(request: web.Request) -> Campaign | None:
    """The campaign asked for (?campaign=ID), else the open one due last."""
    wanted = request.query.get("campaign", "")
    session = db_session(request)
    if wanted.isdigit():
        return await session.get(Campaign, int(wanted))
    campaigns = await open_campaigns(session)
    return campaigns[0] if campaigns else None


@routes.get("/")
async def board(request: web.Request) -> web.Response:
    session = db_session(request)
    settings = settings_of(request)
    t = request_translator(request)
    campaign = await chosen_campaign(request)
    if campaign is None:
        return page(request, "board.html", campaign=None, campaigns=[], rows=[], counts={},
                    filters={}, levels=[], statuses=[], due="", period="")
    calendar = settings.working_calendar()
    rows = await campaign_board(session, campaign, calendar, settings.today())
    counts = {progress: sum(1 for row in rows if row.progress is progress) for progress in Progress}
    status, level, words = (request.query.get(key, "").strip() for key in ("status", "level", "q"))
    shown = [row for row in rows
             if (not status or row.progress.value == status or (status == "at_risk" and row.at_risk))
             and (not level or row.unit.level == level) and (not words or row.matches(words))]
    return page(
        request, "board.html", campaign=campaign, campaigns=await open_campaigns(session), rows=shown,
        total=len(rows), at_risk=sum(1 for row in rows if row.at_risk), counts=counts,
        filters={"status": status, "level": level, "q": words},
        statuses=[(p.value, t.gettext(PROGRESS_WORDS[p])) for p in Progress],
        levels=[(lv.value, t.gettext(word)) for lv, word in LEVEL_WORDS.items()
                if any(row.unit.level == lv for row in rows)],
        words={p: t.gettext(PROGRESS_WORDS[p]) for p in Progress},
        level_words={lv.value: t.gettext(word) for lv, word in LEVEL_WORDS.items()},
        due=campaign_due_text(campaign, calendar, t), period=campaign_period_text(campaign, t))
