"""«Skriv till ID-administratören» end to end over the dialogue: the card user's words reach
the meeting's administrator through the outbox (chat, else e-mail), the one answer comes back
(chat, else SMS), neither side sees the other's number or chat account, the words are neither
logged nor kept once delivered, and the rate limit holds."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlmodel import select

from kortkontor.wiring import Services
from models.cards import CardUser
from models.db import transaction
from models.invites import InvitePurpose, issue_invite
from models.outbox import Channel, Notification
from models.relay import RelayedMessage
from scheduler import relay
from scheduler.channels.base import DeliveryState, OutgoingMessage
from scheduler.dispatch import Dispatcher
from scheduler.notifications import Template
from scheduler.rendering import RenderSettings
from tests.bot.world import Chat, Clock, World, linked_card_user
from tests.bot.world import new_dialogue as dialogue_on

MARIA_TG, ANNA_TG, BO_TG = 5301, 5401, 5402
MARIA_PHONE, ADMIN_PHONE = "+46701112233", "+46701234567"
BOOKED = "måndag 30 november kl. 16:00"
LATE = "jag blir tio minuter sen"
ANSWER = "Ingen fara, jag väntar vid fönstret."


@dataclass
class Sent:
    """What a channel was given."""

    channel: Channel
    message: OutgoingMessage


@dataclass
class Recorder:
    """A sender per channel that keeps what it is given."""

    sent: list[Sent] = field(default_factory=list)

    def sender(self, channel: Channel) -> _Sender:
        return _Sender(self, channel)

    def take(self) -> list[Sent]:
        taken, self.sent = self.sent, []
        return taken


@dataclass
class _Sender:
    recorder: Recorder
    channel: Channel

    async def send(self, message: OutgoingMessage, *, idempotency_key: str) -> str | None:
        self.recorder.sent.append(Sent(self.channel, message))
        return idempotency_key

    async def lookup(self, provider_message_id: str) -> DeliveryState:
        return DeliveryState.delivered


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def dispatcher(services: Services, clock: Clock, recorder: Recorder) -> Dispatcher:
    senders = {channel: recorder.sender(channel) for channel in Channel}
    return Dispatcher(services.sessions, senders, RenderSettings(), clock=clock)


async def linked_admin(services: Services, clock: Clock, admin_id: int, tg: int) -> Chat:
    async with transaction(services.sessions) as session:
        token = await issue_invite(session, purpose=InvitePurpose.admin, admin_id=admin_id)
    chat = Chat(dialogue_on(services, clock), tg)
    await chat.send(f"/start {token}")
    assert "Välkommen" in chat.text
    return chat


@pytest.fixture
async def maria(services: Services, world: World, clock: Clock) -> Chat:
    return await linked_card_user(services, world, clock, "maria", MARIA_TG)


@pytest.fixture
async def booked(maria: Chat, dispatcher: Dispatcher, recorder: Recorder) -> Chat:
    await maria.book(BOOKED)
    assert "Din förfrågan är skickad" in maria.text
    await dispatcher.run_due()
    recorder.take()  # the booking request, not what these tests are about
    return maria


async def _rows(services: Services, template: Template) -> list[Notification]:
    async with services.sessions() as session:
        query = select(Notification).where(Notification.template == template)
        return list((await session.exec(query)).all())


def _relay_data(message: OutgoingMessage) -> str:
    [[(label, data)]] = message.buttons
    assert label == "Svara"
    return data


async def test_a_message_and_its_answer_between_chats(
    services: Services,
    world: World,
    clock: Clock,
    booked: Chat,
    dispatcher: Dispatcher,
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The service logs at INFO; the project's own loggers are read down to DEBUG.
    caplog.set_level(logging.INFO)
    for name in ("bot", "scheduler", "models", "kortkontor"):
        caplog.set_level(logging.DEBUG, logger=name)
    anna = await linked_admin(services, clock, world.admin_id, ANNA_TG)
    await booked.send(f"säg till anna att {LATE}")
    assert booked.text == f'Skicka till Anna: "{LATE}"?'
    assert booked.labels() == ["Ja", "Nej"]
    await booked.press("Ja")
    assert "Skickat till Anna. Svaret kommer här." in booked.text

    await dispatcher.run_due()
    [to_admin] = recorder.take()
    assert to_admin.channel == Channel.telegram and to_admin.message.recipient == str(ANNA_TG)
    text = to_admin.message.text
    heading = f"Meddelande från Maria Test (SE-1) om mötet {BOOKED}, Café Linné:"
    assert f'{heading}\n\n"{LATE}"' in text
    assert "Du kan svara en gång, med «Svara»." in text
    assert MARIA_PHONE not in text and "0701112233" not in text and str(MARIA_TG) not in text

    await anna.press_data(_relay_data(to_admin.message))
    assert "Skriv ditt svar till Maria." in anna.text
    await anna.send(ANSWER)
    assert "Skickat till Maria." in anna.text

    await dispatcher.run_due()
    [to_user] = recorder.take()
    assert to_user.channel == Channel.telegram and to_user.message.recipient == str(MARIA_TG)
    answer = to_user.message.text
    assert f"Anna, ID-administratören, svarar på ditt meddelande om mötet {BOOKED}:" in answer
    assert f'"{ANSWER}"' in answer and "PIN-brev" in answer
    assert ADMIN_PHONE not in answer and str(ANNA_TG) not in answer and "Andersson" not in answer

    # One answer per message.
    await anna.press_data(_relay_data(to_admin.message))
    assert "Du har redan svarat på det meddelandet." in anna.text
    # The words are not kept once delivered, and never logged.
    for template in (Template.admin_message, Template.relay_answer):
        [row] = await _rows(services, template)
        assert "text" not in row.payload and row.payload["relay_id"]
    assert LATE not in caplog.text and ANSWER not in caplog.text
    assert "wrote to admin" in caplog.text


async def test_asked_for_the_words_when_only_wanting_to_write(
    services: Services, booked: Chat, dispatcher: Dispatcher, recorder: Recorder
) -> None:
    await booked.send("jag vill skriva till administratören")
    assert booked.text.startswith(f"Vad vill du skriva till Anna om din tid {BOOKED}?")
    await booked.send("jag hittar inte caféet")
    assert "Skickat till Anna" in booked.text
    await dispatcher.run_due()
    # Anna has no chat linked: the message goes by e-mail, without a button to answer.
    [mail] = recorder.take()
    assert mail.channel == Channel.email and mail.message.recipient == "anna@example.se"
    assert mail.message.subject == "Meddelande från en kortanvändare"
    assert '"jag hittar inte caféet"' in mail.message.text and mail.message.buttons == ()
    assert "når inte kortanvändaren" in mail.message.text
    assert MARIA_PHONE not in mail.message.text and str(MARIA_TG) not in mail.message.text


async def test_no_and_yes_typed_at_the_confirmation(services: Services, booked: Chat) -> None:
    await booked.send(f"skriv till admin att {LATE}")
    await booked.send("nej")
    assert "Okej, meddelandet skickades inte." in booked.text
    assert await _rows(services, Template.admin_message) == []
    await booked.send(f"skriv till admin att {LATE}")
    await booked.press("Nej")
    assert "skickades inte" in booked.text
    await booked.send(f"skriv till admin att {LATE}")
    await booked.send("ja")
    assert "Skickat till Anna" in booked.text
    assert len(await _rows(services, Template.admin_message)) == 1


async def test_without_a_meeting_there_is_nobody_to_write_to(
    services: Services, maria: Chat
) -> None:
    await maria.send(f"säg till admin att {LATE}")
    assert "Du kan skriva till ID-administratören när du har bokat en tid." in maria.text
    assert "Boka" in maria.labels()
    await maria.press_data("cmd:write")
    assert "när du har bokat en tid" in maria.text
    assert await _rows(services, Template.admin_message) == []


async def test_rate_limited_per_card_user(
    services: Services, world: World, clock: Clock, booked: Chat
) -> None:
    await booked.send(f"skriv till admin att {LATE}")
    await booked.press("Ja")
    clock.now += timedelta(minutes=1)
    await booked.send("skriv till admin att en gång till")
    assert "Du skickade nyss ett meddelande. Vänta 1 min innan du skickar nästa." in booked.text
    for n in range(relay.MAX_PER_DAY - 1):
        clock.now += relay.MIN_INTERVAL
        await booked.send(f"skriv till admin att nummer {n}")
        await booked.press("Ja")
        assert "Skickat till Anna" in booked.text
    clock.now += relay.MIN_INTERVAL
    await booked.send("jag vill skriva till admin")
    assert "Du har skickat 5 meddelanden till ID-administratören i dag" in booked.text
    assert "Ändra tid" in booked.labels()
    assert len(await _rows(services, Template.admin_message)) == relay.MAX_PER_DAY
    # A new day in Stockholm opens the limit again.
    clock.now += timedelta(days=1)
    await booked.send("jag vill skriva till admin")
    assert "Vad vill du skriva till Anna" in booked.text


async def test_forged_buttons_answer_nobody_elses_message(
    services: Services,
    world: World,
    clock: Clock,
    booked: Chat,
    dispatcher: Dispatcher,
    recorder: Recorder,
) -> None:
    anna = await linked_admin(services, clock, world.admin_id, ANNA_TG)
    bo = await linked_admin(services, clock, world.other_admin_id, BO_TG)
    await booked.send(f"skriv till admin att {LATE}")
    await booked.press("Ja")
    await dispatcher.run_due()
    [to_admin] = recorder.take()
    data = _relay_data(to_admin.message)
    # Bo presses Anna's button, and forged ones.
    for forged in (data, "r:999", "r:abc", "r:-1", "r:"):
        await bo.press_data(forged)
        assert "hittades inte" in bo.text or "gäller inte längre" in bo.text
        assert "Maria" not in bo.text and "Skriv ditt svar" not in bo.text
    await bo.send("meny")
    await bo.send(ANSWER)
    # The card user cannot answer her own message either.
    await booked.press_data(data)
    assert "gäller inte längre" in booked.text
    async with services.sessions() as session:
        [relayed] = (await session.exec(select(RelayedMessage))).all()
    assert relayed.answered_at is None
    assert await _rows(services, Template.relay_answer) == []
    # Anna still can.
    await anna.press_data(data)
    await anna.send(ANSWER)
    assert "Skickat till Maria." in anna.text


async def test_the_answer_goes_by_sms_to_a_user_without_chat(
    services: Services,
    world: World,
    clock: Clock,
    booked: Chat,
    dispatcher: Dispatcher,
    recorder: Recorder,
) -> None:
    anna = await linked_admin(services, clock, world.admin_id, ANNA_TG)
    await booked.send(f"skriv till admin att {LATE}")
    await booked.press("Ja")
    await dispatcher.run_due()
    [to_admin] = recorder.take()
    async with transaction(services.sessions) as session:
        user = await session.get(CardUser, world.users["maria"])
        assert user is not None
        user.telegram_user_id = None
        session.add(user)
    await anna.press_data(_relay_data(to_admin.message))
    await anna.send(ANSWER)
    await dispatcher.run_due()
    [sms] = recorder.take()
    assert sms.channel == Channel.sms and sms.message.recipient == MARIA_PHONE
    assert f'"{ANSWER}"' in sms.message.text and sms.message.buttons == ()
    assert ADMIN_PHONE not in sms.message.text and str(ANNA_TG) not in sms.message.text


async def test_second_miss_offers_writing_to_the_administrator(booked: Chat, maria: Chat) -> None:
    await booked.send("xyzzy plugh")
    await booked.send("qwerty asdf")
    assert "fortfarande inte" in booked.text and "skriv till ID-administratören" in booked.text
    assert "Skriv till ID-administratören" in booked.labels()
    await booked.press("Skriv till ID-administratören")
    assert "Vad vill du skriva till Anna" in booked.text


async def test_second_miss_without_a_meeting_offers_no_writing(maria: Chat) -> None:
    await maria.send("xyzzy plugh")
    await maria.send("qwerty asdf")
    assert "fortfarande inte" in maria.text
    assert "Skriv till ID-administratören" not in maria.labels()


async def test_text_right_after_a_message_is_offered_as_its_answer(
    services: Services,
    world: World,
    clock: Clock,
    booked: Chat,
    dispatcher: Dispatcher,
    recorder: Recorder,
) -> None:
    anna = await linked_admin(services, clock, world.admin_id, ANNA_TG)
    await booked.send(f"skriv till admin att {LATE}")
    await booked.press("Ja")
    await dispatcher.run_due()
    recorder.take()
    clock.now += timedelta(minutes=5)
    await anna.send(ANSWER)
    assert anna.text == f'Skicka det här som svar till Maria Test (SE-1): "{ANSWER}"?'
    await anna.send("nej")
    assert "Okej, svaret skickades inte." in anna.text
    assert await _rows(services, Template.relay_answer) == []
    await anna.send(ANSWER)
    await anna.send("ja")
    assert "Skickat till Maria." in anna.text
    await dispatcher.run_due()
    [to_user] = recorder.take()
    assert f'"{ANSWER}"' in to_user.message.text
    # Answered: the next text is read as the admin's own again.
    await anna.send(ANSWER)
    assert "Skicka det här som svar" not in anna.text


async def test_text_long_after_a_message_is_not_taken_as_its_answer(
    services: Services, world: World, clock: Clock, booked: Chat
) -> None:
    anna = await linked_admin(services, clock, world.admin_id, ANNA_TG)
    await booked.send(f"skriv till admin att {LATE}")
    await booked.press("Ja")
    clock.now += relay.ANSWER_BY_TEXT_WITHIN + timedelta(minutes=1)
    await anna.send(ANSWER)
    assert "Skicka det här som svar" not in anna.text
    # What the layer understands, right after a message, is still the admin's own request.
    clock.now -= timedelta(minutes=30)
    await anna.send("vad har jag imorgon")
    assert "Skicka det här som svar" not in anna.text


async def test_words_that_read_differently_are_not_passed_on(
    services: Services,
    world: World,
    clock: Clock,
    booked: Chat,
    dispatcher: Dispatcher,
    recorder: Recorder,
) -> None:
    """A bidirectional override or a zero-width character is refused, either way, and the
    writer asked to write again; an emoji's joiner is no such character."""
    why = "ett osynligt tecken eller styrtecken som kan få texten att läsas på ett annat sätt"
    anna = await linked_admin(services, clock, world.admin_id, ANNA_TG)
    await booked.send("skriv till anna att jag kommer \u202e01:61 kl")
    await booked.press("Ja")
    assert f"Ditt meddelande innehåller U+202E, {why}. Skriv det igen utan det tecknet." in (
        booked.text
    )
    assert await _rows(services, Template.admin_message) == []
    # Nothing was sent, so nothing counts against the rate limit.
    await booked.send("skriv till anna att tack \U0001f469\u200d\u2695\ufe0f")
    await booked.press("Ja")
    assert "Skickat till Anna" in booked.text
    await dispatcher.run_due()
    [to_admin] = recorder.take()
    await anna.press_data(_relay_data(to_admin.message))
    await anna.send("Ses\u200b snart")
    assert f"Ditt meddelande innehåller U+200B, {why}." in anna.text
    assert await _rows(services, Template.relay_answer) == []
    # Refused, not answered: the one answer is still there to give.
    await anna.press_data(_relay_data(to_admin.message))
    await anna.send("Ses snart")
    assert "Skickat till Maria." in anna.text
