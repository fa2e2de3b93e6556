"""II.2 (self-assessment) asked in words, as the plan asks it

Revision ID: 0012
Revises: 0007
Create Date: 2026-12-04 19:40:00

Outline 2021.1 asked II.2 ("Tự đánh giá mức độ hoàn thành …") as a choice of three levels the
plan does not give; 2021.2 asks it as text. Answers already given keep their meaning: the stored
choice becomes the words the officer chose ("completed_well" → "Hoàn thành tốt"), so a report in
progress prints them, not an identifier. The history keeps what was stored at the time.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

QUESTION = "self_assessment"
# The choices of outline 2021.1, as they stood (kept here so the migration means the same
# whatever the outline becomes).
WORDS = {"completed_well": "Hoàn thành tốt", "completed": "Hoàn thành", "not_completed": "Chưa hoàn thành"}

answers = sa.table("answers", sa.column("question", sa.String()), sa.column("kind", sa.String()),
                   sa.column("value", sa.Text()))


def _rewrite(pairs: dict[str, str]) -> None:
    connection = op.get_bind()
    for old, new in pairs.items():
        connection.execute(answers.update()
                           .where(answers.c.question == QUESTION, answers.c.kind == "value",
                                  answers.c.value == old)
                           .values(value=new))


def upgrade() -> None:
    _rewrite(WORDS)


def downgrade() -> None:
    _rewrite({words: value for value, words in WORDS.items()})
