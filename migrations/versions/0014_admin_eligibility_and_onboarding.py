"""administrators' eligibility (birth date, home address and town, payee) and the dated
onboarding checklist; administrators already there are taken as onboarded on the day of the
upgrade, so that no running office goes dark

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

from models.zone import STOCKHOLM

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKLIST = (
    "contract_signed",
    "training_completed",
    "record_checked",
    "locked_storage",
    "pc_two_usb",
    "internet_at_venue",
)


def upgrade() -> None:
    with op.batch_alter_table("admin", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birth_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("address", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("town", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("payee", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("org_number", sa.String(length=11), nullable=True))
        for item in CHECKLIST:
            batch_op.add_column(sa.Column(item, sa.Date(), nullable=True))
    # The administrators there are hand out cards today: they were onboarded outside this
    # service, so each item counts as done on the day of the upgrade. Their birth date,
    # address, town and payee stay empty until the network file is loaded again, which then
    # requires them.
    today = datetime.now(STOCKHOLM).date()
    admin = sa.table("admin", *(sa.column(item, sa.Date()) for item in CHECKLIST))
    op.execute(admin.update().values({item: today for item in CHECKLIST}))


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+ can): rebuilding the table, as batch mode would, is refused
    # while meetings, windows and absences point at its rows.
    with op.batch_alter_table("admin", schema=None, recreate="never") as batch_op:
        for item in reversed(CHECKLIST):
            batch_op.drop_column(item)
        batch_op.drop_column("org_number")
        batch_op.drop_column("payee")
        batch_op.drop_column("town")
        batch_op.drop_column("address")
        batch_op.drop_column("birth_date")
