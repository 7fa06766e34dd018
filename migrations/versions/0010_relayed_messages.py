"""relayed messages between a card user and their administrator (ids and times, no words)

The words of a message and of its answer travel only in the outbox row that delivers them, and
are dropped from its payload once the row is settled; this table keeps what the rate limit and
the one answer need.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "relayed_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_user_id", sa.Integer(), nullable=False),
        sa.Column("admin_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["admin_id"], ["admin.id"]),
        sa.ForeignKeyConstraint(["card_id"], ["card.id"]),
        sa.ForeignKeyConstraint(["card_user_id"], ["card_user.id"]),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("relayed_message", schema=None) as batch_op:
        batch_op.create_index("ix_relayed_message_user_sent", ["card_user_id", "sent_at"])
        batch_op.create_index(batch_op.f("ix_relayed_message_admin_id"), ["admin_id"])


def downgrade() -> None:
    with op.batch_alter_table("relayed_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_relayed_message_admin_id"))
        batch_op.drop_index("ix_relayed_message_user_sent")
    op.drop_table("relayed_message")
