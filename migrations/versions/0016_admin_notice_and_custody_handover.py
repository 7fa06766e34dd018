"""the notice per administrator (the day given, the notice month's last day); an office's notice
from before becomes the notice of each of its administrators, and the office column stays: it
now marks an office whose every administrator has given notice

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-04 09:00:00.000000
"""

import calendar
from collections.abc import Sequence
from datetime import date

import sqlalchemy as sa
from alembic import op

import models.types
from models.zone import STOCKHOLM

revision: str = "0016"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _month_after(day: date) -> date:
    # models.admins.one_month_after as of this revision, kept here so that the migration
    # never changes with the code.
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def upgrade() -> None:
    with op.batch_alter_table("admin", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_given_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("notice_ends_on", sa.Date(), nullable=True))
    office = sa.table(
        "office",
        sa.column("id", sa.Integer()),
        sa.column("notice_given_at", models.types.UTCDateTime(timezone=True)),
    )
    admin = sa.table(
        "admin",
        sa.column("office_id", sa.Integer()),
        sa.column("notice_given_on", sa.Date()),
        sa.column("notice_ends_on", sa.Date()),
    )
    connection = op.get_bind()
    given = connection.execute(
        sa.select(office.c.id, office.c.notice_given_at).where(
            office.c.notice_given_at.is_not(None)
        )
    ).all()
    for office_id, moment in given:
        day = moment.astimezone(STOCKHOLM).date()
        connection.execute(
            admin.update()
            .where(admin.c.office_id == office_id)
            .values(notice_given_on=day, notice_ends_on=_month_after(day))
        )


def downgrade() -> None:
    with op.batch_alter_table("admin", schema=None) as batch_op:
        batch_op.drop_column("notice_ends_on")
        batch_op.drop_column("notice_given_on")
