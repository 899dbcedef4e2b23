"""The review database as nerd wrote it before migrations existed (format_version 1, up to 722a394).

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "project",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("format_version", sa.Integer, nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("created", sa.String(40), nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, unique=True),
        sa.Column("position", sa.Integer, nullable=False, index=True),
        sa.Column("tokens", sa.JSON, nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("teacher", sa.JSON, nullable=True),
        sa.Column("teacher_provenance", sa.JSON, nullable=True),
        sa.Column("model", sa.JSON, nullable=True),
        sa.Column("uncertainty", sa.Float, nullable=False, index=True),
        sa.Column("disagreement", sa.Float, nullable=False, index=True),
        sa.Column("overlap", sa.Boolean, nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("item_id", sa.Integer, sa.ForeignKey("items.id"), nullable=False, index=True),
        sa.Column("reviewer", sa.String(100), nullable=False, index=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("spans", sa.JSON, nullable=True),
        sa.Column("suggested", sa.JSON, nullable=True),
        sa.Column("undoes", sa.Integer, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("decisions")
    op.drop_table("items")
    op.drop_table("project")
