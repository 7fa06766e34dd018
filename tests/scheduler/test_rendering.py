"""What the invitations and reminders say: by SMS they ask for an answer by SMS, in GSM-7 and
within two segments; in the chat the day-before reminder carries the answers as buttons."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from bot.sms_text import is_gsm7, segments
from kortkontor.wiring import Services
from models.cards import Card, CardUser
from models.db import transaction
from models.outbox import Channel, Notification
from scheduler import booking, notifications, rendering
from scheduler.actions import Command, Name
from scheduler.availability import load_availability
from scheduler.channels.base import OutgoingMessage
from scheduler.rendering import RenderSettings
from tests.bot.world import NOW, World, build_world

BOT = RenderSettings(bot_username="kortkontor_bot")
TOMORROW_AT_16 = NOW + timedelta(days=1, hours=7)  # Tuesday 1 December 16:00 in Stockholm
ANSWER_BY_SMS = "Svara JA om du kommer, ÄNDRA för en ny tid eller AVBOKA."


async def on_telegram(services: Services, world: World, name: str, chat_id: int) -> None:
    async with transaction(services.sessions) as session:
        user = await session.get(CardUser, world.users[name])
        assert user is not None
        user.telegram_user_id = chat_id
        user.locale = "sv"
        session.add(user)


async def rows(services: Services, template: str) -> dict[Channel, Notification]:
    async with services.sessions() as session:
        query = select(Notification).where(Notification.template == template)
        found = (await session.exec(query.order_by(col(Notification.id)))).all()
    return {Channel(row.channel): row for row in found}


async def rendered(
    services: Services, row: Notification, settings: RenderSettings = BOT
) -> OutgoingMessage:
    async with services.sessions() as session:
        return await rendering.render(session, row, settings, now=NOW)


async def card_arrives(services: Services, world: World, name: str) -> None:
    async with transaction(services.sessions) as session:
        card = await session.get(Card, world.cards[name])
        assert card is not None
        await notifications.card_arrived(session, card, now=NOW)


async def booked_tomorrow(services: Services, world: World) -> None:
    """Maria's confirmed time tomorrow at 16:00 (her office confirms by itself)."""
    async with transaction(services.sessions) as session:
        card = await session.get(Card, world.cards["maria"])
        assert card is not None and card.id is not None
        office = await session.get(booking.Office, card.office_id)
        assert office is not None
        free = (await load_availability(session, office, now=NOW)).free(now=NOW)
        slot = next(slot for slot in free if slot.starts_at == TOMORROW_AT_16)
        result = await booking.request_booking(
            session, card_id=card.id, card_user_id=world.users["maria"], slot=slot, now=NOW
        )
        assert isinstance(result, booking.Booked)


async def test_the_card_arrived_sms_asks_when_one_can_come_and_offers_telegram(
    services: Services,
) -> None:
    world = await build_world(services)
    await card_arrives(services, world, "maria")
    arrived = await rows(services, "card_arrived")

    sms = (await rendered(services, arrived[Channel.sms])).text
    assert "Ditt SITHS-kort har kommit till Uppsala centrum" in sms
    assert "Svara med när du kan komma, t.ex. tisdag eftermiddag." in sms
    assert "Ta med giltig id-handling och PIN-brevet." in sms
    assert "Eller boka i Telegram: https://t.me/kortkontor_bot?start=" in sms
    assert is_gsm7(sms) and segments(sms) <= 2, (len(sms), sms)
    # Without Telegram there is no link, only the answer by SMS.
    plain = (await rendered(services, arrived[Channel.sms], RenderSettings())).text
    assert "t.me" not in plain and "Telegram" not in plain
    assert plain.endswith("Svara med när du kan komma, t.ex. tisdag eftermiddag.")
    # An answer to the e-mail reaches nobody: it keeps the link into the chat.
    mail = (await rendered(services, arrived[Channel.email])).text
    assert "Svara" not in mail and "Boka din tid i chatten: https://t.me/kortkontor_bot" in mail


async def test_a_nudge_by_sms_asks_the_same(services: Services) -> None:
    world = await build_world(services)
    async with transaction(services.sessions) as session:
        await notifications.plan_nudges(session, now=NOW + timedelta(days=3))
    async with services.sessions() as session:
        query = select(Notification).where(
            Notification.template == "nudge",
            Notification.card_id == world.cards["maria"],
            Notification.channel == Channel.sms,
        )
        nudge = (await session.exec(query)).one()
    text = (await rendered(services, nudge)).text
    assert "väntar fortfarande på dig" in text
    assert text.endswith("Svara med när du kan komma, t.ex. tisdag eftermiddag.")
    assert is_gsm7(text) and segments(text) <= 2


async def test_the_day_before_reminder_asks_for_an_answer_by_sms(services: Services) -> None:
    world = await build_world(services, auto_confirm=True)
    await booked_tomorrow(services, world)
    reminder = (await rows(services, "reminder_24h"))[Channel.sms]
    message = await rendered(services, reminder)
    text = message.text
    assert text.splitlines() == [
        "Hej Maria!",
        "En påminnelse: du hämtar ditt SITHS-kort i morgon, tisdag 1 december kl. 16:00.",
        "Plats: Café Linné, Svartbäcksgatan 22, 753 33 Uppsala",
        "ID-administratör: Anna",
        "Ta med giltig id-handling och PIN-brevet.",
        ANSWER_BY_SMS,
    ]
    assert is_gsm7(text) and segments(text) <= 2, (len(text), text)
    assert message.buttons == ()


async def test_the_day_before_reminder_in_the_chat_has_the_answers_as_buttons(
    services: Services,
) -> None:
    world = await build_world(services, auto_confirm=True)
    await on_telegram(services, world, "maria", 7001)
    await booked_tomorrow(services, world)
    reminder = (await rows(services, "reminder_24h"))[Channel.telegram]
    message = await rendered(services, reminder)
    assert "i morgon, tisdag 1 december kl. 16:00" in message.text
    assert "Svara JA" not in message.text  # the buttons ask
    assert message.buttons == (
        (("Jag kommer", Command(Name.attend).encode()),),
        (("Ändra tid", Command(Name.move).encode()),),
        (("Avboka", Command(Name.cancel).encode()),),
    )


async def test_in_english_the_answers_are_english_words(services: Services) -> None:
    world = await build_world(services, auto_confirm=True)
    async with transaction(services.sessions) as session:
        user = await session.get(CardUser, world.users["maria"])
        assert user is not None
        user.locale = "en"
        session.add(user)
    await booked_tomorrow(services, world)
    reminder = (await rows(services, "reminder_24h"))[Channel.sms]
    text = (await rendered(services, reminder)).text
    assert text.endswith("Reply YES if you are coming, CHANGE for a new time or CANCEL.")
    assert is_gsm7(text) and segments(text) <= 2
