"""Campaigns: open one (kind, period, due date) after a preview of its due date and reminder
days in Vietnamese working days, through handlers.campaigns as /taodot does; record a unit's
visit or conclusion date as /lichkiemtra and /ketluan do; close one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import select

from bot.config import Settings
from bot.web.keys import actor, db_session, settings_of
from bot.web.render import page, redirect, request_translator
from deadlines.periods import Period, PeriodError, default_period
from deadlines.schedule import DeadlineKind, ReminderSettings, reminder_days
from engine.i18n import N_
from engine.text import vietnamese_order
from handlers.admin_commands import AdminContext, run_admin_command
from handlers.campaigns import CampaignProblem, campaign_by_code, create_campaign, outline_for
from handlers.due import campaign_due_text, campaign_period_text, weekday
from locales.translation import Translator
from storage.models import Campaign, Unit, UnitLevel, utcnow

routes = web.RouteTableDef()
KIND_WORDS = {DeadlineKind.FIXED_DATE: N_("cố định: trước một ngày (tự kiểm tra)"),
              DeadlineKind.BEFORE_VISIT: N_("trước ngày đoàn kiểm tra làm việc (5 ngày làm việc)"),
              DeadlineKind.AFTER_CONCLUSION: N_("sau kết luận kiểm tra (30 ngày làm việc)")}
# The chat command that records a unit's date in a campaign of each dated kind.
DATED = {DeadlineKind.BEFORE_VISIT: "lichkiemtra", DeadlineKind.AFTER_CONCLUSION: "ketluan"}
NOTICES = {"created": N_("Đã tạo đợt báo cáo."), "closed": N_("Đã đóng đợt báo cáo.")}
PROBLEMS = {
    "fields": N_("Vui lòng ghi mã đợt, tên đợt và hạn nộp."),
    "exists": N_("Đã có đợt báo cáo mã {code}."),
    "period": N_("Kỳ báo cáo {period} không hợp lệ: ngày bắt đầu phải trước ngày kết thúc."),
    "late": N_("Kỳ báo cáo phải bắt đầu trước hạn nộp {due}."),
    "day": N_("Vui lòng chọn ngày."),
}


@dataclass(frozen=True)
class Draft:
    code: str
    title: str
    kind: str
    due: date | None
    start: date | None
    end: date | None
    units: frozenset[str] = frozenset()  # a fixed-date campaign's chosen units; none: every unit


def _date(text: object) -> date | None:
    try:
        return date.fromisoformat(str(text or ""))
    except ValueError:
        return None


def _draft(form: MultiDictProxy[str | bytes | bytearray | web.FileField]) -> Draft:
    kind = str(form.get("kind", DeadlineKind.FIXED_DATE))
    kind = kind if kind in set(DeadlineKind) else DeadlineKind.FIXED_DATE
    units = frozenset(str(code) for code in form.getall("units", [])) if kind == DeadlineKind.FIXED_DATE \
        else frozenset()
    return Draft(str(form.get("code", "")).strip(), str(form.get("title", "")).strip(), kind,
                 _date(form.get("due")), _date(form.get("start")), _date(form.get("end")), units)


async def _listing(request: web.Request, **extra: object) -> web.Response:
    t = request_translator(request)
    settings = settings_of(request)
    session = db_session(request)
    campaigns = list(await session.scalars(
        select(Campaign).order_by(Campaign.deadline.desc(), Campaign.id.desc())))
    calendar = settings.working_calendar()
    rows = [(c, campaign_due_text(c, calendar, t), campaign_period_text(c, t)) for c in campaigns]
    units = sorted(await session.scalars(select(Unit).where(Unit.level != UnitLevel.PROVINCE)),
                   key=lambda unit: (unit.level, vietnamese_order(unit.name)))
    context: dict[str, Any] = {
        "rows": rows, "kinds": [(k.value, t.gettext(w)) for k, w in KIND_WORDS.items()],
        "units": units, "draft": None, "preview": None, "problem": "", "notice": ""}
    context.update(extra)
    return page(request, "campaigns.html", **context)


@routes.get("/campaigns")
async def campaigns_page(request: web.Request) -> web.Response:
    t = request_translator(request)
    notice = request.query.get("notice", "")
    return await _listing(request, notice=t.gettext(NOTICES[notice]) if notice in NOTICES else "")


@routes.post("/campaigns")
async def open_campaign(request: web.Request) -> web.Response:
    """First a preview (what the officers will be told, the days reminders go out), then save."""
    t = request_translator(request)
    settings = settings_of(request)
    session = db_session(request)
    form = await request.post()
    draft = _draft(form)
    if not (draft.code and draft.title) or draft.due is None:
        return await _listing(request, draft=draft, problem=t.gettext(PROBLEMS["fields"]))
    try:
        period = Period(draft.start, draft.end) if draft.start and draft.end else default_period(draft.due)
    except PeriodError:
        return await _listing(request, draft=draft, problem=t.gettext(PROBLEMS["period"]).format(
            period=f"{draft.start:%d/%m/%Y}–{draft.end:%d/%m/%Y}"))
    if await campaign_by_code(session, draft.code) is not None:
        return await _listing(request, draft=draft,
                              problem=t.gettext(PROBLEMS["exists"]).format(code=draft.code))
    if form.get("action") != "save":
        return await _listing(request, draft=draft, preview=_preview(draft, draft.due, period, settings, t))
    chosen = list(await session.scalars(select(Unit).where(Unit.code.in_(draft.units))))
    try:
        await create_campaign(session, draft.code, draft.title, draft.kind, draft.due,
                              outline_for(draft.kind, settings.outline_file), period=period, units=chosen)
    except CampaignProblem:
        return await _listing(request, draft=draft, problem=t.gettext(PROBLEMS["late"]).format(
            due=f"{draft.due:%d/%m/%Y}"))
    return redirect("/campaigns?notice=created")


def _preview(draft: Draft, due: date, period: Period, settings: Settings, t: Translator) -> dict[str, object]:
    calendar = settings.working_calendar()
    probe = Campaign(code=draft.code, title=draft.title, deadline=due, deadline_kind=draft.kind,
                     period_start=period.start, period_end=period.end)
    days = []
    if draft.kind == DeadlineKind.FIXED_DATE:
        real = calendar.last_working_day_on_or_before(due)
        days = [(f"{weekday(r.day, t)}, {r.day:%d/%m/%Y}", r.offset)
                for r in reminder_days(real, ReminderSettings(), calendar)]
    units = (t.gettext("{count} đơn vị được chọn").format(count=len(draft.units)) if draft.units
             else t.gettext("mọi đơn vị"))
    return {"due": campaign_due_text(probe, calendar, t), "period": campaign_period_text(probe, t),
            "days": days, "units": units}


@routes.post(r"/campaigns/{campaign:\d+}/dates")
async def unit_dates(request: web.Request) -> web.Response:
    """A unit joins a visit or conclusion campaign with its date: the chat's /lichkiemtra and
    /ketluan themselves (the notice rule, the earliest lawful date, the same words)."""
    settings = settings_of(request)
    session = db_session(request)
    campaign = await session.get(Campaign, int(request.match_info["campaign"]))
    form = await request.post()
    when = _date(form.get("day"))
    if campaign is None or campaign.deadline_kind not in DATED:
        raise web.HTTPNotFound()
    t = request_translator(request)
    if when is None:
        return await _listing(request, problem=t.gettext(PROBLEMS["day"]))
    words = [campaign.code, str(form.get("unit", "")), f"{when:%d/%m/%Y}"]
    if form.get("unscheduled"):
        words.append("dotxuat")
    context = AdminContext(session, t, settings.working_calendar(), settings.today(), settings.outline_file,
                           actor(request), settings.web_base_url)
    (said,) = await run_admin_command(context, DATED[DeadlineKind(campaign.deadline_kind)], " ".join(words))
    refused = said.startswith("⚠️")
    said = said.removeprefix("⚠️").strip()
    return await _listing(request, problem=said if refused else "", notice="" if refused else said)


@routes.post(r"/campaigns/{campaign:\d+}/close")
async def close_campaign(request: web.Request) -> web.Response:
    """No more reminders, no longer on the board or in /tiendo; its reports and exports stay."""
    campaign = await db_session(request).get(Campaign, int(request.match_info["campaign"]))
    if campaign is not None and campaign.closed_at is None:
        campaign.closed_at = utcnow()
    return redirect("/campaigns?notice=closed")
