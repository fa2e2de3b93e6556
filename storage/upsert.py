"""INSERT … ON CONFLICT DO NOTHING for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from storage.direct_sql import DirectStatement
from storage.models import Base


async def insert_ignoring_duplicates(
    session: AsyncSession, model: type[Base], rows: Sequence[dict[str, Any]], unique: Sequence[str]
) -> int:
    """Insert rows, skipping those whose `unique` columns exist already; returns rows inserted."""
    if not rows:
        return 0
    insert = _insert_for(session.get_bind().dialect.name)
    statement = insert(model).values(list(rows)).on_conflict_do_nothing(index_elements=list(unique))
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def insert_all_ignoring_duplicates(
    session: AsyncSession, model: type[Base], rows: Sequence[dict[str, Any]], unique: Sequence[str]
) -> None:
    """`insert_ignoring_duplicates` where the count inserted is not needed: one statement, built and
    compiled once, run for every row. Rows in one multi-row VALUES made a new statement for every
    number of rows, compiled again each time (4 % of a busy bot's time, by the answers benchmark)."""
    if rows:
        dialect = session.get_bind().dialect.name
        await session.execute(_ignoring_statement(dialect, model, tuple(unique)), list(rows))


@lru_cache(maxsize=64)
def _ignoring_statement(dialect: str, model: type[Base], unique: tuple[str, ...]) -> Executable:
    insert = _insert_for(dialect)
    return insert(cast(Table, model.__table__)).on_conflict_do_nothing(index_elements=list(unique))


async def upsert(
    session: AsyncSession, model: type[Base], values: dict[str, Any], unique: Sequence[str]
) -> None:
    """Insert a row, or update the one with the same `unique` columns, in one statement."""
    dialect = session.get_bind().dialect.name
    statement = _upsert_statement(dialect, model, tuple(values), tuple(unique))
    await statement.execute(session, values)


@lru_cache(maxsize=64)
def _upsert_statement(dialect: str, model: type[Base], columns: tuple[str, ...],
                      unique: tuple[str, ...]) -> DirectStatement:
    """Built once per shape: building it (the `excluded` columns above all) costs several times
    more than running it. On the table, so the values go in as parameters."""
    statement = _insert_for(dialect)(cast(Table, model.__table__))
    changed = {key: statement.excluded[key] for key in columns if key not in unique}
    return DirectStatement(statement.on_conflict_do_update(index_elements=list(unique), set_=changed))


def _insert_for(dialect: str) -> Callable[[Any], sqlite.Insert | postgresql.Insert]:
    """The INSERT construct that knows the dialect's ON CONFLICT."""
    return postgresql.insert if dialect == "postgresql" else sqlite.insert
