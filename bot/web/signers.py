"""Who signs and who receives (`/signers`): a unit's signer, the VP office's signer and a
campaign's "Nơi nhận", set through storage.signers as `kstthc-bot units signer` and
`kstthc-bot campaign recipients` set them, so the next .docx prints them. Lists are typed one
entry a line; everything left empty goes back to the default."""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy import select

from bot.web.board import chosen_campaign
from bot.web.keys import db_session
from bot.web.render import page, redirect, request_translator
from documents.model import ReportDocumentInfo
from engine.i18n import N_
from engine.text import vietnamese_order
from handlers.documents import SUMMARY_RECIPIENTS
from storage.models import Campaign, Unit
from storage.signers import (
    campaign_recipients,
    lines_of,
    office_signer,
    set_campaign_recipients,
    set_office_signer,
    set_unit_signer,
    unit_signer,
)
from storage.units import unit_by_code

routes = web.RouteTableDef()
NOTICES = {"office": N_("Đã lưu người ký của Văn phòng UBND thành phố."),
           "unit": N_("Đã lưu người ký của đơn vị."),
           "recipients": N_("Đã lưu nơi nhận của đợt báo cáo.")}


@routes.get("/signers")
async def signers_page(request: web.Request) -> web.Response:
    session = db_session(request)
    t = request_translator(request)
    units = sorted(await session.scalars(select(Unit)),
                   key=lambda unit: (unit.level, vietnamese_order(unit.name)))
    chosen = await unit_by_code(session, request.query.get("unit", "")) if request.query.get("unit") else None
    campaign = await chosen_campaign(request)
    notice = request.query.get("notice", "")
    return page(request, "signers.html", office=await office_signer(session), units=units, unit=chosen,
                unit_signer=unit_signer(chosen) if chosen else None, campaign=campaign,
                campaigns=list(await session.scalars(select(Campaign).order_by(Campaign.deadline.desc(),
                                                                               Campaign.id.desc()))),
                reports=campaign_recipients(campaign) if campaign else (),
                summary=campaign_recipients(campaign, summary=True) if campaign else (),
                default_reports=ReportDocumentInfo.recipients, default_summary=SUMMARY_RECIPIENTS,
                notice=t.gettext(NOTICES[notice]) if notice in NOTICES else "")


def _text(form: MultiDictProxy[str | bytes | bytearray | web.FileField], key: str) -> str:
    return str(form.get(key, ""))


@routes.post("/signers/office")
async def save_office(request: web.Request) -> web.Response:
    form = await request.post()
    await set_office_signer(db_session(request), lines_of(_text(form, "title")), _text(form, "name"))
    return redirect("/signers?notice=office")


@routes.post("/signers/unit")
async def save_unit(request: web.Request) -> web.Response:
    form = await request.post()
    unit = await unit_by_code(db_session(request), _text(form, "unit"))
    if unit is None:
        raise web.HTTPNotFound()
    set_unit_signer(unit, lines_of(_text(form, "title")), _text(form, "name"))
    return redirect(f"/signers?unit={unit.code}&notice=unit")


@routes.post(r"/campaigns/{campaign:\d+}/recipients")
async def save_recipients(request: web.Request) -> web.Response:
    campaign = await db_session(request).get(Campaign, int(request.match_info["campaign"]))
    if campaign is None:
        raise web.HTTPNotFound()
    form = await request.post()
    set_campaign_recipients(campaign, lines_of(_text(form, "reports")))
    set_campaign_recipients(campaign, lines_of(_text(form, "summary")), summary=True)
    return redirect(f"/signers?campaign={campaign.id}&notice=recipients")
