"""Answers given under an older outline keep their meaning when the outline changes a
question's type (migration 0012: II.2 from a choice of three levels to the unit's own words)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from storage.database import Database
from storage.migrate import alembic_config, upgrade

NOW = datetime(2027, 5, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def db(unmigrated_db: Database) -> Database:
    return unmigrated_db  # the migrations under test make the schema


def downgrade(connection: sa.Connection, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(connection), revision)


async def test_a_self_assessment_chosen_before_is_kept_in_words(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(upgrade, "0007")
        await connection.execute(sa.text(
            "INSERT INTO campaigns (code, title, outline_file, outline_id, outline_version, deadline_kind, "
            "deadline, settings, created_at) VALUES ('tu-kiem-tra-2027', 'Tự kiểm tra 2027', "
            "'ke-hoach-20-2021.yaml', 'kstthc-2021', '2021.1', 'fixed_date', :deadline, '{}', :now)"),
            {"deadline": date(2027, 10, 31), "now": date(2027, 1, 4)})
        campaign = (await connection.execute(sa.text("SELECT id FROM campaigns"))).scalar_one()
        for unit, (code, value) in enumerate([("A", "completed_well"), ("B", "not_completed")], start=1):
            await connection.execute(sa.text(
                "INSERT INTO units (id, code, name, level) VALUES (:id, :code, :name, 'commune')"),
                {"id": unit, "code": code, "name": f"Xã {code}"})
            await connection.execute(sa.text(
                "INSERT INTO submissions (id, campaign_id, unit_id, status, created_at, updated_at) "
                "VALUES (:id, :campaign, :id, 'in_progress', :now, :now)"),
                {"id": unit, "campaign": campaign, "now": NOW})
            await connection.execute(sa.text(
                "INSERT INTO officers (id, name, role, locale, created_at) "
                "VALUES (:id, :name, 'officer', 'vi', :now)"),
                {"id": unit, "name": f"Cán bộ {code}", "now": NOW})
            for question, answer in (("self_assessment", value), ("guidance_documents", "completed")):
                await connection.execute(sa.text(
                    "INSERT INTO answers (submission_id, question, kind, value, officer_id, channel, "
                    "answered_at) VALUES (:id, :question, 'value', :value, :id, 'telegram', :now)"),
                    {"id": unit, "question": question, "value": answer, "now": NOW})

    def stored(connection: sa.Connection) -> set[tuple[str, str]]:
        rows = connection.execute(sa.text("SELECT question, value FROM answers")).all()
        return {(row[0], row[1]) for row in rows}

    async with db.engine.begin() as connection:
        # 0012 alone, up and down: later migrations rebuild tables in ways SQLite cannot undo
        # while other rows point at them, which is no concern of this one.
        await connection.run_sync(upgrade, "0012")
        assert await connection.run_sync(stored) == {
            ("self_assessment", "Hoàn thành tốt"), ("self_assessment", "Chưa hoàn thành"),
            ("guidance_documents", "completed")}  # another question's text is left alone
        await connection.run_sync(downgrade, "0011")
        assert ("self_assessment", "completed_well") in await connection.run_sync(stored)
