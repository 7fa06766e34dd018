"""Meetings between a card user and an admin, where the card is handed out."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ColumnElement, Index, String, and_, or_, text
from sqlmodel import Field, SQLModel, col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cards import Card, CardUser, UnreadablePersonnummer
from models.crypto import PersonnummerVault
from models.i18n import N_
from models.types import UTCDateTime, utcnow


class MeetingStatus(StrEnum):
    """requested → confirmed → handed_out | failed, besides declined, cancelled, expired."""

    requested = "requested"
    confirmed = "confirmed"
    handed_out = "handed_out"
    failed = "failed"
    declined = "declined"
    cancelled = "cancelled"
    expired = "expired"


ACTIVE_MEETING_STATUSES = (MeetingStatus.requested, MeetingStatus.confirmed)
# A card's standing meeting is its confirmed one, or its request when none is confirmed. A move
# of a confirmed meeting waits as a request that replaces it (replaces_meeting_id): both times
# stay blocked, and the confirmed one stands until the admin confirms the new one.
STANDING_SQL = "status = 'confirmed' OR (status = 'requested' AND replaces_meeting_id IS NULL)"
PENDING_MOVE_SQL = "status = 'requested' AND replaces_meeting_id IS NOT NULL"

# A meeting is also an «utlämningstid»: the words agree with «tid».
MEETING_STATUS_NAMES: dict[MeetingStatus, str] = {
    MeetingStatus.requested: N_("requested, awaiting confirmation"),
    MeetingStatus.confirmed: N_("confirmed"),
    MeetingStatus.handed_out: N_("card handed out"),
    MeetingStatus.failed: N_("card not handed out"),
    MeetingStatus.declined: N_("declined by the administrator"),
    MeetingStatus.cancelled: N_("cancelled"),
    MeetingStatus.expired: N_("expired without an answer"),
}


class FailureReason(StrEnum):
    """Why a card was not handed out at a meeting."""

    no_valid_id = "no_valid_id"
    wrong_person = "wrong_person"
    no_pin_letter = "no_pin_letter"
    no_show = "no_show"
    other = "other"


# By default every failure makes the next meeting an extra one: another meeting is then needed
# to hand the card out (the tariffs may narrow this, see models.payouts.Tariffs).
ALL_FAILURE_REASONS = frozenset(FailureReason)


class IdCheck(StrEnum):
    """The steps of the identity check at a handout; a «Nej» to one ends it, and the meeting
    keeps which one failed."""

    document = "document"  # an accepted kind of ID document
    physical = "physical"  # a physical document, not a digital ID
    not_expired = "not_expired"
    undamaged = "undamaged"
    photo = "photo"  # the person matches the photo
    pin_letter = "pin_letter"


# What a «Nej» to each step means for the meeting.
ID_CHECK_FAILURES: dict[IdCheck, FailureReason] = {
    IdCheck.document: FailureReason.no_valid_id,
    IdCheck.physical: FailureReason.no_valid_id,
    IdCheck.not_expired: FailureReason.no_valid_id,
    IdCheck.undamaged: FailureReason.no_valid_id,
    IdCheck.photo: FailureReason.wrong_person,
    IdCheck.pin_letter: FailureReason.no_pin_letter,
}


class IdDocument(StrEnum):
    """The accepted physical ID documents for a level-3 card, and «annan» for any other."""

    passport = "passport"
    national_id_card = "national_id_card"
    tax_agency_id_card = "tax_agency_id_card"
    sis_id_card = "sis_id_card"
    driving_licence = "driving_licence"
    other = "other"


class Meeting(SQLModel, table=True):
    """A booked time; venue_id None means home delivery, to the card user's address (stored
    encrypted: personal data, shown only to the meeting's admin)."""

    __table_args__ = (
        # One standing meeting per card, and at most one pending move, kept by the database.
        Index(
            "uq_meeting_active_card",
            "card_id",
            unique=True,
            sqlite_where=text(STANDING_SQL),
            postgresql_where=text(STANDING_SQL),
        ),
        Index(
            "uq_meeting_pending_move",
            "card_id",
            unique=True,
            sqlite_where=text(PENDING_MOVE_SQL),
            postgresql_where=text(PENDING_MOVE_SQL),
        ),
        Index("ix_meeting_admin_starts", "admin_id", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="card.id", index=True)
    admin_id: int = Field(foreign_key="admin.id")
    venue_id: int | None = Field(default=None, foreign_key="venue.id")
    # Encrypted (models.crypto); models.validation keeps an address short enough to fit.
    home_address_encrypted: str | None = Field(
        default=None, sa_column=Column("home_address", String(300))
    )
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    status: MeetingStatus = Field(
        default=MeetingStatus.requested, sa_column=Column(String(20), nullable=False, index=True)
    )
    failure_reason: FailureReason | None = Field(default=None, sa_column=Column(String(20)))
    id_document: IdDocument | None = Field(default=None, sa_column=Column(String(30)))
    # The step of the identity check that got a «Nej», when one did.
    failed_check: IdCheck | None = Field(default=None, sa_column=Column(String(20)))
    # Whether the last four digits printed on the card were checked against the order (only
    # possible when the order carries the card's number).
    card_number_checked: bool = False
    # True when an earlier meeting for this card failed for a reason that pays a further one.
    is_extra: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set on a request to move a confirmed meeting; it keeps naming that meeting once confirmed.
    replaces_meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    # The time the admin proposed when declining this request (a Slot's fields).
    proposed_admin_id: int | None = Field(default=None, foreign_key="admin.id")
    proposed_venue_id: int | None = Field(default=None, foreign_key="venue.id")
    proposed_starts_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    proposed_ends_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the card user answered the day-before reminder «JA, jag kommer».
    attendance_confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def standing() -> ColumnElement[bool]:
    """Meetings that stand: confirmed, or requested without replacing a confirmed one."""
    return or_(
        col(Meeting.status) == MeetingStatus.confirmed,
        and_(
            col(Meeting.status) == MeetingStatus.requested,
            col(Meeting.replaces_meeting_id).is_(None),
        ),
    )


def pending_move() -> ColumnElement[bool]:
    """Requests to move a confirmed meeting, waiting for the admin."""
    return and_(
        col(Meeting.status) == MeetingStatus.requested,
        col(Meeting.replaces_meeting_id).is_not(None),
    )


async def agenda(
    session: AsyncSession,
    *,
    admin_id: int,
    start: datetime,
    end: datetime,
    statuses: Collection[MeetingStatus] = ACTIVE_MEETING_STATUSES,
) -> Sequence[tuple[Meeting, Card, CardUser]]:
    """An admin's meetings starting in [start, end), in time order, with card and holder."""
    query = (
        select(Meeting, Card, CardUser)
        .join(Card, col(Card.id) == Meeting.card_id)
        .join(CardUser, col(CardUser.id) == Card.card_user_id)
        .where(
            Meeting.admin_id == admin_id,
            col(Meeting.status).in_(list(statuses)),
            col(Meeting.starts_at) >= start,
            col(Meeting.starts_at) < end,
        )
        .order_by(col(Meeting.starts_at))
    )
    return (await session.exec(query)).all()


async def tally(session: AsyncSession) -> dict[tuple[MeetingStatus, FailureReason | None], int]:
    """How many meetings there are of each status (and, for failed ones, of each reason)."""
    query = select(Meeting.status, Meeting.failure_reason, func.count()).group_by(
        col(Meeting.status), col(Meeting.failure_reason)
    )
    return {
        (MeetingStatus(status), FailureReason(reason) if reason else None): count
        for status, reason, count in (await session.exec(query)).all()
    }


async def rotate_home_addresses(session: AsyncSession, vault: PersonnummerVault) -> int:
    """Write every home-delivery address still under an old key anew under the current one;
    returns how many. All or nothing, as for personnummer (models.cards)."""
    query = select(Meeting).where(col(Meeting.home_address_encrypted).is_not(None))
    meetings = (await session.exec(query.order_by(col(Meeting.id)))).all()
    stale = [m for m in meetings if not vault.is_current(str(m.home_address_encrypted))]
    read = [(m, vault.readable(str(m.home_address_encrypted))) for m in stale]
    if any(address is None for _, address in read):
        raise UnreadablePersonnummer(
            N_(
                "{count} stored home-delivery addresses cannot be decrypted with the keys given: "
                "put the old key in KORTKONTOR_OLD_SECRET_KEYS. Nothing was written."
            ),
            count=sum(1 for _, address in read if address is None),
        )
    for meeting, address in read:
        meeting.home_address_encrypted = vault.encrypt(str(address))
        session.add(meeting)
    return len(read)
