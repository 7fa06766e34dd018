"""A small network for chat tests, and a driver that talks to the dialogue like a chat would."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import select

from bot.dialogue import Dialogue, Incoming, Reply
from bot.flows import converse
from kortkontor.wiring import Services
from models.cards import Card, CardStatus
from models.db import transaction
from models.invites import InvitePurpose, issue_invite
from models.lifecycle import Role, transition_card
from models.meetings import Meeting, standing
from models.network import get_admin_by_email
from models.network_file import read_network_toml, upsert_network
from models.orders import read_orders_csv
from scheduler.cards import import_orders
from tests.factories import PERSONNUMMER, csv_row, network_toml, orders_csv, windows_toml

# Monday 30 November 2026, 09:00 in Stockholm.
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
WEEKDAY_EVENINGS = windows_toml(("mon", "tue", "wed", "thu", "fri"), "16:00", "19:00")
# Card users: (order_ref, office, personnummer key, phone, status).
CARDS = {
    "maria": ("SE-1", "UPS1", "maria", "0701112233", CardStatus.in_custody),
    "ahmed": ("SE-2", "UPS1", "ahmed", "0702223344", CardStatus.shipped),
    "lena": ("SE-3", "GBG1", "lena", "0703334455", CardStatus.in_custody),
}


@dataclass
class World:
    """Ids of what the tests talk about."""

    admin_id: int
    other_admin_id: int
    cards: dict[str, int] = field(default_factory=dict)  # name → card id
    users: dict[str, int] = field(default_factory=dict)  # name → card user id


async def build_world(services: Services, *, auto_confirm: bool = False) -> World:
    """Two offices (UPS1 with Anna, GBG1 with Bo) open weekday evenings, and three cards."""
    network = network_toml(
        windows=WEEKDAY_EVENINGS, absences="[]", auto_confirm=auto_confirm
    ) + network_toml(code="GBG1", email="bo@example.se", windows=WEEKDAY_EVENINGS, absences="[]")
    rows = [
        csv_row(
            order_ref=ref,
            office_code=office,
            given_name=name.title(),
            family_name="Test",
            personnummer=PERSONNUMMER[key][0],
            phone=phone,
            email=f"{name}@example.se",
        )
        for name, (ref, office, key, phone, _) in CARDS.items()
    ]
    async with transaction(services.sessions) as session:
        await upsert_network(session, read_network_toml(network))
        await import_orders(session, read_orders_csv(orders_csv(*rows)), vault=services.vault)
        anna = await get_admin_by_email(session, email="anna@example.se")
        bo = await get_admin_by_email(session, email="bo@example.se")
        assert anna is not None and anna.id and bo is not None and bo.id
        world = World(admin_id=anna.id, other_admin_id=bo.id)
        for name, (ref, _, _, _, status) in CARDS.items():
            card = (await session.exec(select(Card).where(Card.order_ref == ref))).one()
            assert card.id is not None
            await transition_card(
                session, card, CardStatus.shipped, role=Role.operator, actor_id=None, now=NOW
            )
            if status == CardStatus.in_custody:
                await transition_card(
                    session, card, status, role=Role.admin, actor_id=None, now=NOW
                )
            world.cards[name] = card.id
            world.users[name] = card.card_user_id
    return world


async def card_link(services: Services, card_user_id: int) -> str:
    """A deep-link token for the card user, as the card-arrived message carries."""
    async with transaction(services.sessions) as session:
        return await issue_invite(
            session, purpose=InvitePurpose.card_user, card_user_id=card_user_id
        )


async def active_meeting(services: Services, card_id: int) -> Meeting | None:
    """The card's standing meeting: confirmed, or else requested (a pending move is not)."""
    async with services.sessions() as session:
        query = select(Meeting).where(Meeting.card_id == card_id, standing())
        return (await session.exec(query)).one_or_none()


class Clock:
    """A settable now for the dialogue."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


_update_ids = itertools.count(1)


class Chat:
    """One Telegram user's side of the dialogue, without Telegram: send, press, read."""

    def __init__(self, dialogue: Dialogue, user_id: int) -> None:
        self.dialogue = dialogue
        self.user_id = user_id
        self.last: list[Reply] = []

    async def _handle(self, **what: object) -> list[Reply]:
        incoming = Incoming(
            channel="telegram",
            chat_key=str(self.user_id),
            user_id=self.user_id,
            update_id=next(_update_ids),
            **what,  # type: ignore[arg-type]
        )
        replies = await self.dialogue.handle(incoming)
        if replies:
            self.last = replies
        return replies

    async def send(self, text: str | None) -> list[Reply]:
        """Type a text (None: a sticker or photo, which has no text)."""
        return await self._handle(text=text)

    async def share_contact(self, phone: str, contact_user_id: int | None) -> list[Reply]:
        """Share a contact card."""
        return await self._handle(contact_phone=phone, contact_user_id=contact_user_id)

    async def press_data(self, data: str) -> list[Reply]:
        """Press a button by its raw callback data (forged or kept from earlier)."""
        return await self._handle(button=data)

    def button(self, label: str) -> str:
        """The data of a shown button whose label starts with `label` (case-insensitive)."""
        for reply in self.last:
            for row in reply.buttons:
                for button in row:
                    if button.label.casefold().startswith(label.casefold()):
                        return button.data
        raise AssertionError(f"no button {label!r} among {self.labels()}")

    async def press(self, label: str) -> list[Reply]:
        """Press a shown button."""
        return await self.press_data(self.button(label))

    async def book(self, slot: str) -> list[Reply]:
        """Book as soon as possible: Boka, Snarast, the time labelled `slot`, Bekräfta."""
        for label in ("Boka", "Snarast", slot):
            await self.press(label)
        return await self.press("Bekräfta")

    def labels(self) -> list[str]:
        """The labels of the buttons now shown."""
        return [b.label for reply in self.last for row in reply.buttons for b in row]

    @property
    def text(self) -> str:
        """The text of the last replies."""
        return "\n".join(reply.text for reply in self.last)


def new_dialogue(services: Services, clock: Clock) -> Dialogue:
    """The whole bot's dialogue on the test database."""
    return Dialogue(services.sessions, services.vault, converse, clock=clock)


async def linked_card_user(
    services: Services, world: World, clock: Clock, name: str, chat_id: int
) -> Chat:
    """The named card user's chat, linked through their card's /start link."""
    chat = Chat(new_dialogue(services, clock), chat_id)
    await chat.send(f"/start {await card_link(services, world.users[name])}")
    assert "Välkommen" in chat.text
    return chat
