"""Statements of the answer path compiled once and, on SQLite, run on the driver directly.

Through the session a statement costs 50–150 µs of SQLAlchemy (an execution context, parameter
and result processing through several layers, the async adapter's hop into a greenlet) for a
few µs of SQLite, and loading a row as an object through the ORM about as much again; an
answer runs about ten statements and reads five objects. On SQLite, whose connection works on
the event loop's thread (storage/sqlite_connection.py), a `DirectStatement` hands sqlite3 the
SQL SQLAlchemy compiled for it, with SQLAlchemy's own conversions of parameters and results,
inside the session's transaction; on PostgreSQL it goes through the session as any statement
does. `adopt` then makes a row's object and attaches it to the session as loaded, so that the
rest of the code sees what a query would have given it (measured with bench/answers.py: 4.9 →
3.5 ms of CPU per answer, the ORM reads the larger part)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar, cast

from sqlalchemy import Column, Table, inspect
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, class_mapper
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.sql import Executable
from sqlalchemy.sql.compiler import SQLCompiler

from storage.models import Base
from storage.sqlite_connection import LoopThreadConnection

Processor = Callable[[Any], Any] | None
Conversions = tuple[tuple[int, Callable[[Any], Any]], ...]
M = TypeVar("M", bound=Base)
_CONNECTION = "direct_sql.sqlite"


@dataclass(frozen=True)
class DirectResult:
    rows: list[tuple[Any, ...]]
    rowcount: int


@dataclass(frozen=True)
class _Compiled:
    compiled: SQLCompiler
    # For each parameter in order: the caller's key, or None for a value the statement binds
    # itself (a constant it compares to), which is then in `constants` already converted.
    keys: tuple[str | None, ...]
    constants: tuple[Any, ...]
    bind_processors: tuple[Processor, ...]
    # The result's columns SQLAlchemy converts (a date from its text, say): index and how.
    conversions: Conversions

    def run(self, connection: sqlite3.Connection, params: Mapping[str, Any]) -> DirectResult:
        # What SQLCompiler.construct_params would give, without its generality on every call.
        arguments = [constant if key is None else params[key] if process is None else process(params[key])
                     for key, constant, process in zip(self.keys, self.constants, self.bind_processors,
                                                       strict=True)]
        try:
            cursor = connection.execute(self.compiled.string, arguments)
            rows: list[tuple[Any, ...]] = cursor.fetchall() if cursor.description else []
        except sqlite3.Error as error:
            # Raised as SQLAlchemy raises it through the session, for callers to handle alike.
            raise DBAPIError.instance(self.compiled.string, arguments, error, sqlite3.Error) from error
        if self.conversions:
            rows = [_converted(row, self.conversions) for row in rows]
        return DirectResult(rows, cursor.rowcount)


def _converted(row: tuple[Any, ...], conversions: Conversions) -> tuple[Any, ...]:
    values = list(row)
    for index, process in conversions:
        values[index] = process(values[index])
    return tuple(values)


class DirectStatement:
    """A statement run with parameters of the same names each time (its compiled form is kept
    per set of names in their order)."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, ...], _Compiled] = {}

    async def execute(self, session: AsyncSession, params: Mapping[str, Any]) -> DirectResult:
        direct = await _sqlite_connection(session)
        if direct is None:
            result = await session.execute(self.statement, dict(params))
            if self.statement.is_select:
                return DirectResult([tuple(row) for row in result], 0)
            return DirectResult([], cast(CursorResult[Any], result).rowcount)
        await flush_changes(session)  # as the session's autoflush would before a statement
        connection, dialect = direct
        return self._compiled_for(dialect, params).run(connection, params)

    def _compiled_for(self, dialect: Dialect, params: Mapping[str, Any]) -> _Compiled:
        key = tuple(params)  # the same call passes its parameters in the same order
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = _compile(self.statement, dialect, list(params))
        return found


def _compile(statement: Executable, dialect: Dialect, keys: Sequence[str]) -> _Compiled:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    # Column defaults computed in Python (and anything else SQLAlchemy fills in at execution)
    # would be skipped here: such a statement must get every value from its caller.
    if compiled.insert_prefetch or compiled.update_prefetch or getattr(compiled, "postfetch", None) or \
            compiled.post_compile_params:
        raise ValueError(f"not a statement to run directly: {compiled.string}")
    by_name = {name: parameter for parameter, name in compiled.bind_names.items()}
    binds = [by_name[name] for name in compiled.positiontup or ()]
    bind_processors = tuple(dialect.type_descriptor(bind.type).bind_processor(dialect) for bind in binds)
    given = set(keys)
    if any(bind.key not in given and (bind.required or bind.callable is not None) for bind in binds):
        raise ValueError(f"a parameter is missing, or computed at execution: {compiled.string}")
    constants = tuple(None if bind.key in given else bind.value if process is None else process(bind.value)
                      for bind, process in zip(binds, bind_processors, strict=True))
    result_processors = tuple(dialect.type_descriptor(column.type).result_processor(dialect, None)
                              for column in getattr(statement, "selected_columns", ()))
    conversions = tuple((index, process) for index, process in enumerate(result_processors)
                        if process is not None)
    return _Compiled(compiled, tuple(bind.key if bind.key in given else None for bind in binds),
                     constants, bind_processors, conversions)


async def _sqlite_connection(session: AsyncSession) -> tuple[sqlite3.Connection, Dialect] | None:
    """The sqlite3 connection of the session's current transaction (begun here if need be), and
    the dialect to compile for; None on another database."""
    transaction = session.sync_session.get_transaction()
    kept = session.info.get(_CONNECTION)
    if kept is not None and transaction is not None and kept[0] is transaction:
        return kept[1]  # type: ignore[no-any-return]
    dialect = session.get_bind().dialect
    if dialect.name != "sqlite":
        return None
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    sqlite = driver.sqlite if isinstance(driver, LoopThreadConnection) else None
    if sqlite is None:
        return None
    session.info[_CONNECTION] = (session.sync_session.get_transaction(), (sqlite, dialect))
    return sqlite, dialect


def columns_of(*models: type[Base]) -> list[Column[Any]]:
    """Every column of each model's table, in order: a row `adopt_row` can make objects of."""
    return [column for model in models for column in _table(model).columns]


def adopt(session: AsyncSession, model: type[M], row: Sequence[Any]) -> M:
    """The object of a row of the model's columns (`columns_of` order, extra values after them
    ignored) as a query would give it: the session's own if it holds it already, else made from
    the values and attached as loaded and unchanged."""
    names, key_index = _attribute_names(model)
    mapper = _mapper(model)
    key = mapper.identity_key_from_primary_key((row[key_index],))
    identity_map = session.sync_session.identity_map
    held = identity_map.get(key)
    if held is not None:
        return cast(M, held)
    # Made, filled and attached as SQLAlchemy's loader does it (sqlalchemy.orm.loading): its
    # __init__ would record each value as a change, and make_transient_to_detached with
    # session.add undo that and walk the object's relationships, at four times the cost.
    made = cast(M, mapper.class_manager.new_instance())
    made.__dict__.update(zip(names, row[:len(names)], strict=True))
    state = instance_state(made)
    state.key = key
    state.session_id = session.sync_session.hash_key
    identity_map._add_unpresent(state, key)
    return made


async def flush_changes(session: AsyncSession) -> None:
    """`session.flush()`, without the trip into SQLAlchemy's greenlet when there is nothing to
    flush (an answer's writes go out as statements: most turns have nothing)."""
    if not session.sync_session._is_clean():
        await session.flush()


async def held_or_get(session: AsyncSession, model: type[M], key: Any) -> M | None:
    """`session.get`, looking first in the session's identity map without the async session's
    trip into SQLAlchemy's greenlet (an object read earlier in the event: the officer's unit)."""
    held = session.sync_session.identity_map.get(_mapper(model).identity_key_from_primary_key((key,)))
    if held is not None:
        state = instance_state(held)
        if not state.expired_attributes and not state.deleted and held not in session.sync_session.deleted:
            return cast(M, held)
    return await session.get(model, key)


def adopt_row(session: AsyncSession, models: Sequence[type[Base]], row: Sequence[Any]) -> list[Any]:
    """`adopt` for a row of several models' columns one after another; a model whose primary
    key is NULL (an outer join that found nothing) gives None."""
    objects: list[Any] = []
    start = 0
    for model in models:
        names, key_index = _attribute_names(model)
        values = row[start:start + len(names)]
        start += len(names)
        objects.append(None if values[key_index] is None else adopt(session, model, values))
    return objects


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


@lru_cache(maxsize=32)
def _mapper(model: type[Base]) -> Mapper[Any]:
    return class_mapper(model)  # configured (all mappers), as a query would have them


@lru_cache(maxsize=32)
def _attribute_names(model: type[Base]) -> tuple[tuple[str, ...], int]:
    """The model's attribute for each column of its table, and which one is the primary key."""
    mapper = inspect(model)
    columns = list(_table(model).columns)
    names = tuple(mapper.get_property_by_column(column).key for column in columns)
    (key,) = [index for index, column in enumerate(columns) if column.primary_key]
    return names, key
