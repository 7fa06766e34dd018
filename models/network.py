"""Offices, their venues and admins, and the admins' declared availability."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import BigInteger, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.types import UTCDateTime, utcnow


class VenueKind(StrEnum):
    """Where a handout may take place; the admin's home never is one."""

    cafe = "cafe"
    hotel_lobby = "hotel_lobby"
    workplace = "workplace"
    other = "other"


class Payee(StrEnum):
    """Who is paid for an administrator's handouts."""

    frilansfinans = "frilansfinans"  # salary through the payroll service
    company = "company"  # an invoice from the administrator's own company (F-skatt)


# The onboarding checklist, in the order it is shown; each is a dated column on Admin, and the
# same key in the network file's [office.admin.onboarding].
ONBOARDING_ITEMS = (
    "contract_signed",
    "training_completed",
    "record_checked",
    "locked_storage",
    "pc_two_usb",
    "internet_at_venue",
)


class Office(SQLModel, table=True):
    """A kortutlämningskontor."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=200)
    city: str = Field(max_length=100, index=True)
    slot_minutes: int = 15
    buffer_minutes: int = 0
    min_notice_hours: int = 2
    horizon_days: int = 28
    # Set when the last of its administrators gives notice (models.admins.give_notice): the
    # office then closes with them. The notice itself is each administrator's.
    notice_given_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Venue(SQLModel, table=True):
    """A place where an office meets card users."""

    __table_args__ = (UniqueConstraint("office_id", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    key: str = Field(max_length=50)
    name: str = Field(max_length=200)
    address: str = Field(max_length=300)
    kind: VenueKind = Field(sa_column=Column(String(20), nullable=False))


class Admin(SQLModel, table=True):
    """An ID-administratör, identified by e-mail."""

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(max_length=200)
    phone: str = Field(max_length=20)
    home_delivery: bool = False
    auto_confirm: bool = False
    # Telegram ids outgrow 32 bits.
    telegram_user_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, unique=True, nullable=True)
    )
    locale: str = Field(default="sv", max_length=5)
    # Eligibility, checked at `network load`. Empty only on rows made before these were
    # recorded (migration 0014); the next load of the network file fills them.
    birth_date: date | None = None
    address: str | None = Field(default=None, max_length=300)
    town: str | None = Field(default=None, max_length=100)
    payee: Payee | None = Field(default=None, sa_column=Column(String(20), nullable=True))
    org_number: str | None = Field(default=None, max_length=11)  # NNNNNN-NNNN, company only
    # The onboarding checklist (ONBOARDING_ITEMS): the day each item was done, or None. The
    # six months' commitment counts from contract_signed.
    contract_signed: date | None = None
    training_completed: date | None = None
    record_checked: date | None = None
    locked_storage: date | None = None
    pc_two_usb: date | None = None
    internet_at_venue: date | None = None
    # The notice (either side gives it): the Stockholm day it was given, and the last day of
    # the notice month; ended from the day after (models.admins).
    notice_given_on: date | None = None
    notice_ends_on: date | None = None

    @property
    def first_name(self) -> str:
        """What card users see of the admin."""
        return self.name.split()[0]


class AvailabilityWindow(SQLModel, table=True):
    """A weekly window: a weekday (0 = Monday), local start and end, at a venue."""

    __tablename__ = "availability_window"

    id: int | None = Field(default=None, primary_key=True)
    admin_id: int = Field(foreign_key="admin.id", index=True)
    weekday: int
    start: time
    end: time
    venue_id: int = Field(foreign_key="venue.id")


class Absence(SQLModel, table=True):
    """Days an admin is away, both ends included."""

    id: int | None = Field(default=None, primary_key=True)
    admin_id: int = Field(foreign_key="admin.id", index=True)
    first_day: date
    last_day: date


async def get_office_by_code(session: AsyncSession, *, code: str) -> Office | None:
    """The office with this code."""
    result = await session.exec(select(Office).where(Office.code == code))
    return result.one_or_none()


async def get_admin_by_email(session: AsyncSession, *, email: str) -> Admin | None:
    """The admin with this e-mail."""
    result = await session.exec(select(Admin).where(Admin.email == email))
    return result.one_or_none()
