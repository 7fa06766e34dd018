"""the notice per administrator (the day given, the notice month's last day); an office's notice
from before becomes the notice of each of its administrators, and the office column stays: it
now marks an office whose every administrator has given notice

Revision ID: 0016
Revises: 0015
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
down_revision: str | None = "0015"
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
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.add_column(sa.Column("custodian_admin_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("transfer_to_admin_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_card_custodian_admin_id"), ["custodian_admin_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_card_transfer_to_admin_id"), ["transfer_to_admin_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_card_custodian_admin_id_admin", "admin", ["custodian_admin_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_card_transfer_to_admin_id_admin", "admin", ["transfer_to_admin_id"], ["id"]
        )
    # Who keeps the cards there are was not recorded: at an office with one administrator it
    # is them; elsewhere it stays open (the office's) until a pickup or a hand-over.
    op.execute(
        "UPDATE card SET custodian_admin_id = (SELECT MIN(admin.id) FROM admin"
        " WHERE admin.office_id = card.office_id)"
        " WHERE status IN ('in_custody', 'booked')"
        " AND (SELECT COUNT(*) FROM admin WHERE admin.office_id = card.office_id) = 1"
    )
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
    with op.batch_alter_table("card", schema=None) as batch_op:
        batch_op.drop_constraint("fk_card_transfer_to_admin_id_admin", type_="foreignkey")
        batch_op.drop_constraint("fk_card_custodian_admin_id_admin", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_card_transfer_to_admin_id"))
        batch_op.drop_index(batch_op.f("ix_card_custodian_admin_id"))
        batch_op.drop_column("transfer_to_admin_id")
        batch_op.drop_column("custodian_admin_id")
    with op.batch_alter_table("admin", schema=None) as batch_op:
        batch_op.drop_column("notice_ends_on")
        batch_op.drop_column("notice_given_on")
