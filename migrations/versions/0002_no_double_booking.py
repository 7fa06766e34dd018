"""No double booking on PostgreSQL: an exclusion constraint per admin over active meetings.

SQLite has no such constraint; there the booking service checks for overlap inside an
IMMEDIATE transaction, which makes it the only writer.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONSTRAINT = "ex_meeting_admin_overlap"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.execute(
        f"ALTER TABLE meeting ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist "
        "(admin_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        "WHERE (status IN ('requested', 'confirmed'))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE meeting DROP CONSTRAINT IF EXISTS {CONSTRAINT}")
