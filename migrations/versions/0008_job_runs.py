"""job runs, for kortkontor status

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("job_id", sa.String(length=50), nullable=False),
        sa.Column("scheduled_since", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_run_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_ok_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("job_id"),
    )


def downgrade() -> None:
    op.drop_table("job_run")
