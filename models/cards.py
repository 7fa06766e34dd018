"""Card users and their cards (card orders)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Column, String
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.crypto import PersonnummerVault
from models.errors import DomainError, InvalidInput, Terms
from models.i18n import N_, translate
from models.types import UTCDateTime, utcnow


class CardStatus(StrEnum):
    """Where a card is in its life; see models.lifecycle for the moves between them."""

    ordered = "ordered"
    shipped = "shipped"
    notified = "notified"
    in_custody = "in_custody"
    booked = "booked"
    in_transfer = "in_transfer"  # handed to another administrator, not yet confirmed by them
    handed_out = "handed_out"
    returned = "returned"
    revoked = "revoked"


# What people read for each status (the sv catalog: beställt, skickat, avi mottagen, i förvaring,
# bokat, utlämnat, returnerat, spärrat); the values above are the contract's names.
CARD_STATUS_NAMES: dict[CardStatus, str] = {
    CardStatus.ordered: N_("ordered"),
    CardStatus.shipped: N_("shipped"),
    CardStatus.notified: N_("notice received"),
    CardStatus.in_custody: N_("in custody"),
    CardStatus.booked: N_("booked"),
    CardStatus.in_transfer: N_("in transfer"),
    CardStatus.handed_out: N_("handed out"),
    CardStatus.returned: N_("returned"),
    CardStatus.revoked: N_("revoked"),
}


def card_status_named(raw: str, *, field: str = "status") -> CardStatus:
    """The status a contract name (`shipped`) or its Swedish name (`skickat`) stands for."""
    wanted = " ".join(raw.split()).casefold()
    for status, name in CARD_STATUS_NAMES.items():
        if wanted in (status.value, translate(name, "sv").casefold()):
            return status
    raise InvalidInput(
        field, N_("must be one of: {allowed}"), allowed=Terms(CARD_STATUS_NAMES.values())
    )


class CardUser(SQLModel, table=True):
    """A kortanvändare. The personnummer is stored only encrypted, found by its HMAC."""

    __tablename__ = "card_user"

    id: int | None = Field(default=None, primary_key=True)
    given_name: str = Field(max_length=100)
    family_name: str = Field(max_length=100)
    personnummer_encrypted: str = Field(max_length=500)
    personnummer_hmac: str = Field(max_length=64, unique=True)
    phone: str = Field(max_length=20, index=True)
    email: str = Field(max_length=320)
    # Telegram ids outgrow 32 bits.
    telegram_user_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, unique=True, nullable=True)
    )
    locale: str = Field(default="sv", max_length=5)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Card(SQLModel, table=True):
    """One SITHS card order, identified by the issuer's order reference."""

    id: int | None = Field(default=None, primary_key=True)
    order_ref: str = Field(max_length=50, unique=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    card_user_id: int = Field(foreign_key="card_user.id", index=True)
    status: CardStatus = Field(
        default=CardStatus.ordered, sa_column=Column(String(20), nullable=False, index=True)
    )
    ordered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The number printed on the card, when the order carries it: the handout checks its last
    # four digits, so that the wrong card from the drawer is never handed out.
    card_number: str | None = Field(default=None, max_length=20)
    # When the admin picked the REK up; the age of the card in custody, booked or not.
    in_custody_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The administrator who keeps the card (who picked it up, or last confirmed receiving it),
    # and while it is in_transfer the one it is handed to (scheduler.handover).
    custodian_admin_id: int | None = Field(default=None, foreign_key="admin.id", index=True)
    transfer_to_admin_id: int | None = Field(default=None, foreign_key="admin.id", index=True)


async def get_card_by_order_ref(session: AsyncSession, *, order_ref: str) -> Card | None:
    """The card with this order reference."""
    result = await session.exec(select(Card).where(Card.order_ref == order_ref))
    return result.one_or_none()


async def get_card_user_by_hmac(
    session: AsyncSession, *, personnummer_hmacs: Sequence[str]
) -> CardUser | None:
    """The card user whose personnummer has one of these fingerprints (under the current key,
    or an old one while keys are rotated)."""
    result = await session.exec(
        select(CardUser).where(col(CardUser.personnummer_hmac).in_(list(personnummer_hmacs)))
    )
    return result.first()


class UnreadablePersonnummer(DomainError):
    """Stored personnummer that none of the given keys decrypts."""


async def rotate_personnummer(session: AsyncSession, vault: PersonnummerVault) -> int:
    """Write every personnummer still under an old key anew under the current one, with its
    fingerprint; returns how many. All or nothing: UnreadablePersonnummer when a row cannot be
    decrypted with any key given (its old key is missing), before anything is written."""
    users = (await session.exec(select(CardUser).order_by(col(CardUser.id)))).all()
    stale = [user for user in users if not vault.is_current(user.personnummer_encrypted)]
    read = [(user, vault.readable(user.personnummer_encrypted)) for user in stale]
    numbers = [(user, number) for user, number in read if number is not None]
    unreadable = len(read) - len(numbers)
    if unreadable:
        raise UnreadablePersonnummer(
            N_(
                "{count} stored personnummer cannot be decrypted with the keys given: put the "
                "old key in KORTKONTOR_OLD_SECRET_KEYS. Nothing was written."
            ),
            count=unreadable,
        )
    for user, number in numbers:
        user.personnummer_encrypted = vault.encrypt(number)
        user.personnummer_hmac = vault.lookup_key(number)
        session.add(user)
    return len(numbers)
