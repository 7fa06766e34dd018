"""Only an active administrator is offered to card users: one still onboarding at the same
office has windows, but their times are never offered until the checklist is done."""

from __future__ import annotations

from datetime import date, time

from sqlmodel import select

from kortkontor.wiring import Services
from models.db import transaction
from models.network import Admin, Venue, get_office_by_code
from tests.bot.world import Chat, Clock, World, linked_card_user
from tests.factories import NOT_ONBOARDED, ONBOARDED, add, admin, window

MARIA_TG = 5101


async def _erik_mornings(services: Services) -> int:
    """Erik at UPS1, weekday mornings at the café, with half his checklist done."""
    async with transaction(services.sessions) as session:
        office = await get_office_by_code(session, code="UPS1")
        assert office is not None and office.id is not None
        venue = (await session.exec(select(Venue).where(Venue.office_id == office.id))).first()
        assert venue is not None and venue.id is not None
        erik = await add(
            session,
            admin(
                office,
                email="erik@example.se",
                name="Erik Lind",
                phone="+46702345678",
                **NOT_ONBOARDED | {"contract_signed": date(2026, 11, 1)},
            ),
        )
        for weekday in range(5):
            await add(session, window(erik, venue, weekday, time(8), time(10)))
        assert erik.id is not None
        return erik.id


def _offers(chat: Chat) -> list[str]:
    return [label for label in chat.labels() if "kl." in label]


async def test_an_onboarding_administrator_is_not_offered_until_every_item_is_done(
    services: Services, world: World, clock: Clock
) -> None:
    erik_id = await _erik_mornings(services)
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await chat.press("Boka")
    await chat.send("tisdag förmiddag")
    assert not any("kl. 08" in label or "kl. 09" in label for label in _offers(chat)), chat.text
    assert "Erik" not in chat.text

    async with transaction(services.sessions) as session:
        erik = await session.get(Admin, erik_id)
        assert erik is not None
        for item, day in ONBOARDED.items():
            setattr(erik, item, day)
        session.add(erik)
    await chat.send("/boka")
    await chat.send("tisdag förmiddag")
    assert "tisdag 1 december kl. 08:00 · Café Linné" in _offers(chat), chat.text
