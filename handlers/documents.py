"""The VP office's documents from the database: a unit's report (.docx), the consolidated
workbook and CSV, the city summary (.docx) and the progress charts (PNG)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from deadlines.schedule import DeadlineKind
from deadlines.workdays import WorkingCalendar
from documents.charts import (
    ChartData,
    render_progress_chart,
    render_status_chart,
    status_chart_data,
    submissions_over_time_data,
)
from documents.model import ReportDocumentInfo, UnitReport, local_datetime
from documents.totals import totals
from engine.answers import deserialise
from engine.views import State
from handlers.attachments_office import appendix_files
from handlers.due import campaign_due_text
from handlers.outline_versions import outline_of
from handlers.overview import CampaignOverview, Progress, campaign_overview
from handlers.reminders import campaign_members
from handlers.report import engine_level, submission_parts
from locales.translation import translator
from storage.campaigns import campaign_period
from storage.conclusion_items import conclusion_items
from storage.models import AnswerRow, Campaign, Submission, Unit, UnitLevel, as_utc
from storage.previous import previous_answers, previous_campaign
from storage.reports import load_answers
from storage.signers import campaign_recipients, office_signer, unit_signer

# The city summary goes to the City People's Committee unless the campaign says otherwise.
SUMMARY_RECIPIENTS = ("UBND thành phố",)


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes

    @property
    def image(self) -> bool:
        return self.filename.endswith(".png")


async def unit_report_docx(session: AsyncSession, submission_id: int, calendar: WorkingCalendar,
                           today: date, locale: str = "vi") -> Document | None:
    """The unit's report as an official document, dated the day it was handed in."""
    parts = await submission_parts(session, submission_id)
    if parts is None:
        return None
    submission, unit, campaign = parts
    parent = await session.get(Unit, unit.parent_id) if unit.parent_id else None
    engine = await outline_of(session, campaign, unit)
    answers = await load_answers(session, submission, engine.outline)
    progress = {item.unit.id: item.progress for item in (await campaign_overview(session, campaign)).units}
    report = UnitReport(
        unit_code=unit.code, unit_name=unit.name, unit_level=engine_level(unit),
        parent_name=parent.name if parent and parent.level != UnitLevel.PROVINCE else None,
        status=progress.get(unit.id, Progress.IN_PROGRESS).value,
        submitted_at=as_utc(submission.submitted_at),
        deadline=calendar.last_working_day_on_or_before(campaign.deadline),
        answers=answers, calculated=engine.calculated(State(answers=answers, unit_level=engine_level(unit))),
        previous=await previous_answers(session, campaign, unit.id, engine.outline),
        conclusion_items=await conclusion_items(session, campaign.id, unit.id))
    handed_in = as_utc(submission.submitted_at)
    day = local_datetime(handed_in).date() if handed_in else today
    recipients = campaign_recipients(campaign) or ReportDocumentInfo.recipients
    info = ReportDocumentInfo.for_unit(report, on=day, campaign_title=campaign.title,
                                       period=campaign_period(campaign), recipients=recipients)
    signer = unit_signer(unit)
    info = info.with_signer(signer.title, signer.name)
    # python-docx: imported when first needed, not when the bot starts.
    from documents.attachments import with_attachment_appendix
    from documents.report_docx import build_report_docx

    content = build_report_docx(engine.outline, report, info, translator(locale))
    content = with_attachment_appendix(content, await appendix_files(session, submission_id))
    return Document(f"bao-cao-{unit.code}-{campaign.code}.docx", content)


async def campaign_reports(session: AsyncSession, campaign: Campaign, calendar: WorkingCalendar
                           ) -> list[UnitReport]:
    """Every reporting unit of the campaign, with its status, deadline and answers."""
    engine = await outline_of(session, campaign)
    overview = await campaign_overview(session, campaign)
    deadlines = {m.unit.id: m.deadline for m in await campaign_members(session, campaign, calendar)}
    units = {u.id: u for u in await session.scalars(select(Unit))}
    submissions = {s.unit_id: s for s in await session.scalars(
        select(Submission).where(Submission.campaign_id == campaign.id))}
    rows = await session.scalars(select(AnswerRow).join(Submission, Submission.id == AnswerRow.submission_id)
                                 .where(Submission.campaign_id == campaign.id))
    answers_by_submission: dict[int, list[AnswerRow]] = {}
    for row in rows:
        answers_by_submission.setdefault(row.submission_id, []).append(row)
    reports = []
    for item in overview.units:
        unit = item.unit
        if unit.id not in deadlines:
            continue
        submission = submissions.get(unit.id)
        answers = {} if submission is None else {
            row.question: deserialise(engine.outline.question(row.question), row.kind, row.value)
            for row in answers_by_submission.get(submission.id, [])
            if engine.outline.has_question(row.question)}
        parent = units.get(unit.parent_id) if unit.parent_id else None
        reports.append(UnitReport(
            unit_code=unit.code, unit_name=unit.name, unit_level=unit.level,
            parent_name=parent.name if parent else None, status=item.progress.value,
            submitted_at=as_utc(submission.submitted_at) if submission else None, deadline=deadlines[unit.id],
            answers=answers,
            calculated=engine.calculated(State(answers=answers, unit_level=engine_level(unit)))))
    return reports


async def campaign_exports(session: AsyncSession, campaign: Campaign, calendar: WorkingCalendar,
                           today: date) -> list[Document]:
    """The workbook, its CSV twin and the city summary, for the VP office's own report."""
    # XlsxWriter and python-docx: imported when first needed, not when the bot starts.
    from documents.city_summary import build_city_summary_docx
    from documents.workbook import build_csv, build_workbook

    outline = (await outline_of(session, campaign)).outline
    reports = await campaign_reports(session, campaign, calendar)
    figures = totals(outline, reports)
    period = campaign_period(campaign)
    earlier = await previous_campaign(session, campaign)
    earlier_reports = await campaign_reports(session, earlier, calendar) if earlier else []
    last_year = totals(outline, earlier_reports) if earlier else None
    summary_recipients = campaign_recipients(campaign, summary=True) or SUMMARY_RECIPIENTS
    # Each unit's handed-in figures of last period, for the workbook's "kỳ trước" columns.
    before = {r.unit_code: {name: answer for name, answer in r.answers.items() if outline.has_question(name)}
              for r in earlier_reports if r.submitted}
    reports = [replace(r, previous=before.get(r.unit_code, {})) for r in reports]
    summary_info = ReportDocumentInfo(unit_name="Văn phòng Ủy ban nhân dân thành phố", date=today,
                                      campaign_title=campaign.title, unit_level="department",
                                      number_suffix="BC-VPUB",
                                      recipients=summary_recipients,
                                      period=period,
                                      due=campaign_due_text(campaign, calendar, translator("vi")))
    signer = await office_signer(session)
    summary_info = summary_info.with_signer(signer.title, signer.name)
    return [
        Document(f"tong-hop-{campaign.code}.xlsx",
                 build_workbook(outline, reports, today, period=period, previous=last_year,
                                title=campaign.title)),
        Document(f"tong-hop-{campaign.code}.csv", build_csv(outline, reports)),
        Document(f"bao-cao-tong-hop-{campaign.code}.docx",
                 build_city_summary_docx(outline, figures, summary_info, translator("vi"), last_year,
                                         reports=reports, today=today)),
    ]


def status_counts(overview: CampaignOverview) -> dict[str, int]:
    return {progress.value: overview.count(progress) for progress in Progress}


async def progress_charts(session: AsyncSession, campaign: Campaign, calendar: WorkingCalendar,
                          today: date) -> list[tuple[ChartData, bytes]]:
    """Units by status, and for a fixed-date campaign submissions over time against the
    deadline; each with the data it was drawn from."""
    overview = await campaign_overview(session, campaign)
    status = status_chart_data(status_counts(overview))
    charts = [(status, render_status_chart(status))]
    if campaign.deadline_kind == DeadlineKind.FIXED_DATE:
        submitted = [as_utc(moment) for moment in await session.scalars(select(Submission.submitted_at).where(
            Submission.campaign_id == campaign.id, Submission.submitted_at.is_not(None)))]
        deadline = calendar.last_working_day_on_or_before(campaign.deadline)
        start = min([today - timedelta(days=30), *(local_datetime(s).date() for s in submitted if s)])
        over_time = submissions_over_time_data(submitted, deadline, start, today=today,
                                               total=len(overview.units))
        charts.append((over_time, render_progress_chart(over_time)))
    return charts


async def attachment_files(session: AsyncSession, attachment: dict[str, Any], calendar: WorkingCalendar,
                           today: date, locale: str = "vi") -> list[Document]:
    """The files an outbox attachment stands for, made now from the database."""
    if attachment.get("kind") == "report":
        document = await unit_report_docx(session, int(attachment["submission"]), calendar, today, locale)
        return [document] if document else []
    if attachment.get("kind") == "chart":
        campaign = await session.get(Campaign, int(attachment["campaign"]))
        if campaign is None:
            return []
        charts = await progress_charts(session, campaign, calendar, today)
        return [Document(f"tien-do-{campaign.code}-{index}.png", png)
                for index, (_data, png) in enumerate(charts, start=1)]
    return []


async def report_of(session: AsyncSession, campaign_id: int, unit_id: int) -> int | None:
    """The id of a unit's submission in a campaign."""
    return await session.scalar(select(Submission.id).where(
        Submission.campaign_id == campaign_id, Submission.unit_id == unit_id))
