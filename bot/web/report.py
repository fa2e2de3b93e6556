"""A unit's report as the .docx prints it: every answer in outline order with last period's
figure, the engine's warnings, and the history; return (with a reason) or accept, through the
same service as the chat commands, so the unit's officers are told in their chats."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import select

from bot.web.keys import actor, db_session, settings_of
from bot.web.render import download, page, redirect, request_translator
from engine.i18n import N_, Translator
from engine.qtypes import QUESTION_TYPES
from engine.views import ReviewView, State
from handlers.admin_commands import PROGRESS_WORDS
from handlers.attachments import list_attachments, open_attachment
from handlers.documents import report_of
from handlers.outline_versions import outline_of
from handlers.overview import PROGRESS_OF_STATUS, Progress
from handlers.render import render_notices, show_answer
from handlers.report import engine_level
from handlers.review import ReviewResult, review_submission
from storage.files import FileStore
from storage.models import Campaign, HistoryEntry, Officer, Submission, SubmissionStatus, Unit
from storage.previous import previous_answers
from storage.reports import history, load_answers

routes = web.RouteTableDef()
EVENT_WORDS = {"answer": N_("trả lời"), "clear": N_("xóa câu trả lời"), "submit": N_("nộp báo cáo"),
               "resubmit": N_("nộp lại báo cáo"), "return": N_("trả lại để chỉnh sửa"),
               "accept": N_("tiếp nhận")}
NOTICES = {
    "returned": N_("Đã trả lại báo cáo của {unit} để chỉnh sửa; đơn vị đã được thông báo lý do."),
    "accepted": N_("Đã tiếp nhận báo cáo của {unit}; đơn vị đã được thông báo."),
    ReviewResult.NOT_HANDED_IN: N_("{unit} chưa nộp báo cáo nên chưa thể tiếp nhận hoặc trả lại."),
    ReviewResult.ALREADY_ACCEPTED: N_("Báo cáo của {unit} đã được tiếp nhận trước đó."),
    "reason": N_("Vui lòng ghi lý do trả lại (lý do sẽ được gửi cho đơn vị)."),
}


@dataclass(frozen=True)
class Line:
    number: str
    label: str
    shown: str
    previous: str | None
    calculated: bool


def lines_of(view: ReviewView, t: Translator) -> list[tuple[str, list[Line]]]:
    """Each section's items as the report prints them (the chat's own wording of an answer)."""
    sections = []
    for section, items in view.sections:
        lines = []
        for item in items:
            kind = QUESTION_TYPES[item.question.type]
            shown = (show_answer(item.question, item.answer, t) if item.question.asked
                     else kind.show(item.calculated, item.question, t) + " " + t.gettext("(tự tính)"))
            previous = None if item.previous is None else kind.show(item.previous, item.question, t)
            lines.append(Line(item.question.number, item.question.label.get(t.locale), shown, previous,
                              not item.question.asked))
        sections.append((f"{section.number}. {section.title.get(t.locale)}", lines))
    return sections


async def _parts(request: web.Request) -> tuple[Campaign, Unit, Submission | None]:
    session = db_session(request)
    campaign = await session.get(Campaign, int(request.match_info["campaign"]))
    unit = await session.get(Unit, int(request.match_info["unit"]))
    if campaign is None or unit is None:
        raise web.HTTPNotFound()
    submission_id = await report_of(session, campaign.id, unit.id)
    submission = None if submission_id is None else await session.get(Submission, submission_id)
    return campaign, unit, submission


@routes.get(r"/campaigns/{campaign:\d+}/units/{unit:\d+}")
async def report_page(request: web.Request) -> web.Response:
    session = db_session(request)
    t = request_translator(request)
    campaign, unit, submission = await _parts(request)
    notice = request.query.get("notice", "")
    shown_notice = t.gettext(NOTICES[notice]).format(unit=unit.name) if notice in NOTICES else ""
    if submission is None:
        return page(request, "report.html", campaign=campaign, unit=unit, submission=None, sections=[],
                    warnings=[], events=[], attachments=[],
                    state=t.gettext(PROGRESS_WORDS[Progress.NOT_STARTED]),
                    notice=shown_notice, handed_in=False)
    engine = await outline_of(session, campaign, unit)  # the campaign's own outline version
    answers = await load_answers(session, submission, engine.outline)
    status = SubmissionStatus(submission.status)
    view = engine.review(State(answers=answers, unit_level=engine_level(unit), submitted=status.handed_in,
                               previous=await previous_answers(session, campaign, unit.id, engine.outline)))
    entries = await history(session, submission)
    names = dict((await session.execute(select(Officer.id, Officer.name).where(
        Officer.id.in_({entry.officer_id for entry in entries})))).all())
    progress = PROGRESS_OF_STATUS.get(status, Progress.IN_PROGRESS if answers else Progress.NOT_STARTED)
    return page(request, "report.html", campaign=campaign, unit=unit, submission=submission,
                sections=lines_of(view, t), warnings=render_notices(view.warnings, t),
                events=[_event(entry, names, t) for entry in reversed(entries)],
                attachments=await list_attachments(session, submission.id),
                state=t.gettext(PROGRESS_WORDS[progress]), notice=shown_notice,
                handed_in=status.handed_in and status is not SubmissionStatus.ACCEPTED)


@routes.get(r"/campaigns/{campaign:\d+}/units/{unit:\d+}/attachments/{attachment:\d+}")
async def attachment(request: web.Request) -> web.Response:
    """One of the unit's files, as sent, under its own name; only from this unit's report in
    this campaign, and only when its bytes still match their checksum."""
    _campaign, _unit, submission = await _parts(request)
    found = None if submission is None else await open_attachment(
        db_session(request), FileStore(settings_of(request).attachments_dir),
        int(request.match_info["attachment"]), submission.id)
    if found is None:
        raise web.HTTPNotFound()
    info, content = found
    return download(info.filename, content, info.media_type)


def _event(entry: HistoryEntry, names: dict[int, str], t: Translator) -> dict[str, object]:
    """One line of the history: when, who (and through which channel), what."""
    what = t.gettext(EVENT_WORDS.get(entry.event, entry.event))
    detail = entry.question or ""
    # A submission's entry keeps the whole version as JSON: the version is the report itself.
    value = entry.value if entry.event in ("answer", "return") else None
    return {"at": entry.at, "who": names.get(entry.officer_id) or f"#{entry.officer_id}",
            "channel": entry.channel, "what": what, "question": detail, "value": value}


async def _review(request: web.Request, accept: bool) -> web.Response:
    campaign, unit, submission = await _parts(request)
    target = f"/campaigns/{campaign.id}/units/{unit.id}"
    reason = str((await request.post()).get("reason", "")).strip()
    if not accept and not reason:
        return redirect(f"{target}?notice=reason")
    if submission is None:
        return redirect(f"{target}?notice={ReviewResult.NOT_HANDED_IN.value}")
    result = await review_submission(db_session(request), submission, actor(request), accept, reason)
    if result is not ReviewResult.DONE:
        return redirect(f"{target}?notice={result.value}")
    return redirect(f"{target}?notice={'accepted' if accept else 'returned'}")


@routes.post(r"/campaigns/{campaign:\d+}/units/{unit:\d+}/return")
async def return_report(request: web.Request) -> web.Response:
    return await _review(request, accept=False)


@routes.post(r"/campaigns/{campaign:\d+}/units/{unit:\d+}/accept")
async def accept_report(request: web.Request) -> web.Response:
    return await _review(request, accept=True)
