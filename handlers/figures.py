"""`kstthc-bot figures import`: last year's figures per unit, from a spreadsheet laid out like the
consolidated workbook, stored as the units' handed-in reports of an earlier campaign so that
they stand beside this year's ("Kỳ trước", "cùng kỳ năm trước")."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from documents.figures_file import FiguresFileError, UnitFigures
from handlers.outline_versions import outline_of
from storage.models import Campaign, Officer, Role, SubmissionStatus, utcnow
from storage.reports import Actor, save_answer, submission_for
from storage.units import unit_by_code

IMPORT_CHANNEL = "import"
IMPORTER_NAME = "Nhập số liệu kỳ trước (kstthc-bot figures import)"


async def _importer(session: AsyncSession) -> Officer:
    """The officer the history names for imported figures: one of the VP office, no channel."""
    officer = await session.scalar(select(Officer).where(Officer.name == IMPORTER_NAME,
                                                         Officer.role == Role.ADMIN))
    if officer is None:
        officer = Officer(name=IMPORTER_NAME, role=Role.ADMIN, unit_id=None)
        session.add(officer)
        await session.flush()
    return officer


async def import_figures(session: AsyncSession, campaign: Campaign, units: list[UnitFigures]) -> int:
    """Store each unit's figures as its accepted report in `campaign`; every unit code must be
    known (else FiguresFileError naming the rows, and nothing is stored). The units imported."""
    outline = (await outline_of(session, campaign)).outline
    found = {figures.code: await unit_by_code(session, figures.code) for figures in units}
    unknown = [f"row {figures.row}, unit {figures.code}" + (f" ({figures.name})" if figures.name else "")
               + ": no unit has this code (kstthc-bot units list)"
               for figures in units if found[figures.code] is None]
    if unknown:
        raise FiguresFileError(unknown)
    actor = Actor((await _importer(session)).id, IMPORT_CHANNEL)
    imported = 0
    for figures in units:
        unit = found[figures.code]
        assert unit is not None
        if not figures.answers:
            continue
        submission = await submission_for(session, campaign, unit.id)
        for name, answer in figures.answers.items():
            if outline.has_question(name):
                await save_answer(session, submission, outline, name, answer, actor)
        now = utcnow()
        submission.status = SubmissionStatus.ACCEPTED
        submission.submitted_at = submission.submitted_at or now
        submission.submitted_by = actor.officer_id
        submission.updated_at = now
        imported += 1
    return imported
