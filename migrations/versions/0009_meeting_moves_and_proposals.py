"""meeting moves wait beside the confirmed time; the admin's proposed time lives on the meeting

A move of a confirmed meeting is a request with replaces_meeting_id: the card keeps one standing
meeting (uq_meeting_active_card, now excluding pending moves) and at most one pending move
(uq_meeting_pending_move). A declined request's proposed time moves from the outbox payload of
its `time_proposed` notification into proposed_* columns; existing proposals are copied over.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00.000000
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from alembic.operations import BatchOperations

import models.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('requested', 'confirmed')"
STANDING = "status = 'confirmed' OR (status = 'requested' AND replaces_meeting_id IS NULL)"
PENDING_MOVE = "status = 'requested' AND replaces_meeting_id IS NOT NULL"
PROPOSED_TIMES = ("proposed_starts_at", "proposed_ends_at")


def _card_index(batch_op: BatchOperations, name: str, where: str) -> None:
    batch_op.create_index(
        name,
        ["card_id"],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    # Columns with inline REFERENCES: SQLite adds them without copying the table.
    for name, target in (
        ("replaces_meeting_id", "meeting.id"),
        ("proposed_admin_id", "admin.id"),
        ("proposed_venue_id", "venue.id"),
    ):
        op.add_column(
            "meeting",
            sa.Column(name, sa.Integer(), sa.ForeignKey(target), nullable=True),
            inline_references=True,
        )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        for name in PROPOSED_TIMES:
            batch_op.add_column(
                sa.Column(name, models.types.UTCDateTime(timezone=True), nullable=True)
            )
        batch_op.drop_index("uq_meeting_active_card")
        _card_index(batch_op, "uq_meeting_active_card", STANDING)
        _card_index(batch_op, "uq_meeting_pending_move", PENDING_MOVE)
    _copy_proposals()


def _copy_proposals() -> None:
    """Proposals made before this revision: from their notification's payload to the meeting."""
    notification = sa.table(
        "notification",
        sa.column("meeting_id", sa.Integer()),
        sa.column("template", sa.String()),
        sa.column("payload", sa.JSON()),
    )
    meeting = sa.table(
        "meeting",
        sa.column("id", sa.Integer()),
        sa.column("proposed_admin_id", sa.Integer()),
        sa.column("proposed_venue_id", sa.Integer()),
        *(sa.column(name, models.types.UTCDateTime(timezone=True)) for name in PROPOSED_TIMES),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(notification.c.meeting_id, notification.c.payload).where(
            notification.c.template == "time_proposed", notification.c.meeting_id.is_not(None)
        )
    ).all()
    proposals = {meeting_id: payload["proposal"] for meeting_id, payload in rows}
    for meeting_id, proposal in proposals.items():
        bind.execute(
            meeting.update()
            .where(meeting.c.id == meeting_id)
            .values(
                proposed_admin_id=int(proposal["admin_id"]),
                proposed_venue_id=proposal.get("venue_id"),
                proposed_starts_at=datetime.fromisoformat(proposal["starts_at"]),
                proposed_ends_at=datetime.fromisoformat(proposal["ends_at"]),
            )
        )


def downgrade() -> None:
    # Pending moves would break the old one-active-meeting index: they are cancelled first.
    op.execute(f"UPDATE meeting SET status = 'cancelled' WHERE {PENDING_MOVE}")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index("uq_meeting_pending_move")
        batch_op.drop_index("uq_meeting_active_card")
        _card_index(batch_op, "uq_meeting_active_card", ACTIVE)
        for name in (
            *PROPOSED_TIMES,
            "proposed_venue_id",
            "proposed_admin_id",
            "replaces_meeting_id",
        ):
            batch_op.drop_column(name)
