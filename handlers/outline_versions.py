"""Which outline a campaign asks and renders: the version it was opened with, never the outline
file as it is today. Every place that needs a campaign's outline goes through `outline_of`."""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

import outlines
from deadlines.schedule import DeadlineKind
from engine.conclusion_items import with_conclusion_items
from engine.conversation import ReportEngine
from engine.outline import load_outline, parse_outline
from storage.conclusion_items import conclusion_items
from storage.models import Campaign, Unit
from storage.outline_versions import version_by_checksum

OUTLINES_DIR = Path(outlines.__file__).resolve().parent
# Parsed outlines by checksum. A version's text never changes, so an entry is never stale, in
# any process and whatever database it came from; only its size is bounded.
ENGINES_KEPT = 16
_engines: OrderedDict[str, ReportEngine] = OrderedDict()
# A unit's outline with its conclusion items, by the campaign's checksum and the items' text.
_item_engines: OrderedDict[tuple[str, tuple[str, ...]], ReportEngine] = OrderedDict()


class OutlineVersionMissing(LookupError):
    """The campaign's outline version is not in the database (never, past migration 0010)."""


def outline_path(outline_file: str) -> Path:
    """An outline file as settings and campaigns name it: in outlines/, or an absolute path."""
    path = Path(outline_file)
    return path if path.is_absolute() else OUTLINES_DIR / path


def outline_engine(outline_file: str) -> ReportEngine:
    """The outline file as it is now: what a new campaign is opened with. Read again when the
    file changes (its size or time), so the next campaign gets the edited outline."""
    path = outline_path(outline_file)
    try:
        stat = path.stat()
    except OSError:
        return ReportEngine(load_outline(path))  # the loader says what is wrong with it
    return _file_engine(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _file_engine(path: Path, modified_ns: int, size: int) -> ReportEngine:
    engine = ReportEngine(load_outline(path))
    _remember(engine.outline.checksum, engine)
    return engine


async def outline_of(session: AsyncSession, campaign: Campaign, unit: Unit | None = None) -> ReportEngine:
    """The campaign's own outline: the version stored when it was opened. For `unit`, with a
    question pair on each item of the inspection conclusion the VP office recorded for it
    (engine.conclusion_items); every place that asks, reviews or prints one unit's report passes
    the unit, places about the whole campaign do not (the items' answers are the unit's alone)."""
    engine = await _campaign_engine(session, campaign)
    if unit is None or campaign.deadline_kind != DeadlineKind.AFTER_CONCLUSION:
        return engine  # no query for the items where there can be none (it runs on every answer)
    items = await conclusion_items(session, campaign.id, unit.id)
    if not items:
        return engine
    key = (campaign.outline_checksum, items)
    found = _item_engines.get(key)
    if found is None:
        found = ReportEngine(with_conclusion_items(engine.outline, items))
        _item_engines[key] = found
        while len(_item_engines) > ENGINES_KEPT:
            _item_engines.popitem(last=False)
    _item_engines.move_to_end(key)
    return found


async def _campaign_engine(session: AsyncSession, campaign: Campaign) -> ReportEngine:
    checksum = campaign.outline_checksum
    engine = _engines.get(checksum)
    if engine is not None:
        _engines.move_to_end(checksum)
        return engine
    version = await version_by_checksum(session, checksum)
    if version is None:
        raise OutlineVersionMissing(f"campaign {campaign.code!r}: outline version {checksum[:12]} "
                                    "is not stored")
    engine = ReportEngine(parse_outline(version.content, Path(version.source_file)))
    _remember(checksum, engine)
    return engine


def _remember(checksum: str, engine: ReportEngine) -> None:
    _engines[checksum] = engine
    _engines.move_to_end(checksum)
    while len(_engines) > ENGINES_KEPT:
        _engines.popitem(last=False)
