"""The admin's side end to end over HTTP: the real Application and the real dispatcher share a
fake Bot API. A request reaches the admin as a message with buttons; the answer reaches the
card user; the outcome is recorded from the phone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlmodel import select
from telegram import Bot

from bot.telegram import build_application, start_polling, stop_polling
from bot.telegram_channel import TelegramSender
from kortkontor.wiring import Services
from models.cards import Card, CardStatus
from models.db import transaction
from models.invites import InvitePurpose, issue_invite
from models.outbox import Channel
from models.payouts import PayoutLine
from scheduler.channels.console import ConsoleSender
from scheduler.dispatch import Dispatcher
from scheduler.rendering import RenderSettings
from tests.bot.test_telegram import TgUser, linked
from tests.bot.world import Clock, World, new_dialogue
from tests.fakes.telegram import FakeBotApi

ANNA, BO, AHMED = 7101, 7102, 7201


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


@pytest.fixture
async def running(
    fake: FakeBotApi, services: Services, world: World
) -> AsyncIterator[tuple[Any, Dispatcher]]:
    clock = Clock()
    application = build_application(
        token=fake.token,
        base_url=fake.base_url,
        dialogue=new_dialogue(services, clock),
        rate_limited=False,
    )
    await start_polling(application)
    bot = Bot(fake.token, base_url=fake.base_url)
    await bot.initialize()
    console = ConsoleSender("console")
    dispatcher = Dispatcher(
        services.sessions,
        {Channel.telegram: TelegramSender(bot), Channel.sms: console, Channel.email: console},
        RenderSettings(bot_username=fake.username),
        clock=clock,
    )
    yield application, dispatcher
    await stop_polling(application)
    await bot.shutdown()


async def admin(fake: FakeBotApi, services: Services, admin_id: int, user_id: int) -> TgUser:
    async with transaction(services.sessions) as session:
        token = await issue_invite(session, purpose=InvitePurpose.admin, admin_id=admin_id)
    user = TgUser(fake, user_id)
    await user.send(f"/start {token}")
    return user


async def test_pickup_request_answer_and_handout_over_telegram(
    running: tuple[Any, Dispatcher], fake: FakeBotApi, services: Services, world: World
) -> None:
    _, dispatcher = running
    anna = await admin(fake, services, world.admin_id, ANNA)
    assert "Välkommen, Anna!" in anna.text
    await anna.send("/kort")
    await anna.press("Hämta kort")
    await anna.press("☐ SE-2")
    await anna.press("Hämtat (1)")
    assert "Hämtat: SE-2" in anna.text

    ahmed = await linked(fake, services, world, "ahmed", AHMED)
    await ahmed.book("måndag 30 november kl. 16:00")
    assert "Anna bekräftar den" in ahmed.text

    await dispatcher.run_due()  # the request reaches Anna's chat, with its buttons
    await anna._replies(1)
    assert "Ahmed Test (SE-2) vill hämta sitt kort måndag 30 november kl. 16:00" in anna.text
    assert [label for label, _ in fake.buttons(anna.last)] == [  # type: ignore[arg-type]
        "Bekräfta",
        "Föreslå annan tid",
        "Avböj",
    ]
    await anna.press("Bekräfta")
    assert "Bekräftad" in anna.text

    await dispatcher.run_due()  # the answer reaches Ahmed
    await ahmed._replies(1)
    assert "Din tid är bekräftad: måndag 30 november kl. 16:00" in ahmed.text

    await anna.send("/idag")
    await anna.press("16:00 Ahmed Test")
    await anna.press("Utlämnat")
    await anna.press("Skatteverkets id-kort")
    for _ in range(5):
        await anna.press("Ja")
    assert "Utlämnat: SE-2" in anna.text
    async with services.sessions() as session:
        card = await session.get(Card, world.cards["ahmed"])
        lines = (await session.exec(select(PayoutLine))).all()
    assert card is not None and card.status == CardStatus.handed_out
    assert [line.amount_ore for line in lines] == [50_000]


async def test_another_admin_cannot_answer_with_a_forged_button(
    running: tuple[Any, Dispatcher], fake: FakeBotApi, services: Services, world: World
) -> None:
    _, dispatcher = running
    anna = await admin(fake, services, world.admin_id, ANNA)
    bo = await admin(fake, services, world.other_admin_id, BO)
    maria = await linked(fake, services, world, "maria", 7301)
    await maria.book("måndag 30 november kl. 16:00")
    await dispatcher.run_due()
    await anna._replies(1)
    confirm = anna.data("Bekräfta")
    # Bo's own chat gets a press with Anna's button data.
    fake.press(BO, confirm, message_id=bo.last.message_id if bo.last else None)
    await bo._replies(1)
    assert "hittades inte" in bo.text
    assert "Maria" not in bo.text


async def test_times_and_a_proposal_over_telegram(
    running: tuple[Any, Dispatcher], fake: FakeBotApi, services: Services, world: World
) -> None:
    _, dispatcher = running
    anna = await admin(fake, services, world.admin_id, ANNA)
    await anna.send("/tider")
    await anna.press("Lägg till tid")
    await anna.press("Lör")
    await anna.send("10-12")
    await anna.press("Café Linné")
    assert "Tillagd: lördag 10:00–12:00, Café Linné." in anna.text

    maria = await linked(fake, services, world, "maria", 7301)
    await maria.book("måndag 30 november kl. 16:00")
    await dispatcher.run_due()
    await anna._replies(1)
    await anna.press("Föreslå annan tid")
    await anna.press("tisdag 1 december kl. 16:00")
    assert "Föreslaget: tisdag 1 december kl. 16:00" in anna.text
    await dispatcher.run_due()
    await maria._replies(1)
    assert "föreslår" in maria.text and "Tid: tisdag 1 december kl. 16:00" in maria.text
    await maria.press("Boka tisdag 1 december kl. 16:00")
    await maria.press("Bekräfta")
    assert "Klart! Din tid är bokad." in maria.text


async def test_free_text_from_an_admin_over_telegram(
    running: tuple[Any, Dispatcher], fake: FakeBotApi, services: Services, world: World
) -> None:
    _, dispatcher = running
    anna = await admin(fake, services, world.admin_id, ANNA)
    await anna.send("hämtat SE-2")
    assert "Hämtat hos postombudet: SE-2 Ahmed Test?" in anna.text
    await anna.send("ja")
    assert "Hämtat: SE-2" in anna.text
    ahmed = await linked(fake, services, world, "ahmed", AHMED)
    await ahmed.send("imorgon efter 16")
    await ahmed.press("tisdag 1 december kl. 16:00")
    await ahmed.press("Bekräfta")
    await dispatcher.run_due()
    await anna._replies(1)
    await anna.send("ok")
    assert "Förfrågan från Ahmed Test (SE-2) om tisdag 1 december kl. 16:00" in anna.text
    assert "Bekräftad" in anna.text
    await anna.send("vad har jag imorgon")
    assert "tisdag 1 december kl. 16:00" in anna.text and "bekräftad" in anna.text
    await anna.send("ledig fredag")
    assert "4 december" in anna.text


async def test_a_card_users_message_and_the_answer_over_telegram(
    running: tuple[Any, Dispatcher], fake: FakeBotApi, services: Services, world: World
) -> None:
    _, dispatcher = running
    anna = await admin(fake, services, world.admin_id, ANNA)
    maria = await linked(fake, services, world, "maria", 7301)
    await maria.book("måndag 30 november kl. 16:00")
    await dispatcher.run_due()
    await anna._replies(1)  # the booking request

    await maria.send("säg till anna att jag blir tio minuter sen")
    assert maria.text == 'Skicka till Anna: "jag blir tio minuter sen"?'
    await maria.press("Ja")
    assert "Skickat till Anna" in maria.text

    await dispatcher.run_due()
    await anna._replies(1)
    assert "Meddelande från Maria Test (SE-1) om mötet måndag 30 november kl. 16:00" in anna.text
    assert '"jag blir tio minuter sen"' in anna.text
    assert "+46701112233" not in anna.text and "7301" not in anna.text
    await anna.press("Svara")
    assert "Skriv ditt svar till Maria" in anna.text
    await anna.send("Inga problem, jag väntar.")
    assert "Skickat till Maria." in anna.text

    await dispatcher.run_due()
    await maria._replies(1)
    assert "Anna, ID-administratören, svarar på ditt meddelande" in maria.text
    assert '"Inga problem, jag väntar."' in maria.text
    assert "+46701234567" not in maria.text and str(ANNA) not in maria.text
