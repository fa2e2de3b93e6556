"""inbox order within a chat; the question a chat was last shown

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 17:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The place of an event among its chat's events (Telegram's update_id; the inbox id where a
    # platform gives no order): every process applies a chat's events by it, oldest first.
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_inbox_pending_by_chat", ["channel", "chat_key", "processed_at", "seq"])
    # The question a chat was last shown: what an answer typed there answers.
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("asked_question", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identities", schema=None) as batch_op:
        batch_op.drop_column("asked_question")
    with op.batch_alter_table("inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_pending_by_chat")
        batch_op.drop_column("seq")
