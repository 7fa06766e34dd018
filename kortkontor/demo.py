"""`kortkontor demo`: a fresh SQLite network with cards in several states, shown in Swedish."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.console import QUIT_WORDS, chat
from bot.dialogue import Dialogue
from bot.flows import converse
from bot.sms import SmsChat
from bot.sms_text import segments
from kortkontor.settings import Settings
from kortkontor.wiring import Services, build_services
from models.admins import ADMIN_STATE_NAMES, ONBOARDING_ITEM_NAMES, onboarding_report
from models.cards import CARD_STATUS_NAMES, Card, CardStatus, CardUser, get_card_by_order_ref
from models.db import transaction
from models.i18n import N_, translate
from models.lifecycle import Role, transition_card
from models.migrate import upgrade_to_head
from models.network import Admin, AvailabilityWindow, Office, Venue, get_admin_by_email
from models.network_file import read_network_toml, upsert_network
from models.orders import read_orders_csv
from models.outbox import Channel
from models.types import utcnow
from models.zone import local_day
from scheduler import notifications, outbox, rendering
from scheduler.availability import load_availability
from scheduler.booking import request_booking
from scheduler.cards import import_orders
from scheduler.notifications import Template
from scheduler.rendering import RenderSettings
from scheduler.wording import WEEKDAY_NAMES

DEMO_DATABASE = Path("kortkontor-demo.db")
# The terminal chat is with this card's user: the card waits at the office, ready to book.
CHAT_ORDER_REF = "SE-1002"
LOCALE = "sv"
OPEN_THE_CHAT = N_(
    "To chat as the card user, run `kortkontor demo --chat` at a terminal "
    "(`.venv/bin/kortkontor demo --chat` after `make demo`); `--sms` chats by SMS instead."
)
# The admin logs the avi for some cards and picks others up; one card was never collected.
DEMO_PROGRESS: dict[str, tuple[CardStatus, ...]] = {
    "SE-1001": (CardStatus.notified,),
    "SE-1002": (CardStatus.in_custody,),
    "SE-1003": (CardStatus.notified, CardStatus.in_custody),
    "SE-2001": (CardStatus.in_custody,),
    "SE-3001": (CardStatus.notified,),
    "SE-3002": (CardStatus.in_custody, CardStatus.returned),
}


def _(message: str) -> str:
    return translate(message, LOCALE)


def demo_services(settings: Settings) -> Services:
    """Services on a fresh demo SQLite file; the secret key is made up when none is set."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEMO_DATABASE}{suffix}").unlink(missing_ok=True)
    demo_settings = settings.model_copy(
        update={"database_url": f"sqlite:///{DEMO_DATABASE}", "cookie_secure": False}
    )
    key = settings.kortkontor_secret_key
    return build_services(
        demo_settings,
        secret_key=key.get_secret_value() if key else secrets.token_urlsafe(48),
    )


async def seed(services: Services) -> None:
    """Schema, the demo network, the card orders, and some progress on them."""
    await asyncio.to_thread(upgrade_to_head, services.settings.database_url)
    data = Path(__file__).parent / "demo_data"
    offices = read_network_toml((data / "network.toml").read_text(encoding="utf-8"))
    orders = read_orders_csv((data / "cards.csv").read_text(encoding="utf-8"))
    async with transaction(services.sessions) as session:
        await upsert_network(session, offices)
        await import_orders(session, orders, vault=services.vault)
        for order_ref, steps in DEMO_PROGRESS.items():
            card = await get_card_by_order_ref(session, order_ref=order_ref)
            assert card is not None
            for status in steps:
                await transition_card(session, card, status, role=Role.admin, actor_id=None)
        await _book_first_free_slot(session, "SE-1003", admin_email="erik.lind@example.se")


async def _book_first_free_slot(session: AsyncSession, order_ref: str, *, admin_email: str) -> None:
    """The card user books the admin's first free slot; the admin confirms automatically."""
    card = await get_card_by_order_ref(session, order_ref=order_ref)
    admin = await get_admin_by_email(session, email=admin_email)
    assert card is not None and card.id is not None and admin is not None
    office = await session.get(Office, card.office_id)
    assert office is not None
    now = utcnow()
    slots = (await load_availability(session, office, now=now)).free(now=now)
    slot = next(s for s in slots if s.admin_id == admin.id)
    await request_booking(
        session, card_id=card.id, card_user_id=card.card_user_id, slot=slot, now=now
    )


async def describe(services: Services) -> str:
    """A readable Swedish summary of the network and its cards."""
    out: list[str] = []
    async with services.sessions() as session:
        offices = (await session.exec(select(Office).order_by(col(Office.city)))).all()
        for office in offices:
            out.append(f"\n{office.name} ({office.code}), {office.city}")
            venues = (await session.exec(select(Venue).where(Venue.office_id == office.id))).all()
            names = {v.id: v.name for v in venues}
            for venue in venues:
                out.append(
                    _("  Venue: {name}, {address}").format(name=venue.name, address=venue.address)
                )
            admins = (await session.exec(select(Admin).where(Admin.office_id == office.id))).all()
            for admin in admins:
                out.append(_("  Administrator: {name}").format(name=admin.name))
                report = onboarding_report(admin, today=local_day(utcnow()))
                if report.missing:
                    out.append(
                        _("    {state}, not offered to card users yet; missing: {items}").format(
                            state=_(ADMIN_STATE_NAMES[report.state]),
                            items=", ".join(_(ONBOARDING_ITEM_NAMES[i]) for i in report.missing),
                        )
                    )
                windows = (
                    await session.exec(
                        select(AvailabilityWindow)
                        .where(AvailabilityWindow.admin_id == admin.id)
                        .order_by(col(AvailabilityWindow.weekday), col(AvailabilityWindow.start))
                    )
                ).all()
                for w in windows:
                    out.append(
                        f"    {_(WEEKDAY_NAMES[w.weekday])} {w.start:%H:%M}–{w.end:%H:%M}, "
                        f"{names[w.venue_id]}"
                    )
            cards = (await session.exec(select(Card).where(Card.office_id == office.id))).all()
            counts = Counter(CardStatus(c.status) for c in cards)
            summary = ", ".join(
                f"{counts[s]} {_(CARD_STATUS_NAMES[s])}" for s in CardStatus if counts[s]
            )
            out.append(_("  Cards: {summary}").format(summary=summary))
    return "\n".join(out)


async def _read_line(prompt: str) -> str | None:
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


async def chat_as_card_user(services: Services, order_ref: str = CHAT_ORDER_REF) -> None:
    """The terminal chat, as the card user whose card waits at the office."""
    async with services.sessions() as session:
        card = await get_card_by_order_ref(session, order_ref=order_ref)
        assert card is not None
        user = await session.get(CardUser, card.card_user_id)
        assert user is not None and user.id is not None
    print(
        "\n"
        + _("Chat as the card user {name} ({order_ref}). Buttons are numbered.").format(
            name=f"{user.given_name} {user.family_name}", order_ref=order_ref
        )
    )
    dialogue = Dialogue(services.sessions, services.vault, converse)
    await chat(
        dialogue,
        card_user_id=user.id,
        read_line=_read_line,
        write=lambda text: print(text, flush=True),
    )


async def sms_as_card_user(services: Services, order_ref: str = CHAT_ORDER_REF) -> None:
    """The SMS chat in the terminal, as the card user whose card waits at the office: what
    they type goes through the SMS adapter, and each answer is printed as the SMS it would be,
    with its size. It opens with the SMS that told them the card had arrived."""
    async with transaction(services.sessions) as session:
        card = await get_card_by_order_ref(session, order_ref=order_ref)
        assert card is not None
        user = await session.get(CardUser, card.card_user_id)
        assert user is not None
        # The seed moved the card by hand; this is the message its arrival sends.
        now = utcnow()
        await notifications.card_arrived(session, card, now=now)
        arrived = await outbox.first_of(
            session, card_id=card.id, template=Template.card_arrived, channel=Channel.sms
        )
        assert arrived is not None
        opening = await rendering.render(session, arrived, RenderSettings(), now=now)
    print(
        "\n"
        + _("SMS chat as the card user {name} ({order_ref}) from {phone}.").format(
            name=f"{user.given_name} {user.family_name}", order_ref=order_ref, phone=user.phone
        )
    )
    print(_sms_box(opening.text))
    chat = SmsChat(Dialogue(services.sessions, services.vault, converse))
    while (line := await _read_line(_("Reply by SMS (q to quit)") + "> ")) is not None:
        if line.strip().casefold() in QUIT_WORDS:
            break
        sid = "SM" + secrets.token_hex(16)
        await chat.receive(sid=sid, sender=user.phone, body=line)
        async with services.sessions() as session:
            answer = await outbox.by_key(session, f"sms:{sid}")
        if answer is not None:
            print(_sms_box(str(answer.payload["text"])))


def _sms_box(text: str) -> str:
    """An SMS as the phone shows it, with what it costs."""
    size = _("({count} SMS, {chars} characters)").format(count=segments(text), chars=len(text))
    return "\n".join(f"  | {line}" for line in text.split("\n")) + f"\n  {size}\n"


async def run_demo(services: Services, *, chat: bool, sms: bool = False) -> int:
    """Seed, print, and chat when asked (or when a person sits at the terminal), by SMS when
    asked."""
    await seed(services)
    print(_("Demo network in {path}").format(path=DEMO_DATABASE))
    print(await describe(services))
    if sms:
        await sms_as_card_user(services)
    elif chat:
        await chat_as_card_user(services)
    else:
        # Without a terminal (make demo in a pipe, in CI) the chat is not opened: say how.
        print("\n" + _(OPEN_THE_CHAT))
    return 0
