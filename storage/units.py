"""Units (đơn vị): imported from the vietnam-provinces package (communes and wards with their
official codes) and from CSV/XLSX files (departments, districts, any level), then listed."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from engine.text import tidy_name
from storage.models import Unit, UnitLevel

DEFAULT_PROVINCE_CODE = 92  # Thành phố Cần Thơ
SAMPLE_DEPARTMENTS_FILE = Path(__file__).resolve().parent / "data" / \
    "can-tho-2021-departments-districts.csv"


class UnitFileError(ValueError):
    """A unit file has a bad row; the message names the file and the row."""


@dataclass(frozen=True)
class UnitRecord:
    code: str
    name: str
    level: str
    parent_code: str | None = None


def province_units(province_code: int = DEFAULT_PROVINCE_CODE) -> list[UnitRecord]:
    """The province and its communes/wards, with official codes, from vietnam-provinces."""
    from vietnam_provinces import Province, ProvinceCode, Ward

    province = Province.from_code(ProvinceCode(province_code))
    records = [UnitRecord(str(int(province.code)), province.name, UnitLevel.PROVINCE)]
    wards = sorted(Ward.iter_by_province(province.code), key=lambda ward: int(ward.code))
    records.extend(
        UnitRecord(str(int(ward.code)), ward.name, UnitLevel.COMMUNE, str(int(province.code)))
        for ward in wards
    )
    return records


def read_unit_file(path: Path) -> list[UnitRecord]:
    """Rows of code, name, level, parent from a .csv or .xlsx file (first row: headers)."""
    rows = _xlsx_rows(path) if path.suffix.lower() == ".xlsx" else _csv_rows(path)
    records = []
    levels = {level.value for level in UnitLevel}
    for number, row in rows:
        code, name = (row.get("code") or "").strip(), (row.get("name") or "").strip()
        level = (row.get("level") or "").strip().lower()
        parent = (row.get("parent") or "").strip() or None
        if not code or not name:
            raise UnitFileError(f"{path}:{number}: code and name are required")
        if level not in levels:
            raise UnitFileError(
                f"{path}:{number}: level {level!r} is not one of {', '.join(sorted(levels))}"
            )
        records.append(UnitRecord(code, name, level, parent))
    return records


def _csv_rows(path: Path) -> Iterable[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"code", "name", "level"} - set(reader.fieldnames or [])
        if missing:
            raise UnitFileError(f"{path}:1: missing column(s) {', '.join(sorted(missing))}")
        return [(index, row) for index, row in enumerate(reader, start=2)]


def _xlsx_rows(path: Path) -> Iterable[tuple[int, dict[str, str]]]:
    from openpyxl import load_workbook

    sheet = load_workbook(path, read_only=True).active
    if sheet is None:
        raise UnitFileError(f"{path}: the workbook has no sheet")
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        raise UnitFileError(f"{path}:1: the sheet is empty")
    headers = [str(cell or "").strip().lower() for cell in rows[0]]
    missing = {"code", "name", "level"} - set(headers)
    if missing:
        raise UnitFileError(f"{path}:1: missing column(s) {', '.join(sorted(missing))}")
    return [
        (index, {h: "" if c is None else str(c) for h, c in zip(headers, row, strict=False)})
        for index, row in enumerate(rows[1:], start=2)
    ]


async def import_units(session: AsyncSession, records: Sequence[UnitRecord]) -> tuple[int, int]:
    """Insert new units and update known ones by code; returns (created, updated)."""
    by_code = {u.code: u for u in await session.scalars(select(Unit))}
    created = updated = 0
    records = [replace(record, name=tidy_name(record.name)) for record in records]  # "Xã  Phú Hữu"
    for record in records:
        unit = by_code.get(record.code)
        if unit is None:
            unit = Unit(code=record.code, name=record.name, level=record.level)
            session.add(unit)
            by_code[record.code] = unit
            created += 1
        elif (unit.name, unit.level) != (record.name, record.level):
            unit.name, unit.level = record.name, record.level
            updated += 1
    await session.flush()
    for record in records:
        if record.parent_code is None:
            continue
        parent = by_code.get(record.parent_code)
        if parent is None:
            raise UnitFileError(f"unit {record.code}: parent {record.parent_code} is not known")
        by_code[record.code].parent_id = parent.id
    await session.flush()
    return created, updated


async def unit_by_code(session: AsyncSession, code: str) -> Unit | None:
    return await session.scalar(select(Unit).where(Unit.code == code.strip()))


async def list_units(session: AsyncSession, level: str | None = None) -> list[Unit]:
    query = select(Unit).order_by(Unit.level, Unit.code)
    if level:
        query = query.where(Unit.level == level)
    return list(await session.scalars(query))


async def first_commune(session: AsyncSession) -> Unit | None:
    """The province's first commune by official code: the demo officer's unit."""
    units = await session.scalars(select(Unit).where(Unit.level == UnitLevel.COMMUNE))
    return min(units, key=lambda unit: (len(unit.code), unit.code), default=None)
