"""A whole conversation in plain text, for channels without buttons (Zalo): registration,
the report, linking channels, and the VP office's commands. Returns what to say."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.workdays import WorkingCalendar
from engine.commands import parse_text
from engine.i18n import N_
from engine.text import fold
from engine.views import HelpView, ReviewView
from handlers.admin_commands import (
    COMMANDS,
    NO_FILES_HERE,
    NO_REPORT,
    VIEW_SYNTAX,
    AdminContext,
    admin_help,
    named_report,
    report_to_view,
    run_admin_command,
    web_link,
)
from handlers.attachments import Attached, Incoming, attach_file
from handlers.attachments_office import (
    ATTACHMENTS_SYNTAX,
    FILES_ONLY_ON_TELEGRAM,
    report_attachments,
    review_attachments,
)
from handlers.due import campaign_line
from handlers.overview import campaign_overview, overview_texts
from handlers.registration import HOW_TO_REGISTER, LINK_CODE, confirmed_code, named_code, register
from handlers.render import help_text, outcome_texts, render
from handlers.report import (
    Report,
    open_report,
    remember_asked,
    resume,
    submission_review,
    take_turn,
)
from handlers.rounds import moved_on, no_open_round
from locales.translation import Translator, translator
from storage.campaigns import open_campaigns
from storage.files import FileStore
from storage.models import Identity, Officer, Role, Unit
from storage.officers import create_link_code, looks_like_code
from storage.reports import Actor

ZALO_FILES = N_("Zalo chưa chuyển tệp PDF, Word, Excel cho bot, nên qua Zalo bot chỉ nhận được ảnh. "
                "Để gửi văn bản kèm theo, anh/chị chụp ảnh từng trang rồi gửi ảnh tại đây, hoặc gửi tệp "
                "qua Telegram (gõ “liên kết” để lấy mã dùng chung báo cáo trên Telegram).")
LINK_WORDS = frozenset({"lien ket", "/lienket", "link", "/link"})
ONLY_TEXT = N_("Bot chỉ đọc được tin nhắn chữ. Vui lòng gõ câu trả lời hoặc lệnh (ví dụ: “hướng dẫn”).")


@dataclass(frozen=True)
class TextContext:
    session: AsyncSession
    channel: str
    external_id: str
    chat_id: str
    display_name: str
    calendar: WorkingCalendar
    today: date
    outline_file: str
    notify_chats: dict[str, list[str]] = field(default_factory=dict)
    web_url: str = ""  # the web desk's address, for /web


async def officer_of(ctx: TextContext) -> Officer | None:
    return await ctx.session.scalar(
        select(Officer).join(Identity, Identity.officer_id == Officer.id)
        .where(Identity.channel == ctx.channel, Identity.external_id == ctx.external_id))


async def identity_of(ctx: TextContext) -> Identity | None:
    return await ctx.session.scalar(select(Identity).where(
        Identity.channel == ctx.channel, Identity.external_id == ctx.external_id))


async def handle_text(ctx: TextContext, text: str, default_locale: str = "vi") -> list[str]:
    identity = await identity_of(ctx)
    officer = None if identity is None else await ctx.session.get(Officer, identity.officer_id)
    t = translator(officer.locale if officer else default_locale)
    words = text.strip().split(maxsplit=1)
    head = fold(words[0]) if words else ""
    if head == "/start" and (officer is None or len(words) > 1):
        return await _register(ctx, t, words[1] if len(words) > 1 else "")
    if officer is not None and officer.role == Role.ADMIN and (confirmed := confirmed_code(text)):
        return await _register(ctx, t, confirmed, leave_office=True)
    if officer is None:
        return await _register(ctx, t, text)
    if (code := named_code(text)) is not None or (officer.role == Role.ADMIN and looks_like_code(text)):
        # A registered officer's code is named ("mã ABCD-EFGH"): what they type otherwise is an
        # answer, whatever it looks like. The VP office answers no questions: its code is bare.
        return await _register(ctx, t, code or text)
    if fold(text) in LINK_WORDS:
        code = await create_link_code(ctx.session, officer)
        return [t.gettext(LINK_CODE).format(code=code), *await _where(ctx, officer, t)]
    if officer.role == Role.ADMIN:
        return await _admin(ctx, officer, t, head, words[1] if len(words) > 1 else "")
    assert identity is not None
    return await _officer(ctx, officer, identity, t, text)


async def _register(ctx: TextContext, t: Translator, code: str, leave_office: bool = False) -> list[str]:
    if not looks_like_code(code):
        return [t.gettext(HOW_TO_REGISTER)]
    outcome = await register(ctx.session, ctx.channel, ctx.external_id, code, ctx.display_name,
                             chat_id=ctx.chat_id, leave_office=leave_office)
    if outcome.problem is not None or outcome.officer is None:
        # A registered officer's wrong code leaves them where they were: shown again.
        registered = await officer_of(ctx)
        return [outcome.problem.render(t) if outcome.problem else t.gettext(HOW_TO_REGISTER),
                *(await _where(ctx, registered, t) if registered else [])]
    officer = outcome.officer
    t = translator(officer.locale)
    if officer.role == Role.ADMIN:
        return [t.gettext("Xin chào! Anh/chị đã đăng ký là cán bộ Văn phòng UBND thành phố. Bot sẽ báo khi "
                          "đơn vị nộp báo cáo; gõ /tiendo để xem tiến độ.")]
    report = await _report(ctx, officer)
    if report is None:
        return [await _no_round(ctx, officer, t)]
    greeting = t.gettext("Xin chào! Anh/chị là cán bộ đầu mối của {unit}.").format(unit=report.unit.name)
    greeting = " ".join(filter(None, [greeting, moved_on(report, t)]))
    greeting += " " + await campaign_line(ctx.session, report.campaign, report.unit, ctx.calendar, t)
    guide = help_text(HelpView(), t)
    where = await resume(ctx.session, report)
    identity = await identity_of(ctx)
    if identity is not None:
        await remember_asked(ctx.session, identity, where)
    return [f"{greeting}\n\n{guide}", *outcome_texts(where, t)]


async def _report(ctx: TextContext, officer: Officer) -> Report | None:
    unit = await ctx.session.get(Unit, officer.unit_id) if officer.unit_id else None
    return await open_report(ctx.session, officer, unit, ctx.channel) if unit else None


async def _no_round(ctx: TextContext, officer: Officer, t: Translator) -> str:
    unit = await ctx.session.get(Unit, officer.unit_id) if officer.unit_id else None
    return await no_open_round(ctx.session, unit, t)


async def _where(ctx: TextContext, officer: Officer, t: Translator) -> list[str]:
    """Where a unit's officer is (the open question, or the report's state): the end of every
    reply that is not a question. Nothing for the VP office."""
    report = await _report(ctx, officer) if officer.role == Role.OFFICER else None
    if report is None:
        return []
    outcome = await resume(ctx.session, report)
    identity = await identity_of(ctx)
    if identity is not None:
        await remember_asked(ctx.session, identity, outcome)
    return render(outcome.view, t)


async def _officer(ctx: TextContext, officer: Officer, identity: Identity, t: Translator,
                   text: str) -> list[str]:
    report = await _report(ctx, officer)
    if report is None:
        return [await _no_round(ctx, officer, t)]
    closed = moved_on(report, t, typed=True)
    if closed is not None:  # what was typed was meant for the round now closed
        return [closed, *await _where(ctx, officer, t)]
    if fold(text).split(" ")[0].lstrip("/") in COMMANDS:
        return [t.gettext("Chỉ cán bộ Văn phòng UBND thành phố mới dùng được lệnh này."),
                *await _where(ctx, officer, t)]
    turn = replace(parse_text(text, fuzzy=True), question=identity.asked_question)
    outcome = await take_turn(ctx.session, report, turn, None, ctx.notify_chats)
    assert outcome is not None  # typed text is never stale
    await remember_asked(ctx.session, identity, outcome)
    texts = outcome_texts(outcome, t)
    if isinstance(outcome.view, ReviewView):
        texts.extend(await report_attachments(ctx.session, report, t))
    return texts


async def _admin(ctx: TextContext, officer: Officer, t: Translator, head: str, rest: str) -> list[str]:
    command = head.lstrip("/")
    admin = AdminContext(ctx.session, t, ctx.calendar, ctx.today, ctx.outline_file,
                         Actor(officer.id, ctx.channel), ctx.web_url)
    if command in COMMANDS:
        return await run_admin_command(admin, command, rest)
    if command == "web":
        return await web_link(admin)
    if command in ("tiendo", "progress") or fold(f"{command} {rest}") == "tien do":  # "tiến độ" is two words
        campaigns = await open_campaigns(ctx.session)
        if not campaigns:
            return [t.gettext("Chưa có đợt báo cáo nào đang mở.")]
        return overview_texts(await campaign_overview(ctx.session, campaigns[0]), t, ctx.calendar)
    if command == "xembaocao":
        return await _view_report(ctx, t, rest)
    if command == "xuatbaocao":
        return [t.gettext(NO_FILES_HERE)]
    if command == "tailieu":
        return await _unit_files(ctx, t, rest)
    return [admin_help(t, files=False)]


async def _view_report(ctx: TextContext, t: Translator, code: str) -> list[str]:
    if not code.strip():
        return [t.gettext(VIEW_SYNTAX)]
    submission_id = await report_to_view(ctx.session, code)
    review = None if submission_id is None else await submission_review(ctx.session, submission_id)
    if review is None:
        return [t.gettext(NO_REPORT).format(code=code.strip())]
    heading, view = review
    assert submission_id is not None
    return [heading, *render(view, t, words=False), *await review_attachments(ctx.session, submission_id, t)]


async def _unit_files(ctx: TextContext, t: Translator, code: str) -> list[str]:
    """/tailieu here: the list of a unit's files, and where to download them."""
    named = await named_report(ctx.session, code, t, ATTACHMENTS_SYNTAX)
    if isinstance(named, str):
        return [named]
    listed = await review_attachments(ctx.session, named, t)
    return [*(listed or [t.gettext("Đơn vị chưa gửi tài liệu kèm theo.")]), t.gettext(FILES_ONLY_ON_TELEGRAM)]


async def handle_file(ctx: TextContext, store: FileStore, fetch: Callable[[], Awaitable[Incoming | Attached]],
                      max_bytes: int, default_locale: str = "vi") -> list[str]:
    """A file from this chat, fetched (`fetch`: the file, or why the channel could not get it)
    only once it is known to be an officer's: attached to the question on their screen, then
    where they are."""
    identity = await identity_of(ctx)
    officer = None if identity is None else await ctx.session.get(Officer, identity.officer_id)
    t = translator(officer.locale if officer else default_locale)
    if officer is None or identity is None:
        return [t.gettext(HOW_TO_REGISTER)]
    report = await _report(ctx, officer) if officer.role == Role.OFFICER else None
    if report is None:
        return [await _no_round(ctx, officer, t) if officer.role == Role.OFFICER else t.gettext(ONLY_TEXT)]
    closed = moved_on(report, t, typed=True)
    if closed is not None:
        return [closed, *await _where(ctx, officer, t)]
    sent = await fetch()
    attached = sent if isinstance(sent, Attached) else await attach_file(
        ctx.session, store, report, identity.asked_question, sent, max_bytes, ctx.notify_chats)
    if attached.answered is not None:
        await remember_asked(ctx.session, identity, attached.answered)
        return [attached.text(t, max_bytes), *outcome_texts(attached.answered, t)]
    return [attached.text(t, max_bytes), *await _where(ctx, officer, t)]


async def handle_unsupported(ctx: TextContext, default_locale: str = "vi") -> list[str]:
    """Something Zalo does not pass on (a file, a voice message): what to do instead."""
    officer = await officer_of(ctx)
    t = translator(officer.locale if officer else default_locale)
    if officer is None:
        return [t.gettext(HOW_TO_REGISTER)]
    if officer.role != Role.OFFICER:
        return [t.gettext(ONLY_TEXT)]
    return [t.gettext(ZALO_FILES), *await _where(ctx, officer, t)]
