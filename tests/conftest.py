"""Shared fixtures: the real outline, and real databases (a SQLite file always; PostgreSQL
when KSTTHC_TEST_POSTGRES_URL is set, each test in a schema of its own)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from engine.conversation import ReportEngine
from engine.outline import Outline, default_outline_path, load_outline

POSTGRES_URL = os.environ.get("KSTTHC_TEST_POSTGRES_URL")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def outline() -> Outline:
    return load_outline(default_outline_path())


@pytest.fixture(scope="session")
def engine(outline: Outline) -> ReportEngine:
    return ReportEngine(outline)


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[str, str | None]]:
    """(url, schema) of an empty database of each kind the machine has."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path / "kstthc.sqlite3"), None
        return
    if not POSTGRES_URL:
        pytest.skip("KSTTHC_TEST_POSTGRES_URL is not set")
    schema = "t_" + secrets.token_hex(6)
    admin = create_async_engine(POSTGRES_URL)
    async with admin.begin() as connection:
        await connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield POSTGRES_URL, schema
    finally:
        async with admin.begin() as connection:
            await connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        await admin.dispose()
