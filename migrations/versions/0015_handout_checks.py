"""the handout as the issuer's routine: the card's number, the failed identity-check step,
and whether the card number was checked

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_number", sa.String(length=20), nullable=True))
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_check", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("card_number_checked", sa.Boolean(), nullable=False, server_default="0")
        )
    # meeting.home_address now holds the address encrypted (models.meetings); home delivery
    # could not be booked before, so no plain address is left to encrypt.


def downgrade() -> None:
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("card_number_checked")
        batch_op.drop_column("failed_check")
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_column("card_number")
