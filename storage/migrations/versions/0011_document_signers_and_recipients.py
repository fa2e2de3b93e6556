"""signers of the documents (per unit and the VP office's) and each campaign's nơi nhận

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-04 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signer_title", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("signer_name", sa.String(255), nullable=True))
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("report_recipients", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("summary_recipients", sa.Text(), nullable=True))
    op.create_table(
        "office_signer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_office_signer")),
    )


def downgrade() -> None:
    op.drop_table("office_signer")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("summary_recipients")
        batch_op.drop_column("report_recipients")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("signer_name")
        batch_op.drop_column("signer_title")
