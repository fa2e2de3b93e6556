"""an inspection conclusion's items, per campaign and unit: what each required of the unit

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conclusion_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"],
                                name=op.f("fk_conclusion_items_campaign_id_campaigns")),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_conclusion_items_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conclusion_items")),
        sa.UniqueConstraint("campaign_id", "unit_id", "number",
                            name=op.f("uq_conclusion_items_campaign_id")),
    )


def downgrade() -> None:
    op.drop_table("conclusion_items")
