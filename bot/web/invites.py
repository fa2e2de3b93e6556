"""Invites: codes for many units at once (storage.officers.create_invite, as `kstthc-bot invite`),
printed on an A4 sheet with each unit's t.me link and QR code and the Zalo way; revoking one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import segno
from aiohttp import web
from markupsafe import Markup
from sqlalchemy import select

from bot.web.board import LEVEL_WORDS
from bot.web.keys import db_session, settings_of
from bot.web.render import page, redirect, request_translator
from engine.i18n import N_
from engine.text import vietnamese_order
from handlers.registration import ZALO_HOW_TO, telegram_start_link
from storage.invite_list import revoke_invite, waiting_invites
from storage.models import Role, Unit, UnitLevel, utcnow
from storage.officers import create_invite

routes = web.RouteTableDef()
MAX_DAYS = 90
NOTICES = {"revoked": N_("Đã thu hồi mã mời."), "none": N_("Vui lòng chọn ít nhất một đơn vị."),
           "gone": N_("Mã mời này đã được sử dụng hoặc đã hết hạn.")}


@dataclass(frozen=True)
class Slip:
    unit: Unit
    code: str
    link: str | None
    qr: Markup | None
    zalo: str


async def _units(request: web.Request) -> list[Unit]:
    units = await db_session(request).scalars(select(Unit).where(Unit.level != UnitLevel.PROVINCE))
    return sorted(units, key=lambda unit: (unit.level, vietnamese_order(unit.name)))


@routes.get("/invites")
async def invites_page(request: web.Request) -> web.Response:
    t = request_translator(request)
    notice = request.query.get("notice", "")
    notice = t.gettext(NOTICES[notice]) if notice in NOTICES else ""
    units = await _units(request)
    return page(request, "invites.html", units=units, waiting=await waiting_invites(db_session(request)),
                notice=notice, levels=[(lv.value, t.gettext(word)) for lv, word in LEVEL_WORDS.items()
                                       if any(u.level == lv for u in units)],
                level_words={lv.value: t.gettext(word) for lv, word in LEVEL_WORDS.items()})


@routes.post("/invites")
async def create_invites(request: web.Request) -> web.Response:
    """The codes exist only here, once (the database keeps their hashes): the sheet is the answer."""
    form = await request.post()
    wanted = {int(str(value)) for value in form.getall("unit", []) if str(value).isdigit()}
    level = str(form.get("level", ""))
    days_text = str(form.get("days", "14"))
    days = min(MAX_DAYS, max(1, int(days_text))) if days_text.isdigit() else 14
    chosen = [u for u in await _units(request) if u.id in wanted or (level and u.level == level)]
    if not chosen:
        return redirect("/invites?notice=none")
    t = request_translator(request)
    username = settings_of(request).telegram_bot_username
    session = db_session(request)
    slips = []
    for unit in chosen:
        code, _invite = await create_invite(session, unit, Role.OFFICER, timedelta(days=days))
        link = telegram_start_link(username, code) if username else None
        qr = Markup(segno.make(link, error="m").svg_inline(scale=3, border=2)) if link else None
        slips.append(Slip(unit, code, link, qr, t.gettext(ZALO_HOW_TO).format(code=code)))
    return page(request, "invite_sheet.html", slips=slips, until=utcnow() + timedelta(days=days),
                username=username)


@routes.post(r"/invites/{invite:\d+}/revoke")
async def revoke(request: web.Request) -> web.Response:
    revoked = await revoke_invite(db_session(request), int(request.match_info["invite"]))
    return redirect("/invites?notice=" + ("revoked" if revoked else "gone"))
