"""The SMS adapter on the whole bot: who writes, numbered choices, answers in the outbox, once,
within the limits, and STOP and START in any state."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.dialogue import Conversation, Dialogue
from bot.sms import Outcome, SmsChat, SmsLimits
from bot.sms_text import MAX_SEGMENTS, is_gsm7, segments
from kortkontor.wiring import Services
from models.cards import Card
from models.db import transaction
from models.meetings import MeetingStatus
from models.outbox import InboundSms, Notification
from scheduler.notifications import Template
from scheduler.outbox import is_opted_out
from tests.bot.world import Clock, World, active_meeting, linked_card_user, new_dialogue
from tests.factories import add_card

MARIA = "+46701112233"  # given as 0701112233 in the world's orders
STRANGER = "+46701740605"
_sids = itertools.count(1)


def new_sid() -> str:
    return f"SM{next(_sids):032x}"


class Phone:
    """One number's side of the SMS chat: each message a new MessageSid, the answer read from
    the outbox row it wrote."""

    def __init__(self, services: Services, chat: SmsChat, number: str) -> None:
        self.services = services
        self.chat = chat
        self.number = number
        self.last: str | None = None

    async def send(self, body: str, sid: str | None = None) -> str | None:
        """Send a text; the answer the chat put in the outbox for it, if any."""
        sid = sid or new_sid()
        await self.chat.receive(sid=sid, sender=self.number, body=body)
        self.last = await self.answer_to(sid)
        return self.last

    async def answer_to(self, sid: str) -> str | None:
        async with self.services.sessions() as session:
            query = select(Notification).where(Notification.idempotency_key == f"sms:{sid}")
            row = (await session.exec(query)).first()
        return None if row is None else str(row.payload["text"])


def sms_chat(services: Services, clock: Clock, **limits: int) -> SmsChat:
    return SmsChat(new_dialogue(services, clock), clock=clock, limits=SmsLimits(**limits))


def phone(services: Services, clock: Clock, number: str = MARIA, **limits: int) -> Phone:
    return Phone(services, sms_chat(services, clock, **limits), number)


async def replies_to(services: Services, number: str) -> list[Notification]:
    async with services.sessions() as session:
        query = (
            select(Notification)
            .where(Notification.recipient == number, Notification.template == Template.chat_reply)
            .order_by(col(Notification.id))
        )
        return list((await session.exec(query)).all())


async def test_a_booking_by_sms_in_three_messages(
    services: Services, world: World, clock: Clock
) -> None:
    maria = phone(services, clock)
    times = await maria.send("tisdag eftermiddag")
    assert times is not None and "Svara 1, 2" in times and "1 tisdag 1 december kl. 16:00" in times
    summary = await maria.send("1")
    assert summary is not None and summary.startswith("Stämmer det här?")
    done = await maria.send("ja")
    assert done is not None and "Din förfrågan är skickad" in done
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.status == MeetingStatus.requested
    assert meeting.starts_at == datetime(2026, 12, 1, 15, 0, tzinfo=UTC)  # 16:00 in Stockholm


async def test_every_answer_is_gsm7_within_three_segments(
    services: Services, world: World, clock: Clock
) -> None:
    maria = phone(services, clock)
    for text in ("hej", "vad ska jag ta med?", "boka", "1", "2", "1", "var är mitt kort", "hjälp"):
        await maria.send(text)
    answers = [str(row.payload["text"]) for row in await replies_to(services, MARIA)]
    assert len(answers) == 8
    for answer in answers:
        assert is_gsm7(answer), answer
        assert segments(answer) <= MAX_SEGMENTS, answer


async def test_a_number_picks_only_among_the_choices_shown_last(
    services: Services, world: World, clock: Clock
) -> None:
    maria = phone(services, clock)
    await maria.send("boka")
    assert maria.last is not None and "9 Meny" in maria.last
    await maria.send("9")
    assert maria.last is not None and maria.last.startswith("Vad vill du göra?")
    assert "Svara 1, 2 eller 3." in maria.last
    await maria.send("9")  # no such choice now: read as text, not understood
    assert maria.last is not None and maria.last.startswith("Det förstod jag inte")
    # A day later the numbers shown no longer stand for anything.
    clock.now += timedelta(days=1, minutes=1)
    await maria.send("1")
    assert maria.last is not None and not maria.last.startswith("Var är mitt kort")


async def test_a_retried_message_is_handled_once(
    services: Services, world: World, clock: Clock
) -> None:
    maria = phone(services, clock)
    sid = new_sid()
    first = await maria.send("boka", sid=sid)
    received = await maria.chat.receive(sid=sid, sender=MARIA, body="boka")
    assert received.outcome == Outcome.duplicate
    assert [row.payload["text"] for row in await replies_to(services, MARIA)] == [first]


async def test_a_redelivery_after_the_state_changed_is_still_handled_once(
    services: Services, world: World, clock: Clock
) -> None:
    """The dialogue forgets old update ids; the MessageSid is remembered for good."""
    maria = phone(services, clock, per_hour=100, per_day=100)
    sid = new_sid()
    await maria.send("boka", sid=sid)
    for _ in range(40):  # more than the dialogue's window of recent update ids
        await maria.send("hej")
    again = await maria.chat.receive(sid=sid, sender=MARIA, body="boka")
    assert again.outcome == Outcome.duplicate
    assert len(await replies_to(services, MARIA)) == 41


async def test_an_auto_responder_loop_ends_at_the_hourly_limit(
    services: Services, world: World, clock: Clock
) -> None:
    maria = phone(services, clock, per_hour=5, per_day=8)
    outcomes = [
        (await maria.chat.receive(sid=new_sid(), sender=MARIA, body="Jag är på semester")).outcome
        for _ in range(8)
    ]
    assert outcomes == [Outcome.answered] * 5 + [Outcome.limited] * 3
    assert len(await replies_to(services, MARIA)) == 5
    clock.now += timedelta(hours=1, seconds=1)
    assert [await maria.send("hej") is not None for _ in range(4)] == [True] * 3 + [False]
    assert len(await replies_to(services, MARIA)) == 8


async def test_stop_in_the_middle_of_a_booking(
    services: Services, world: World, clock: Clock
) -> None:
    maria = phone(services, clock)
    await maria.send("tisdag eftermiddag")
    stopped = await maria.chat.receive(sid=new_sid(), sender=MARIA, body="STOPP")
    assert stopped.outcome == Outcome.stopped
    assert stopped.immediate == (
        "Du får inga fler sms från Kortkontor. Skicka START för att få sms igen."
    )
    assert await maria.send("1") is None  # not read while opted out
    assert await active_meeting(services, world.cards["maria"]) is None
    restarted = await maria.chat.receive(sid=new_sid(), sender=MARIA, body="start")
    assert restarted.outcome == Outcome.restarted
    assert restarted.immediate == "Du får sms från Kortkontor igen."
    assert await maria.send("hej") is not None


async def test_a_replayed_stop_does_not_opt_out_again(
    services: Services, world: World, clock: Clock
) -> None:
    chat = sms_chat(services, clock)
    stop = new_sid()
    await chat.receive(sid=stop, sender=MARIA, body="STOP")
    await chat.receive(sid=new_sid(), sender=MARIA, body="START")
    replayed = await chat.receive(sid=stop, sender=MARIA, body="STOP")
    assert replayed.outcome == Outcome.duplicate and replayed.immediate is None
    async with services.sessions() as session:
        assert not await is_opted_out(session, phone=MARIA)


async def test_an_unknown_number_is_told_once_a_day(
    services: Services, world: World, clock: Clock
) -> None:
    stranger = phone(services, clock, STRANGER)
    told = await stranger.send("hej, när kan jag hämta mitt kort?")
    assert told is not None and "Numret finns inte i någon kortbeställning" in told
    assert "Maria" not in told and "SE-" not in told
    assert await stranger.send("hallå?") is None
    clock.now += timedelta(days=1)
    assert await stranger.send("hallå?") == told


async def test_a_shared_number_names_the_card_by_its_order_reference(
    services: Services, world: World, clock: Clock
) -> None:
    async with transaction(services.sessions) as session:
        maria_card = await session.get(Card, world.cards["maria"])
        assert maria_card is not None
        await add_card(session, services.vault, maria_card.office_id, order_ref="SE-77")
    # The new card user has Maria's number (the factory's default).
    shared = phone(services, clock)
    asked = await shared.send("tisdag eftermiddag")
    assert asked is not None and "hör till flera kortbeställningar" in asked
    assert "Maria" not in asked and "SE-1" not in asked
    wrong = await shared.send("SE-3")  # Lena's card: another number
    assert wrong is not None and "hittar inget kort med det ordernumret" in wrong
    right = await shared.send("se-1")
    # The wish written before the order reference is read now.
    assert right is not None and "1 tisdag 1 december kl. 16:00" in right
    assert (await shared.send("1") or "").startswith("Stämmer det här?")
    await shared.send("ja")
    assert await active_meeting(services, world.cards["maria"]) is not None


async def test_one_person_two_channels(services: Services, world: World, clock: Clock) -> None:
    """Booked by SMS, the card user links Telegram later and finds the same time there."""
    maria = phone(services, clock)
    for text in ("tisdag eftermiddag", "1", "ja"):
        await maria.send(text)
    chat = await linked_card_user(services, world, clock, "maria", 5101)
    await chat.send("när är min tid?")
    assert "tisdag 1 december kl. 16:00" in chat.text
    assert "tisdag 1 december kl. 16:00" in (await maria.send("när är min tid?") or "")


async def test_the_inbound_message_is_remembered_with_its_answer(
    services: Services, world: World, clock: Clock
) -> None:
    maria = phone(services, clock)
    sid = new_sid()
    await maria.send("hej", sid=sid)
    async with services.sessions() as session:
        assert await session.get(InboundSms, sid) is not None


async def test_a_failure_undoes_the_message_and_apologises_once(
    services: Services, world: World, clock: Clock
) -> None:
    async def broken(conv: Conversation) -> None:
        conv.say("halvvägs")
        raise RuntimeError("the database is on fire")

    chat = SmsChat(Dialogue(services.sessions, services.vault, broken, clock=clock), clock=clock)
    maria = Phone(services, chat, MARIA)
    sid = new_sid()
    sorry = await maria.send("boka", sid=sid)
    assert sorry == "Förlåt, något gick fel hos oss. Skriv igen om en liten stund."
    assert (await chat.receive(sid=sid, sender=MARIA, body="boka")).outcome == Outcome.duplicate
    assert len(await replies_to(services, MARIA)) == 1


async def test_home_delivery_by_sms_keeps_the_address_out_of_the_outbox(
    services: Services, world: World, clock: Clock
) -> None:
    from scheduler.office_settings import set_home_delivery

    async with transaction(services.sessions) as session:
        await set_home_delivery(session, admin_id=world.admin_id, enabled=True, now=clock.now)
    maria = phone(services, clock)
    asked = await maria.send("kan du komma hem till mig?")
    assert asked is not None and "Vilken adress" in asked
    times = await maria.send("Kvarngatan 7, 753 20 Uppsala")
    assert times is not None and "Hemleverans till adressen du angav" in times
    assert "1 måndag 30 november kl. 16:00" in times
    summary = await maria.send("1")
    assert summary is not None and "Plats: hemleverans" in summary
    done = await maria.send("ja")
    assert done is not None and "Din förfrågan är skickad" in done
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.venue_id is None
    assert meeting.home_address_encrypted is not None
    assert services.vault.decrypt(meeting.home_address_encrypted) == "Kvarngatan 7, 753 20 Uppsala"
    async with services.sessions() as session:
        rows = (await session.exec(select(Notification))).all()
    assert rows and not any("Kvarngatan" in str(row.payload) for row in rows)
