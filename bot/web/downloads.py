"""Downloads, made from the database by the same functions the chats and the CLI use: a unit's
.docx, the city summary .docx, the workbook .xlsx, the chart PNG, and every handed-in report
in one zip."""

from __future__ import annotations

import io
import zipfile

from aiohttp import web
from sqlalchemy import select

from bot.web.keys import OFFICER, db_session, settings_of
from bot.web.render import SECURITY_HEADERS, download
from handlers.documents import campaign_exports, progress_charts, report_of, unit_report_docx
from storage.models import HANDED_IN, Campaign, Submission

routes = web.RouteTableDef()
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def _campaign(request: web.Request) -> Campaign:
    campaign = await db_session(request).get(Campaign, int(request.match_info["campaign"]))
    if campaign is None:
        raise web.HTTPNotFound()
    return campaign


@routes.get(r"/campaigns/{campaign:\d+}/units/{unit:\d+}/report.docx")
async def unit_docx(request: web.Request) -> web.Response:
    session = db_session(request)
    settings = settings_of(request)
    submission_id = await report_of(session, int(request.match_info["campaign"]),
                                    int(request.match_info["unit"]))
    document = None if submission_id is None else await unit_report_docx(
        session, submission_id, settings.working_calendar(), settings.today(), request[OFFICER].locale)
    if document is None:
        raise web.HTTPNotFound()
    return download(document.filename, document.content, DOCX)


async def _export(request: web.Request, suffix: str, content_type: str) -> web.Response:
    settings = settings_of(request)
    documents = await campaign_exports(db_session(request), await _campaign(request),
                                       settings.working_calendar(), settings.today())
    (document,) = [d for d in documents if d.filename.endswith(suffix)]
    return download(document.filename, document.content, content_type)


@routes.get(r"/campaigns/{campaign:\d+}/summary.docx")
async def summary_docx(request: web.Request) -> web.Response:
    return await _export(request, ".docx", DOCX)


@routes.get(r"/campaigns/{campaign:\d+}/workbook.xlsx")
async def workbook(request: web.Request) -> web.Response:
    return await _export(request, ".xlsx", XLSX)


@routes.get(r"/campaigns/{campaign:\d+}/chart-{index:\d+}.png")
async def chart(request: web.Request) -> web.Response:
    settings = settings_of(request)
    campaign = await _campaign(request)
    charts = await progress_charts(db_session(request), campaign, settings.working_calendar(),
                                   settings.today())
    index = int(request.match_info["index"])
    if not 1 <= index <= len(charts):
        raise web.HTTPNotFound()
    png = charts[index - 1][1]
    if request.query.get("inline"):
        return web.Response(body=png, content_type="image/png", headers=SECURITY_HEADERS)
    return download(f"tien-do-{campaign.code}-{index}.png", png, "image/png")


@routes.get(r"/campaigns/{campaign:\d+}/submitted.zip")
async def submitted_zip(request: web.Request) -> web.Response:
    session = db_session(request)
    settings = settings_of(request)
    campaign = await _campaign(request)
    calendar, today = settings.working_calendar(), settings.today()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for submission_id in await session.scalars(select(Submission.id).where(
                Submission.campaign_id == campaign.id, Submission.status.in_(HANDED_IN))
                .order_by(Submission.id)):
            document = await unit_report_docx(session, submission_id, calendar, today)
            if document is not None:
                archive.writestr(document.filename, document.content)
    return download(f"bao-cao-da-nop-{campaign.code}.zip", buffer.getvalue(), "application/zip")
