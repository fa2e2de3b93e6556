"""outline versions: a campaign keeps the outline it was opened with

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-04 19:40:00
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from alembic import op

import outlines

revision = "0010"
down_revision = "0012"
branch_labels = None
depends_on = None

OUTLINES_DIR = Path(outlines.__file__).resolve().parent


def _version_of(outline_file: str, outline_id: str, label: str) -> dict[str, Any]:
    """The outline file as it is now: the version campaigns opened before this migration keep
    (their own text was not stored). Its id and label from the file, else the campaign's."""
    path = Path(outline_file)
    path = path if path.is_absolute() else OUTLINES_DIR / path
    try:
        content = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RuntimeError(f"migration 0010 keeps each campaign's outline, but the outline file "
                           f"{path} cannot be read ({error.strerror}): put it back, then upgrade "
                           "again") from error
    try:
        meta = (yaml.safe_load(content) or {}).get("outline") or {}
    except yaml.YAMLError:
        meta = {}
    return {"checksum": hashlib.sha256(content.encode("utf-8")).hexdigest(),
            "outline_id": str(meta.get("id") or outline_id)[:64],
            "label": str(meta.get("version") or label)[:32],
            "source_file": outline_file, "content": content}


def upgrade() -> None:
    versions = op.create_table(
        "outline_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("outline_id", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=32), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outline_versions")),
        sa.UniqueConstraint("checksum", name=op.f("uq_outline_versions_checksum")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outline_checksum", sa.String(length=64), nullable=True))
    campaigns = sa.table("campaigns", sa.column("id", sa.Integer()), sa.column("outline_file", sa.String()),
                         sa.column("outline_id", sa.String()), sa.column("outline_version", sa.String()),
                         sa.column("created_at", sa.DateTime(timezone=True)),
                         sa.column("outline_checksum", sa.String()))
    connection = op.get_bind()
    stored: set[str] = set()
    for outline_file, outline_id, label, created_at in connection.execute(
            sa.select(campaigns.c.outline_file, sa.func.min(campaigns.c.outline_id),
                      sa.func.min(campaigns.c.outline_version), sa.func.min(campaigns.c.created_at))
            .group_by(campaigns.c.outline_file)).all():
        version = _version_of(outline_file, outline_id, label)
        if version["checksum"] not in stored:
            stored.add(version["checksum"])
            connection.execute(versions.insert().values(**version, created_at=created_at))
        connection.execute(campaigns.update().where(campaigns.c.outline_file == outline_file)
                           .values(outline_checksum=version["checksum"]))
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.alter_column("outline_checksum", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_foreign_key(batch_op.f("fk_campaigns_outline_checksum_outline_versions"),
                                    "outline_versions", ["outline_checksum"], ["checksum"])


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_campaigns_outline_checksum_outline_versions"),
                                 type_="foreignkey")
        batch_op.drop_column("outline_checksum")
    op.drop_table("outline_versions")
