"""a locked statement keeps how its administrator was paid (payee and organisation number), so
that exporting the month again later shows the same, whatever the network file says by then

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 22:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
# On merging: point this at the migration before it on main (0016, say).
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Statements locked before this migration keep NULL: they show the administrator's payee as
    # it is now, as they did before.
    with op.batch_alter_table("payout_statement", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payee", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("org_number", sa.String(length=11), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payout_statement", schema=None) as batch_op:
        batch_op.drop_column("org_number")
        batch_op.drop_column("payee")
