"""Which outline a campaign asks and renders: the version it was opened with, never the outline
file as it is today. Every place that needs a campaign's outline goes through `outline_of`."""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

import outlines
from engine.conversation import ReportEngine
from engine.outline import load_outline, parse_outline
from storage.models import Campaign
from storage.outline_versions import version_by_checksum

OUTLINES_DIR = Path(outlines.__file__).resolve().parent
# Parsed outlines by checksum. A version's text never changes, so an entry is never stale, in
# any process and whatever database it came from; only its size is bounded.
ENGINES_KEPT = 16
_engines: OrderedDict[str, ReportEngine] = OrderedDict()


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


async def outline_of(session: AsyncSession, campaign: Campaign) -> ReportEngine:
    """The campaign's own outline: the version stored when it was opened."""
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
