"""The VP office's typed commands, the same in every chat channel: campaigns (/taodot,
/lichkiemtra, /ketluan, /hannop) and review (/tralai, /tiepnhan)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.periods import Period, PeriodError
from deadlines.plan import VisitNoticeTooShortError, remediation_due, report_due_before_visit
from deadlines.schedule import DeadlineKind
from deadlines.workdays import WorkingCalendar
from engine.i18n import N_, Translator
from handlers.campaigns import (
    CampaignProblem,
    campaign_by_code,
    create_campaign,
    outline_for,
    set_conclusion,
    set_visit,
    unit_deadlines,
)
from handlers.due import campaign_due_text, campaign_period_text
from handlers.overview import Progress
from handlers.review import ReviewResult, review_submission
from storage.campaigns import open_campaigns
from storage.models import Campaign, Officer, Submission, SubmissionStatus, Unit
from storage.reports import Actor
from storage.units import unit_by_code
from storage.web_tokens import create_login_link

ADMIN_HELP_HEAD = N_("Anh/chị là cán bộ Văn phòng UBND thành phố; bot tự động báo khi có đơn vị nộp báo "
                     "cáo. Các lệnh:")


@dataclass(frozen=True)
class CommandHelp:
    """One command as the help lists it; `files`: it answers with files, so it is listed (and
    works) only where the channel can send files."""

    line: str
    files: bool = False


ADMIN_COMMAND_HELP = (
    CommandHelp(N_("/tiendo — tiến độ nộp báo cáo của các đơn vị")),
    CommandHelp(N_("/hannop [MÃ_ĐỢT] — hạn nộp của từng đơn vị")),
    CommandHelp(N_("/xembaocao MÃ_ĐƠN_VỊ — xem báo cáo của đơn vị")),
    CommandHelp(N_("/tiepnhan MÃ_ĐƠN_VỊ — tiếp nhận báo cáo")),
    CommandHelp(N_("/tralai MÃ_ĐƠN_VỊ LÝ_DO — trả lại báo cáo để đơn vị chỉnh sửa")),
    CommandHelp(N_("/tailieu MÃ_ĐƠN_VỊ — tải các tài liệu đơn vị gửi kèm báo cáo"), files=True),
    CommandHelp(N_("/xuatbaocao [MÃ_ĐỢT] — bảng tổng hợp (.xlsx, .csv) và báo cáo tổng hợp (.docx)"),
                files=True),
    CommandHelp(N_("/lichkiemtra MÃ_ĐỢT MÃ_ĐƠN_VỊ NGÀY [dotxuat] — đặt hoặc dời lịch kiểm tra")),
    CommandHelp(N_("/ketluan MÃ_ĐỢT MÃ_ĐƠN_VỊ NGÀY — ghi ngày nhận kết luận kiểm tra")),
    CommandHelp(N_("/taodot MÃ_ĐỢT codinh|kiemtra|ketluan NGÀY [TỪ_NGÀY-ĐẾN_NGÀY] TÊN_ĐỢT — tạo đợt báo "
                   "cáo")),
    CommandHelp(N_("/web — đường dẫn đăng nhập bàn làm việc trên trình duyệt (dùng một lần, trong 15 phút)")),
)
NO_FILES_HERE = N_("Kênh này không gửi được tệp. Vui lòng dùng lệnh /xuatbaocao trên Telegram, hoặc lệnh "
                   "kstthc-bot export trên máy chủ.")


def admin_menu(t: Translator) -> list[tuple[str, str]]:
    """The VP office's commands as a chat menu: (command, what it does), from the help's lines."""
    menu = []
    for item in ADMIN_COMMAND_HELP:
        usage, _dash, what = t.gettext(item.line).partition(" — ")
        menu.append((usage.split()[0].lstrip("/"), what))
    return menu


def admin_help(t: Translator, files: bool) -> str:
    """The VP office's commands that work on a channel (`files`: whether it can send files)."""
    lines = [t.gettext(ADMIN_HELP_HEAD)]
    lines.extend("• " + t.gettext(item.line) for item in ADMIN_COMMAND_HELP if files or not item.files)
    return "\n".join(lines)


KIND_WORDS = {"codinh": DeadlineKind.FIXED_DATE, "kiemtra": DeadlineKind.BEFORE_VISIT,
              "ketluan": DeadlineKind.AFTER_CONCLUSION}
# Every state a unit's report can be in (a test walks them all).
PROGRESS_WORDS = {Progress.NOT_STARTED: N_("chưa bắt đầu"), Progress.IN_PROGRESS: N_("đang thực hiện"),
                  Progress.SUBMITTED: N_("đã nộp"), Progress.RETURNED: N_("đã trả lại để chỉnh sửa"),
                  Progress.RESUBMITTED: N_("đã nộp lại"), Progress.ACCEPTED: N_("đã tiếp nhận")}


class Refusal(Exception):
    """The command cannot be carried out; the message is already in the officer's language."""


@dataclass(frozen=True)
class AdminContext:
    session: AsyncSession
    t: Translator
    calendar: WorkingCalendar
    today: date
    outline_file: str
    actor: Actor
    web_url: str = ""  # the web desk's address (KSTTHC_WEB_PUBLIC_URL), for /web's sign-in link


def _day(text: str, t: Translator) -> date:
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise Refusal(t.gettext("“{text}” không phải là ngày theo dạng ngày/tháng/năm, ví dụ: 29/10/2021.")
                      .format(text=text)) from None


async def _campaign_unit(ctx: AdminContext, campaign_code: str, unit_code: str) -> tuple[Campaign, Unit]:
    campaign = await campaign_by_code(ctx.session, campaign_code)
    if campaign is None:
        raise Refusal(ctx.t.gettext("Không có đợt báo cáo mã {code}. Gõ /hannop để xem các đợt.")
                      .format(code=campaign_code))
    unit = await unit_by_code(ctx.session, unit_code)
    if unit is None:
        raise Refusal(ctx.t.gettext("Không tìm thấy đơn vị có mã {code}.").format(code=unit_code))
    return campaign, unit


# "15/12/2026-14/10/2027": the reporting period, optional, after the due date.
PERIOD_WORD = re.compile(r"^(\d{1,2}/\d{1,2}/\d{4})[-–](\d{1,2}/\d{1,2}/\d{4})$")


async def create(ctx: AdminContext, args: list[str]) -> list[str]:
    _ = ctx.t.gettext
    if len(args) < 4 or args[1] not in KIND_WORDS:
        raise Refusal(_("Cú pháp: /taodot MÃ_ĐỢT codinh|kiemtra|ketluan NGÀY [TỪ_NGÀY-ĐẾN_NGÀY] TÊN_ĐỢT "
                        "(NGÀY là hạn nộp với đợt cố định; TỪ_NGÀY-ĐẾN_NGÀY là kỳ báo cáo, mặc định từ "
                        "ngày 15/12 năm trước đến ngày 14 của tháng trước hạn nộp theo Nghị định "
                        "09/2019/NĐ-CP; ví dụ: /taodot tu-kiem-tra-2027 codinh 31/10/2027 "
                        "15/12/2026-14/10/2027 Báo cáo tự kiểm tra)."))
    due = _day(args[2], ctx.t)
    period, title_words = None, args[3:]
    if match := PERIOD_WORD.match(args[3]):
        try:
            period = Period(_day(match.group(1), ctx.t), _day(match.group(2), ctx.t))
        except PeriodError:
            raise Refusal(_("Kỳ báo cáo {period} không hợp lệ: ngày bắt đầu phải trước ngày kết thúc.")
                          .format(period=args[3])) from None
        title_words = args[4:]
    if not title_words:
        raise Refusal(_("Vui lòng ghi tên đợt báo cáo sau ngày."))
    if await campaign_by_code(ctx.session, args[0]) is not None:
        raise Refusal(_("Đã có đợt báo cáo mã {code}.").format(code=args[0]))
    try:
        kind = KIND_WORDS[args[1]]
        campaign = await create_campaign(ctx.session, args[0], " ".join(title_words), kind,
                                         due, outline_for(kind, ctx.outline_file), period=period)
    except CampaignProblem:
        raise Refusal(_("Kỳ báo cáo phải bắt đầu trước hạn nộp {due}.").format(
            due=due.strftime("%d/%m/%Y"))) from None
    return [_("Đã tạo đợt báo cáo {code}: {title}. {period}. Hạn nộp: {due}.").format(
        code=campaign.code, title=campaign.title, period=campaign_period_text(campaign, ctx.t),
        due=campaign_due_text(campaign, ctx.calendar, ctx.t))]


async def visit(ctx: AdminContext, args: list[str]) -> list[str]:
    _ = ctx.t.gettext
    if len(args) < 3:
        raise Refusal(_("Cú pháp: /lichkiemtra MÃ_ĐỢT MÃ_ĐƠN_VỊ NGÀY [dotxuat]"))
    campaign, unit = await _campaign_unit(ctx, args[0], args[1])
    day = _day(args[2], ctx.t)
    unscheduled = len(args) > 3 and args[3].lower() in ("dotxuat", "đột xuất", "độtxuất")
    try:
        await set_visit(ctx.session, campaign, unit, day, ctx.today, unscheduled, ctx.calendar)
    except VisitNoticeTooShortError as error:
        raise Refusal(_("Không thể đặt lịch kiểm tra ngày {day}: phải thông báo trước ít nhất {days} ngày "
                        "làm việc. Ngày kiểm tra sớm nhất hợp lệ là {earliest}.").format(
            day=day.strftime("%d/%m/%Y"), days=error.required_working_days,
            earliest=error.earliest_lawful.strftime("%d/%m/%Y"))) from None
    except CampaignProblem:
        raise Refusal(_("Đợt {code} không tính hạn theo lịch kiểm tra.").format(code=campaign.code)) from None
    due = report_due_before_visit(day, ctx.calendar)
    return [_("Đã ghi lịch kiểm tra {unit} ngày {day}; hạn gửi báo cáo: {due}. Nhắc nhở đã được lập lại.")
            .format(unit=unit.name, day=day.strftime("%d/%m/%Y"), due=due.strftime("%d/%m/%Y"))]


async def conclusion(ctx: AdminContext, args: list[str]) -> list[str]:
    _ = ctx.t.gettext
    if len(args) < 3:
        raise Refusal(_("Cú pháp: /ketluan MÃ_ĐỢT MÃ_ĐƠN_VỊ NGÀY_NHẬN_KẾT_LUẬN"))
    campaign, unit = await _campaign_unit(ctx, args[0], args[1])
    day = _day(args[2], ctx.t)
    try:
        await set_conclusion(ctx.session, campaign, unit, day)
    except CampaignProblem:
        raise Refusal(_("Đợt {code} không tính hạn theo kết luận kiểm tra.").format(
            code=campaign.code)) from None
    due = remediation_due(day, ctx.calendar)
    return [_("Đã ghi ngày nhận kết luận kiểm tra của {unit}: {day}; hạn báo cáo khắc phục: {due}.")
            .format(unit=unit.name, day=day.strftime("%d/%m/%Y"), due=due.strftime("%d/%m/%Y"))]


async def deadlines(ctx: AdminContext, args: list[str]) -> list[str]:
    _ = ctx.t.gettext
    campaigns = await open_campaigns(ctx.session)
    if args:
        campaigns = [c for c in campaigns if c.code == args[0]]
    if not campaigns:
        return [_("Chưa có đợt báo cáo nào đang mở.")]
    texts = []
    for campaign in campaigns:
        lines = [_("HẠN NỘP — {title} (mã {code}); {period}; hạn nộp {due}:").format(
            title=campaign.title, code=campaign.code, period=campaign_period_text(campaign, ctx.t).lower(),
            due=campaign_due_text(campaign, ctx.calendar, ctx.t))]
        rows = await unit_deadlines(ctx.session, campaign, ctx.calendar)
        lines.extend(f"  {row.deadline:%d/%m/%Y} · {row.unit.name} ({row.unit.code}) · "
                     f"{_(PROGRESS_WORDS[row.progress])}" for row in rows)
        if not rows:
            lines.append("  " + _("(chưa có đơn vị nào có lịch)"))
        texts.append("\n".join(lines))
    return texts


async def unit_submission(session: AsyncSession, unit: Unit) -> Submission | None:
    """The unit's report waiting for review, else its latest one."""
    return await session.scalar(
        select(Submission).where(Submission.unit_id == unit.id)
        .order_by(Submission.status.in_([SubmissionStatus.SUBMITTED, SubmissionStatus.RESUBMITTED]).desc(),
                  Submission.updated_at.desc()).limit(1))


async def _submission_of(ctx: AdminContext, unit_code: str) -> tuple[Submission, Unit]:
    unit = await unit_by_code(ctx.session, unit_code)
    if unit is None:
        raise Refusal(ctx.t.gettext("Không tìm thấy đơn vị có mã {code}.").format(code=unit_code))
    submission = await unit_submission(ctx.session, unit)
    if submission is None:
        raise Refusal(ctx.t.gettext("{unit} chưa có báo cáo.").format(unit=unit.name))
    return submission, unit


async def report_to_view(session: AsyncSession, unit_code: str) -> int | None:
    """/xembaocao MÃ_ĐƠN_VỊ: the submission to show (the one waiting for review, else the latest)."""
    unit = await unit_by_code(session, unit_code.strip()) if unit_code.strip() else None
    submission = None if unit is None else await unit_submission(session, unit)
    return None if submission is None else submission.id


async def named_report(session: AsyncSession, code: str, t: Translator, syntax: str) -> int | str:
    """The report a command names by its unit's code (/xembaocao, /tailieu), or the words saying
    why there is none: the command's syntax when no code was given."""
    code = code.strip()
    if not code:
        return t.gettext(syntax)
    submission_id = await report_to_view(session, code)
    return t.gettext(NO_REPORT).format(code=code) if submission_id is None else submission_id


VIEW_SYNTAX = N_("Cú pháp: /xembaocao MÃ_ĐƠN_VỊ (ví dụ: /xembaocao 31135). Gõ /tiendo để xem mã các đơn vị.")
NO_REPORT = N_("Không tìm thấy báo cáo của đơn vị có mã “{code}”. Gõ /tiendo để xem mã các đơn vị.")


async def _review(ctx: AdminContext, args: list[str], accept: bool) -> list[str]:
    _ = ctx.t.gettext
    reason = " ".join(args[1:]).strip()
    if not args or (not accept and not reason):
        raise Refusal(_("Cú pháp: /tiepnhan MÃ_ĐƠN_VỊ") if accept else
                      _("Cú pháp: /tralai MÃ_ĐƠN_VỊ LÝ_DO (ví dụ: /tralai 31135 Bổ sung số liệu mục 4)"))
    submission, unit = await _submission_of(ctx, args[0])
    result = await review_submission(ctx.session, submission, ctx.actor, accept, reason)
    if result is ReviewResult.ALREADY_ACCEPTED:
        raise Refusal(_("Báo cáo của {unit} đã được tiếp nhận trước đó.").format(unit=unit.name))
    if result is ReviewResult.NOT_HANDED_IN:
        raise Refusal(_("{unit} chưa nộp báo cáo nên chưa thể tiếp nhận hoặc trả lại.").format(
            unit=unit.name))
    if accept:
        return [_("Đã tiếp nhận báo cáo của {unit}; đơn vị đã được thông báo.").format(unit=unit.name)]
    return [_("Đã trả lại báo cáo của {unit} để chỉnh sửa; đơn vị đã được thông báo lý do.").format(
        unit=unit.name)]


async def accept_report(ctx: AdminContext, args: list[str]) -> list[str]:
    return await _review(ctx, args, accept=True)


async def return_report(ctx: AdminContext, args: list[str]) -> list[str]:
    return await _review(ctx, args, accept=False)


async def web_link(ctx: AdminContext) -> list[str]:
    """/web: a one-time sign-in link to the web desk for this VP office admin. Not in COMMANDS:
    an officer's answer may well begin with the word "web"."""
    officer = await ctx.session.get(Officer, ctx.actor.officer_id)
    token = None if officer is None else await create_login_link(ctx.session, officer)
    if token is None:
        return [ctx.t.gettext("Chỉ cán bộ Văn phòng UBND thành phố mới dùng được lệnh này.")]
    return [ctx.t.gettext("Đường dẫn đăng nhập bàn làm việc (dùng một lần, hiệu lực 15 phút; không chuyển "
                          "cho người khác): {url}").format(url=f"{ctx.web_url}/login?token={token}")]


COMMANDS: dict[str, Callable[[AdminContext, list[str]], Awaitable[list[str]]]] = {
    "taodot": create, "lichkiemtra": visit, "ketluan": conclusion, "hannop": deadlines,
    "tiepnhan": accept_report, "tralai": return_report,
}


async def run_admin_command(ctx: AdminContext, name: str, args: str) -> list[str]:
    """The command's reply texts; a refusal comes back as its message, changing nothing."""
    try:
        return await COMMANDS[name](ctx, args.split())
    except Refusal as refusal:
        return [f"⚠️ {refusal}"]
