"""The SMS chat end to end, in-process: `kortkontor.serve.start` with Twilio pointed at the fake
Twilio (tests/fakes/twilio.py). Inbound SMS are posted as Twilio posts them, signed, to the real
web app; the answers are watched arriving at the fake, sent by the real dispatcher.

These run on the real clock: every answer here is a direct chat reply, which the quiet hours do
not hold, and the times offered are only read back, never expected. The cases that need a set
clock (a booking with the admin's confirmation, an answer at 23:30) or a killed process are in
tests/kortkontor/test_serve_sms.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import col, func, select

from bot.sms_text import MAX_SEGMENTS, is_gsm7, segments
from kortkontor.serve import Running, start
from kortkontor.wiring import Services
from models.db import transaction
from models.meetings import Meeting
from models.network import get_office_by_code
from models.outbox import InboundSms, Notification, NotificationStatus
from models.types import utcnow
from scheduler.notifications import Template
from tests.factories import add_card, card_user
from tests.fakes.twilio import FakeTwilio, SentSms
from tests.fakes.twilio_inbound import SERVICE_NUMBER, Posted, TwilioInbound
from tests.sms_world import MARIA, seed_sms_world

STRANGER = "+46701740605"  # PTS's range for fiction; no card order has it
STOPPED = "Du får inga fler sms från Kortkontor. Skicka START för att få sms igen."
RESTARTED = "Du får sms från Kortkontor igen."
# A reply goes out on the dispatch that the dialogue's commit pokes, a second later.
REPLY_TIMEOUT = 10.0


@dataclass
class SmsService:
    """serve running in this process, the fake Twilio it sends through, and Twilio's webhooks."""

    services: Services
    running: Running
    fake: FakeTwilio
    twilio: TwilioInbound

    async def text(self, body: str, *, sender: str = MARIA, sid: str | None = None) -> Posted:
        """An SMS from `sender`, posted as Twilio posts it."""
        return await self.twilio.send(sender, body, sid=sid)

    async def replies(self, count: int, *, to: str = MARIA) -> list[str]:
        """The texts the number got, once there are `count` (fails after REPLY_TIMEOUT)."""
        deadline = time.monotonic() + REPLY_TIMEOUT
        while len(got := self.fake.sent_to(to)) < count:
            assert time.monotonic() < deadline, f"{len(got)} SMS to {to}, expected {count}: {got}"
            await asyncio.sleep(0.01)
        return [sms.body for sms in got]

    async def reply_rows(self, to: str = MARIA) -> list[Notification]:
        """The chat replies written to the outbox for the number, oldest first."""
        async with self.services.sessions() as session:
            query = select(Notification).where(
                Notification.recipient == to, Notification.template == Template.chat_reply
            )
            return list((await session.exec(query.order_by(col(Notification.id)))).all())

    async def settled(self, to: str = MARIA) -> list[SentSms]:
        """Wait until every chat reply to the number has left; what the number got by then.

        A reply is written in the inbound message's own transaction, so once the webhook has
        answered, the rows here are all the replies there will be."""
        deadline = time.monotonic() + REPLY_TIMEOUT
        while any(row.status != NotificationStatus.sent for row in await self.reply_rows(to)):
            assert time.monotonic() < deadline, "chat replies still unsent"
            await asyncio.sleep(0.02)
        return self.fake.sent_to(to)


Start = Callable[..., Awaitable[SmsService]]


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as twilio:
        yield twilio


@pytest.fixture
async def serve_sms(services: Services, fake: FakeTwilio) -> AsyncIterator[Start]:
    """Starts serve with SMS through the fake Twilio (settings can be overridden), on a free
    port; a card user Maria (SE-1, +46701112233) with a card in custody at UPS1."""
    started: list[SmsService] = []

    async def start_sms(**settings: Any) -> SmsService:
        configured = services.settings.model_copy(
            update={
                "twilio_account_sid": fake.account_sid,
                "twilio_auth_token": SecretStr(fake.auth_token),
                "twilio_from": SERVICE_NUMBER,
                "twilio_api_base_url": fake.base_url,
                "twilio_messages_per_second": 1000,
                "web_host": "127.0.0.1",
                "web_port": 0,
                **settings,
            }
        )
        running = await start(replace(services, settings=configured))
        assert running.web is not None
        twilio = TwilioInbound(f"http://127.0.0.1:{running.web.port}", fake.auth_token)
        service = SmsService(services, running, fake, twilio)
        started.append(service)
        return service

    await seed_sms_world(services, now=utcnow())
    yield start_sms
    for service in started:
        await service.twilio.aclose()
        await service.running.stop()


def assert_fits(texts: list[str]) -> None:
    """Every SMS is GSM-7 and at most three segments."""
    for text in texts:
        assert is_gsm7(text), f"not GSM-7: {text!r}"
        assert segments(text) <= MAX_SEGMENTS, f"{segments(text)} segments: {text!r}"


async def inbound_count(services: Services) -> int:
    async with services.sessions() as session:
        return (await session.exec(select(func.count()).select_from(InboundSms))).one()


async def meetings(services: Services) -> list[Meeting]:
    async with services.sessions() as session:
        return list((await session.exec(select(Meeting))).all())


# -- a webhook Twilio retries --------------------------------------------------------------------


async def test_a_first_message_retried_at_once_is_handled_once(serve_sms: Start) -> None:
    sms = await serve_sms()
    sid = "SM" + "d" * 32
    for sender in (MARIA, STRANGER):  # a card user's first message, and a stranger's
        posted = await asyncio.gather(*(sms.text("hej", sender=sender, sid=sid) for _ in range(5)))
        assert {p.status for p in posted} == {200}
        sid = "SM" + "e" * 32
        assert len(await sms.settled(sender)) == 1


async def test_a_retried_webhook_is_handled_once(serve_sms: Start) -> None:
    sms = await serve_sms()
    first = await sms.text("var är mitt kort?")
    again = await sms.text("var är mitt kort?", sid=first.sid)
    assert (first.immediate, again.immediate) == (None, None)
    [answer] = await sms.replies(1)
    assert "Uppsala centrum" in answer, answer
    assert len(await sms.reply_rows()) == 1

    # Twilio's retry may overlap the first delivery still in progress.
    sid = "SM" + "c" * 32
    posted = await asyncio.gather(*(sms.text("hjälp", sid=sid) for _ in range(5)))
    assert {p.status for p in posted} == {200}
    assert len(await sms.reply_rows()) == 2
    assert len(await sms.settled()) == 2
    assert await inbound_count(sms.services) == 2
    assert_fits(await sms.replies(2))


# -- limits ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({"sms_replies_per_hour": 5}, 5),
        ({"sms_replies_per_hour": 50, "sms_replies_per_day": 3}, 3),
    ],
    ids=["per-hour", "per-day"],
)
async def test_an_auto_responder_loop_stops_at_the_limit(
    serve_sms: Start, limits: dict[str, int], expected: int
) -> None:
    sms = await serve_sms(**limits)
    out_of_office = "Jag är på semester till 4 januari. Vid brådskande ärenden ring växeln."
    await sms.text("hej")
    # The auto-responder answers every SMS it gets with one of its own, until none comes.
    for answered in range(1, 20):
        await sms.replies(answered)
        await sms.text(out_of_office)
        if len(await sms.reply_rows()) == answered:
            break  # the service wrote no reply to that one: the loop is broken
    assert answered == expected
    # More messages from the number stay unanswered.
    for _ in range(3):
        await sms.text(out_of_office)
    assert len(await sms.settled()) == expected
    assert len(await sms.reply_rows()) == expected
    assert await inbound_count(sms.services) == expected + 4
    # Another number is not limited by this one's messages.
    await sms.text("hej", sender=STRANGER)
    assert len(await sms.settled(STRANGER)) == 1


# -- STOP ------------------------------------------------------------------------------------


async def test_stop_in_the_middle_of_a_booking(serve_sms: Start) -> None:
    sms = await serve_sms()
    await sms.text("tisdag eftermiddag")
    [times] = await sms.replies(1)
    assert "Svara 1, 2" in times and "tisdag" in times, times

    stop = await sms.text("STOPP")
    assert stop.immediate == STOPPED
    for body in ("1", "ja", "Hallå? Blev det bokat?"):
        assert (await sms.text(body)).immediate is None
    assert len(await sms.settled()) == 1, "an SMS went to a number that sent STOP"
    assert await meetings(sms.services) == []

    restart = await sms.text("start")
    assert restart.immediate == RESTARTED
    await sms.text("var är mitt kort")
    texts = await sms.replies(2)
    assert "Svara" in texts[1]
    assert await meetings(sms.services) == [], "a choice sent while opted out was acted on"
    assert_fits(texts)


# -- who writes -----------------------------------------------------------------------------


async def test_a_shared_number_asks_for_the_order_reference(
    serve_sms: Start, services: Services
) -> None:
    async with transaction(services.sessions) as session:
        office = await get_office_by_code(session, code="UPS1")
        assert office is not None
        partner = card_user(services.vault, given_name="Kim", phone=MARIA)
        await add_card(
            session, services.vault, office, user=partner, order_ref="SE-9", status="in_custody"
        )
    sms = await serve_sms()
    await sms.text("tisdag eftermiddag")
    [asked] = await sms.replies(1)
    assert "flera kortbeställningar" in asked and "ordernumret" in asked, asked
    assert "Maria" not in asked and "Kim" not in asked

    await sms.text("SE-3")  # an order reference of some other number, or none
    refused = (await sms.replies(2))[1]
    assert "hittar inget kort med det ordernumret" in refused, refused

    await sms.text("se-9")
    times = (await sms.replies(3))[2]
    # The earlier wish is read now, for Kim's card.
    assert "Svara 1, 2" in times and "tisdag" in times, times
    await sms.text("1")
    summary = (await sms.replies(4))[3]
    assert "Stämmer det här?" in summary, summary
    assert_fits(await sms.replies(4))


async def test_an_unknown_number_gets_one_neutral_answer_a_day(serve_sms: Start) -> None:
    sms = await serve_sms()
    await sms.text("Hej, är mitt kort klart?", sender=STRANGER)
    [answer] = await sms.replies(1, to=STRANGER)
    assert "Kortkontor" in answer and "Maria" not in answer and "SE-1" not in answer, answer
    await sms.text("Hallå??", sender=STRANGER)
    await sms.text("tisdag eftermiddag", sender=STRANGER)
    assert len(await sms.settled(STRANGER)) == 1
    assert_fits([answer])


# -- the texts -------------------------------------------------------------------------------

# A conversation through most of the card user's states, typed as people type.
CONVERSATION = (
    "hej",
    "var är mitt kort?",
    "vad ska jag ta med mig",
    "boka",
    "3",  # Eftermiddag
    "2",  # the second time offered
    "nej",
    "torsdag efter 17",
    "1",
    "ja",
    "när är min tid?",
    "var ses vi",
    "ändra tid",
    "meny",
    "avboka",
    "nej behåll",
    "asdfghjkl",
    "🙂🙂🙂",
    "Kan du ringa mig i stället? " * 40,
    "help",
    "avboka",
    "ja",
)


async def test_every_reply_is_gsm7_and_at_most_three_segments(serve_sms: Start) -> None:
    # More messages than the default 20 answers an hour.
    sms = await serve_sms(sms_replies_per_hour=100)
    for body in CONVERSATION:
        await sms.text(body)
    texts = await sms.replies(len(CONVERSATION))
    assert len(await sms.settled()) == len(CONVERSATION)
    assert "avbokad" in texts[-1], texts[-1]
    assert_fits(texts)
    two_or_fewer = sum(segments(text) <= 2 for text in texts)
    assert two_or_fewer >= 0.8 * len(texts), [segments(text) for text in texts]
