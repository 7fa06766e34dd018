"""The custody hand-over in the administrators' chats: Anna gives notice, hands her card to
Cecilia at the same office, and only Cecilia can confirm it (forged buttons included)."""

from __future__ import annotations

from sqlmodel import col, select

from kortkontor.wiring import Services
from models.audit import AuditEvent
from models.cards import Card, CardStatus
from models.db import transaction
from models.invites import InvitePurpose, issue_invite
from tests import factories
from tests.bot.test_admin_flow import admin_chat
from tests.bot.world import Chat, Clock, World
from tests.bot.world import new_dialogue as dialogue_on

ANNA_TG, CECILIA_TG, BO_TG = 9301, 9302, 9303


async def _card(services: Services, card_id: int) -> Card:
    async with services.sessions() as session:
        card = await session.get(Card, card_id)
    assert card is not None
    return card


async def _setup(services: Services, clock: Clock, world: World) -> tuple[Chat, Chat, Chat, int]:
    """Cecilia joins UPS1; Anna keeps SE-1 (Maria's card); everyone's chat is linked."""
    async with transaction(services.sessions) as session:
        anna_card = await session.get(Card, world.cards["maria"])
        assert anna_card is not None
        anna_card.custodian_admin_id = world.admin_id
        session.add(anna_card)
        cecilia = await factories.add(
            session,
            factories.admin(anna_card.office_id, email="cecilia@example.se", name="Cecilia Berg"),
        )
        token = await issue_invite(
            session, purpose=InvitePurpose.admin, admin_id=world.other_admin_id
        )
    assert cecilia.id is not None
    anna = await admin_chat(services, clock, world.admin_id, ANNA_TG)
    cecilia_chat = await admin_chat(services, clock, cecilia.id, CECILIA_TG)
    bo = Chat(dialogue_on(services, clock), BO_TG)
    await bo.send(f"/start {token}")
    return anna, cecilia_chat, bo, cecilia.id


async def test_a_transfer_confirmed_by_the_receiver_only(
    services: Services, world: World, clock: Clock
) -> None:
    anna, cecilia, bo, cecilia_id = await _setup(services, clock, world)
    se1 = world.cards["maria"]
    await anna.send("/kort")
    assert "lämna varje kort" not in anna.text  # no notice yet: nothing to hand over
    await anna.send("/tider")
    await anna.press("Säg upp dig")
    await anna.press("Ja, säg upp mig")
    await anna.send("/kort")
    assert "Du har sagt upp dig: lämna varje kort du förvarar till en kollega" in anna.text
    hand = anna.button("SE-1 → Cecilia")
    # Someone else pressing Anna's button (forged data) moves nothing.
    await cecilia.press_data(hand)
    await bo.press_data(hand)
    assert (await _card(services, se1)).status == CardStatus.in_custody
    await anna.press("SE-1 → Cecilia")
    assert "SE-1 är under överlämning tills din kollega bekräftar" in anna.text
    card = await _card(services, se1)
    assert (card.status, card.transfer_to_admin_id) == (CardStatus.in_transfer, cecilia_id)

    await cecilia.send("/kort")
    assert "Överlämnat till dig; tryck när du har kortet:" in cecilia.text
    received = cecilia.button("Mottaget: SE-1")
    # Neither Bo (another office) nor Anna can confirm it with Cecilia's button.
    await bo.press_data(received)
    await anna.press_data(received)
    assert (await _card(services, se1)).status == CardStatus.in_transfer
    await cecilia.press("Mottaget: SE-1")
    assert "SE-1 finns nu i din förvaring." in cecilia.text
    card = await _card(services, se1)
    assert (card.status, card.custodian_admin_id, card.transfer_to_admin_id) == (
        CardStatus.in_custody,
        cecilia_id,
        None,
    )
    async with services.sessions() as session:
        trail = (
            await session.exec(
                select(AuditEvent)
                .where(AuditEvent.entity == "card", AuditEvent.entity_id == se1)
                .order_by(col(AuditEvent.seq))
            )
        ).all()
    steps = [(e.data.get("step"), e.actor_role, e.actor_id) for e in trail if "step" in e.data]
    assert steps == [("handed_over", "admin", world.admin_id), ("received", "admin", cecilia_id)]
