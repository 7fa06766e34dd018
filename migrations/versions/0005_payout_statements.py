"""payout statements

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 16:04:39.032307
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Batch mode on SQLite needs the constraint named to add it and to drop it again.
STATEMENT_FK = "fk_payout_line_statement_id_payout_statement"


def upgrade() -> None:
    op.create_table(
        "payout_statement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("total_ore", sa.Integer(), nullable=False),
        sa.Column("locked_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["admin_id"],
            ["admin.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("admin_id", "month"),
    )
    with op.batch_alter_table("payout_statement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payout_statement_admin_id"), ["admin_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payout_statement_month"), ["month"], unique=False)

    with op.batch_alter_table("payout_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("statement_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_payout_line_statement_id"), ["statement_id"], unique=False
        )
        batch_op.create_foreign_key(STATEMENT_FK, "payout_statement", ["statement_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("payout_line", schema=None) as batch_op:
        batch_op.drop_constraint(STATEMENT_FK, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_payout_line_statement_id"))
        batch_op.drop_column("statement_id")

    with op.batch_alter_table("payout_statement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payout_statement_month"))
        batch_op.drop_index(batch_op.f("ix_payout_statement_admin_id"))

    op.drop_table("payout_statement")
