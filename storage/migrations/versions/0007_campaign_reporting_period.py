"""campaign reporting period (kỳ báo cáo)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:20:00
"""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _default_period(due: date) -> tuple[date, date]:
    """deadlines.periods.default_period as it stood when this migration was written (kept here
    so that the migration means the same whatever the code becomes): Decree 09/2019/NĐ-CP's
    cut-off on the 14th, the last one before the due date, from 15 December of the year before."""
    month_before = (due.replace(day=1) - timedelta(days=1)).replace(day=14)
    end = due.replace(day=14) if due.day > 14 else month_before
    return date(end.year - 1, 12, 15), end


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("period_end", sa.Date(), nullable=True))
    # Campaigns opened before: the default period of their due date.
    campaigns = sa.table("campaigns", sa.column("id", sa.Integer()), sa.column("deadline", sa.Date()),
                         sa.column("period_start", sa.Date()), sa.column("period_end", sa.Date()))
    connection = op.get_bind()
    for campaign_id, deadline in connection.execute(sa.select(campaigns.c.id, campaigns.c.deadline)).all():
        due = deadline if isinstance(deadline, date) else date.fromisoformat(str(deadline))
        start, end = _default_period(due)
        connection.execute(campaigns.update().where(campaigns.c.id == campaign_id)
                           .values(period_start=start, period_end=end))


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("period_end")
        batch_op.drop_column("period_start")
