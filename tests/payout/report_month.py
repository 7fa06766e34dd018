"""November 2026 for the issuer's report, through real meetings, with its figures by hand.

The month is over (the tests run after it), so its report is final: cards in custody are
counted at its end, midnight on 1 December in Stockholm (23:00 UTC on 30 November).

UPS1 (Anna):
- SE-11, picked up 2 Nov: fails for want of a valid ID on Tue 3 Nov (not confirmed); the extra
  meeting on Wed 4 Nov (attendance confirmed) ends in a handout.
- SE-12, picked up 10 Nov 09:00: attendance confirmed, no-show on Mon 16 Nov; booked again for
  Fri 27 Nov, handed out at 00:30 on 1 December (December's): at the month's end booked, 20 days.
- SE-13, picked up 28 Nov: 2 days. SE-1 (Maria, the world's): picked up 30 Nov, 0 days.
GBG1 (Bo):
- SE-21, picked up 20 Oct: handed out at the meeting on Fri 30 Oct, recorded at 00:30 on
  1 November (November's), not confirmed.
- SE-22, picked up 23:30 on 31 Oct: 30 days at the month's end, stuck.
- SE-23, picked up 1 Nov 09:00: wrong person at 23:30 on 30 Nov (not confirmed); 29 days.
- SE-3 (Lena, the world's): picked up 30 Nov, 0 days.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from kortkontor.wiring import Services
from models.cards import Card, CardStatus
from models.db import transaction
from models.lifecycle import Role, transition_card
from models.meetings import FailureReason, IdDocument, Meeting
from models.orders import read_orders_csv
from scheduler import booking, outcomes
from scheduler.cards import import_orders
from tests.bot.world import World, build_world
from tests.factories import csv_row, fresh_personnummer, orders_csv
from tests.payout.helpers import TARIFFS, meeting

MONTH = "2026-11"


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def picked_up(services: Services, world: World, ref: str, office: str, at: datetime) -> None:
    """A new card user's card at the office, shipped and picked up at `at`."""
    row = csv_row(
        order_ref=ref,
        office_code=office,
        given_name="Kim",
        family_name=ref,
        personnummer=fresh_personnummer(),
        phone="0704445566",
        email=f"{ref.lower()}@example.se",
    )
    async with transaction(services.sessions) as session:
        await import_orders(session, read_orders_csv(orders_csv(row)), vault=services.vault)
        card = (await session.exec(select(Card).where(Card.order_ref == ref))).one()
        assert card.id is not None
        for status, role in (
            (CardStatus.shipped, Role.operator),
            (CardStatus.in_custody, Role.admin),
        ):
            await transition_card(session, card, status, role=role, actor_id=None, now=at)
        world.cards[ref] = card.id
        world.users[ref] = card.card_user_id


async def held(
    services: Services,
    world: World,
    ref: str,
    *,
    booked_at: datetime,
    recorded_at: datetime | None = None,
    reason: FailureReason | None = None,
    confirmed: bool = False,
) -> None:
    """A meeting that took place: handed out, or failed for `reason`."""
    meeting_id = await meeting(services, world, ref, booked_at=booked_at)
    async with transaction(services.sessions) as session:
        booked = await session.get(Meeting, meeting_id)
        assert booked is not None
        if confirmed:
            await booking.confirm_attendance(
                session,
                booked,
                card_user_id=world.users[ref],
                now=booked.starts_at - timedelta(hours=20),
            )
        moment = recorded_at or booked.starts_at + timedelta(minutes=15)
        if reason is None:
            await outcomes.record_handout(
                session,
                admin_id=booked.admin_id,
                meeting_id=meeting_id,
                document=IdDocument.passport,
                tariffs=TARIFFS,
                now=moment,
            )
        else:
            await outcomes.record_failure(
                session,
                admin_id=booked.admin_id,
                meeting_id=meeting_id,
                reason=reason,
                tariffs=TARIFFS,
                now=moment,
            )


async def build_november(services: Services) -> World:
    """The month above."""
    world = await build_world(services)
    world.cards["SE-1"], world.users["SE-1"] = world.cards["maria"], world.users["maria"]
    for ref, office, at in (
        ("SE-11", "UPS1", utc(11, 2, 8)),
        ("SE-12", "UPS1", utc(11, 10, 8)),
        ("SE-13", "UPS1", utc(11, 28, 8)),
        ("SE-21", "GBG1", utc(10, 20, 8)),
        ("SE-22", "GBG1", utc(10, 31, 22, 30)),
        ("SE-23", "GBG1", utc(11, 1, 8)),
    ):
        await picked_up(services, world, ref, office, at)
    await held(services, world, "SE-11", booked_at=utc(11, 3, 8), reason=FailureReason.no_valid_id)
    await held(services, world, "SE-11", booked_at=utc(11, 4, 8), confirmed=True)
    await held(
        services,
        world,
        "SE-12",
        booked_at=utc(11, 16, 8),
        reason=FailureReason.no_show,
        confirmed=True,
    )
    await held(services, world, "SE-12", booked_at=utc(11, 27, 8), recorded_at=utc(11, 30, 23, 30))
    await held(services, world, "SE-21", booked_at=utc(10, 30, 8), recorded_at=utc(10, 31, 23, 30))
    await held(
        services,
        world,
        "SE-23",
        booked_at=utc(11, 30, 8),
        recorded_at=utc(11, 30, 22, 30),
        reason=FailureReason.wrong_person,
    )
    return world


HEADER = (
    "month,office_code,office_name,handouts,failed_no_valid_id,failed_wrong_person,"
    "failed_no_pin_letter,failed_no_show,failed_other,failed_total,extra_meetings,"
    "attendance_confirmed,attendance_not_confirmed,in_custody_0_7_days,in_custody_8_14_days,"
    "in_custody_15_29_days,in_custody_30_plus_days,stuck_30_days,stuck_order_refs\n"
)
# The rows by hand: handouts; failed for no valid ID, wrong person, no PIN letter, no-show,
# other, and in all; extra meetings; attendance confirmed and not; in custody 0–7, 8–14, 15–29
# and 30+ days; stuck, and their order references. (Both test offices are named alike.)
EXPECTED_CSV = (
    HEADER
    + "2026-11,GBG1,Uppsala centrum,1,0,1,0,0,0,1,0,0,2,1,0,1,1,1,SE-22\n"
    + "2026-11,UPS1,Uppsala centrum,1,1,0,0,1,0,2,1,2,1,2,0,1,0,0,\n"
)
