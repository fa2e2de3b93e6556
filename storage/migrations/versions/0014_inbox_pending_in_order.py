"""a chat's pending events indexed in the order they are applied

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 00:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

PENDING = sa.text("processed_at IS NULL")


def upgrade() -> None:
    # Each turn takes its chat's oldest pending event. The old index found the chat's pending
    # events but not their order, so every claim sorted them all, updates included (0.09 ms with
    # twenty waiting, and more the longer the queue); this one hands over the first, and holds
    # only what is still to apply.
    op.drop_index("ix_inbox_pending_by_chat", table_name="inbox")
    op.create_index("ix_inbox_pending_in_order", "inbox",
                    ["channel", "chat_key", sa.text("coalesce(seq, id)"), "id"],
                    sqlite_where=PENDING, postgresql_where=PENDING)


def downgrade() -> None:
    op.drop_index("ix_inbox_pending_in_order", table_name="inbox")
    op.create_index("ix_inbox_pending_by_chat", "inbox", ["channel", "chat_key", "processed_at", "seq"])
