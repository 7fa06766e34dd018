"""The administrator's free text read by the understanding layer: the agenda, cards, picked up
and avi with a yes first, absences through /tider's confirm step, and typed answers to the
newest booking request that name it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from kortkontor.wiring import Services
from models.cards import Card, CardStatus
from models.db import transaction
from models.invites import InvitePurpose, issue_invite
from models.meetings import MeetingStatus
from models.network import Absence
from tests.bot.world import Chat, Clock, World, active_meeting, card_link
from tests.bot.world import new_dialogue as dialogue_on

ANNA_TG, MARIA_TG, AHMED_TG = 9201, 9301, 9302


@pytest.fixture
async def anna(services: Services, world: World, clock: Clock) -> Chat:
    async with transaction(services.sessions) as session:
        token = await issue_invite(session, purpose=InvitePurpose.admin, admin_id=world.admin_id)
    chat = Chat(dialogue_on(services, clock), ANNA_TG)
    await chat.send(f"/start {token}")
    assert "ID-administratör för Uppsala centrum" in chat.text
    return chat


async def user(services: Services, world: World, clock: Clock, name: str, tg: int) -> Chat:
    chat = Chat(dialogue_on(services, clock), tg)
    await chat.send(f"/start {await card_link(services, world.users[name])}")
    return chat


async def card_status(services: Services, card_id: int) -> CardStatus:
    async with services.sessions() as session:
        card = await session.get(Card, card_id)
        assert card is not None
        return card.status


async def test_small_talk_and_help(anna: Chat) -> None:
    await anna.send("hej")
    assert "Hej, Anna!" in anna.text and "Idag" in anna.labels()
    await anna.send("tack")
    assert "Varsågod" in anna.text
    await anna.send("vad kan du göra?")
    assert "/idag" in anna.text and "/kort" in anna.text


async def test_agenda_by_text(services: Services, world: World, clock: Clock, anna: Chat) -> None:
    await anna.send("vad har jag idag")
    assert "Inga möten" in anna.text
    await anna.send("vad har jag imorgon")
    assert "Inga möten imorgon." in anna.text
    maria = await user(services, world, clock, "maria", MARIA_TG)
    await maria.send("imorgon efter 16")
    await maria.press(maria.labels()[0])
    await maria.press("Bekräfta")
    await anna.send("vad har jag imorgon")
    assert "tisdag 1 december kl. 16:00" in anna.text and "Maria Test (SE-1)" in anna.text
    await anna.send("kommande")
    assert "tisdag 1 december kl. 16:00" in anna.text
    await anna.send("vilka kort har jag")
    assert "SE-1 Maria Test" in anna.text


async def test_picked_up_by_text_needs_a_yes(services: Services, world: World, anna: Chat) -> None:
    await anna.send("hämtat SE-2 och SE-9")
    assert "Hämtat hos postombudet: SE-2 Ahmed Test?" in anna.text
    assert "SE-9" in anna.text  # not expected: said so
    assert await card_status(services, world.cards["ahmed"]) == CardStatus.shipped
    await anna.send("nej")
    assert "inget är registrerat" in anna.text
    assert await card_status(services, world.cards["ahmed"]) == CardStatus.shipped
    await anna.send("hämtat SE-2")
    await anna.send("ja")
    assert "Hämtat: SE-2" in anna.text
    assert await card_status(services, world.cards["ahmed"]) == CardStatus.in_custody


async def test_picked_up_without_names_shows_the_list(anna: Chat) -> None:
    await anna.send("har hämtat rek")
    assert "☐ SE-2 Ahmed Test" in anna.labels()


async def test_avi_by_text(services: Services, world: World, anna: Chat) -> None:
    await anna.send("avin har kommit för SE-2")
    assert "Avin har kommit för: SE-2 Ahmed Test?" in anna.text
    await anna.press("Ja, registrera")
    assert "Avi registrerad: SE-2" in anna.text
    assert await card_status(services, world.cards["ahmed"]) == CardStatus.notified
    await anna.send("avin har kommit")
    assert "Inga kort är på väg" in anna.text


async def test_absence_by_text_goes_through_the_confirm_step(
    services: Services, world: World, anna: Chat
) -> None:
    await anna.send("ledig fredag")
    assert "4 december" in anna.text and "Spara" in anna.labels()
    await anna.send("ja")
    await anna.send("sjuk idag")
    assert "30 november" in anna.text
    await anna.send("ja")
    async with services.sessions() as session:
        absences = (await session.exec(select(Absence))).all()
    days = {(a.first_day, a.last_day) for a in absences if a.admin_id == world.admin_id}
    assert {
        (date(2026, 12, 4), date(2026, 12, 4)),
        (date(2026, 11, 30), date(2026, 11, 30)),
    } <= days


async def test_answering_the_newest_request_by_text(
    services: Services, world: World, clock: Clock, anna: Chat
) -> None:
    await anna.send("ja")
    assert "Ingen bokningsförfrågan väntar" in anna.text
    maria = await user(services, world, clock, "maria", MARIA_TG)
    await maria.book("måndag 30 november kl. 16:00")
    await anna.send("ok")
    assert "Förfrågan från Maria Test (SE-1) om måndag 30 november kl. 16:00" in anna.text
    assert "Bekräftad" in anna.text
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.status == MeetingStatus.confirmed


async def test_declining_the_newest_request_by_text(
    services: Services, world: World, clock: Clock, anna: Chat
) -> None:
    maria = await user(services, world, clock, "maria", MARIA_TG)
    await maria.book("måndag 30 november kl. 16:00")
    await anna.send("nej det passar inte")
    assert "Förfrågan från Maria Test (SE-1)" in anna.text and "Avböjd" in anna.text
    assert await active_meeting(services, world.cards["maria"]) is None


async def test_english_in_a_swedish_admin_chat(anna: Chat) -> None:
    await anna.send("what do I have tomorrow")
    assert "No meetings tomorrow." in anna.text and "English" in anna.labels()
    await anna.press("English")
    await anna.send("picked up SE-2")
    assert "Picked up at the postal agent: SE-2 Ahmed Test?" in anna.text


async def test_not_understood_twice_is_said_differently(anna: Chat) -> None:
    await anna.send("xyzzy plugh")
    first = anna.text
    await anna.send("qwerty asdf")
    assert anna.text != first and "Idag" in anna.labels()


async def test_an_admin_in_english_mode(
    services: Services, world: World, clock: Clock, anna: Chat
) -> None:
    await anna.send("/language")
    await anna.press("English")
    await anna.send("what do i have today")
    assert "No meetings in this period." in anna.text
    await anna.send("what do i have tomorrow")
    assert "No meetings tomorrow." in anna.text
    await anna.send("which cards do i have")
    assert "SE-1 Maria Test" in anna.text
    await anna.send("picked up SE-2")
    await anna.send("yes")
    assert "Picked up: SE-2" in anna.text
    await anna.send("off on friday")
    assert "4 December" in anna.text
    await anna.send("help")
    assert "/idag" in anna.text
    maria = await user(services, world, clock, "maria", MARIA_TG)
    await maria.book("måndag 30 november kl. 16:00")
    await anna.send("ok")
    assert "The request from Maria Test (SE-1) for Monday 30 November at 16:00" in anna.text


async def test_an_admin_asks_for_english(anna: Chat) -> None:
    await anna.send("english please")
    assert "Language changed." in anna.text and "Today" in anna.labels()
    await anna.send("svenska tack")
    assert "Språket är ändrat." in anna.text


async def test_a_typed_yes_mid_outcome_points_to_the_buttons(
    services: Services, world: World, clock: Clock, anna: Chat
) -> None:
    maria = await user(services, world, clock, "maria", MARIA_TG)
    await maria.book("måndag 30 november kl. 16:00")
    await anna.send("ja")
    assert "Bekräftad" in anna.text
    await anna.send("/idag")
    await anna.press("16:00 Maria Test")
    await anna.press("Utlämnat")
    assert {"SIS-märkt id-kort", "Svenskt nationellt id-kort"} <= set(anna.labels())
    await anna.press("Svenskt pass")
    check = anna.button("Ja")
    await anna.send("ja")
    assert "Svara med knapparna ovanför" in anna.text
    await anna.press_data(check)  # the question's buttons still answer it
    for _ in range(4):
        await anna.press("Ja")
    assert "Utlämnat: SE-1" in anna.text


async def test_an_admin_is_asked_did_you_mean(anna: Chat) -> None:
    await anna.send("idag imorgon")
    assert "Menade du …?" in anna.text and anna.labels() == ["Idag", "Imorgon", "Meny"]
    await anna.press("Imorgon")
    assert "Inga möten imorgon." in anna.text
