"""A small network for the SMS chat's end-to-end tests and benchmark: Anna's office UPS1, open
weekday evenings, and card users whose cards are in custody there, each known by phone only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kortkontor.wiring import Services
from models.cards import CardStatus
from models.db import transaction
from models.network import get_admin_by_email, get_office_by_code
from models.network_file import read_network_toml, upsert_network
from tests.factories import PERSONNUMMER, add_card, card_user, network_toml, windows_toml

MARIA = "+46701112233"
ANNA = "anna@example.se"
WEEKDAY_EVENINGS = windows_toml(("mon", "tue", "wed", "thu", "fri"), "16:00", "19:00")


@dataclass(frozen=True, slots=True)
class Holder:
    """A card user to seed: the card's order reference, their name and phone."""

    order_ref: str
    given_name: str
    phone: str


MARIA_SE1 = Holder("SE-1", "Maria", MARIA)


@dataclass
class SmsWorld:
    """Ids of what the tests talk about."""

    admin_id: int
    office_id: int
    cards: dict[str, int] = field(default_factory=dict)  # order_ref → card id


def phone(n: int) -> str:
    """The n-th numbered card user's phone (benchmarks and load tests)."""
    return f"+4670{n:07d}"


async def seed_sms_world(
    services: Services,
    *,
    now: datetime,
    holders: Sequence[Holder] = (MARIA_SE1,),
    admin_telegram_user_id: int | None = None,
) -> SmsWorld:
    """UPS1 with Anna, and a card in custody since `now` for each holder (Maria's with her
    test personnummer); Anna linked to a Telegram user when one is given."""
    async with transaction(services.sessions) as session:
        network = network_toml(windows=WEEKDAY_EVENINGS, absences="[]")
        await upsert_network(session, read_network_toml(network))
        office = await get_office_by_code(session, code="UPS1")
        anna = await get_admin_by_email(session, email=ANNA)
        assert office is not None and office.id and anna is not None and anna.id
        if admin_telegram_user_id is not None:
            anna.telegram_user_id = admin_telegram_user_id
            session.add(anna)
        world = SmsWorld(admin_id=anna.id, office_id=office.id)
        for n, holder in enumerate(holders):
            number = PERSONNUMMER["maria"][0] if holder.order_ref == "SE-1" else None
            user = card_user(
                services.vault,
                personnummer=number,
                given_name=holder.given_name,
                phone=holder.phone,
                email=f"user{n}@example.se",
            )
            card = await add_card(
                session,
                services.vault,
                office,
                user=user,
                order_ref=holder.order_ref,
                status=CardStatus.in_custody,
                status_changed_at=now,
                in_custody_since=now,
            )
            assert card.id is not None
            world.cards[holder.order_ref] = card.id
        return world
