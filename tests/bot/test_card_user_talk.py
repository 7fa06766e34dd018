"""The card user's free text in every state, read by the understanding layer: the issue's own
phrases, questions answered in passing, and cancel or move only after an explicit yes."""

from __future__ import annotations

import pytest

from kortkontor.wiring import Services
from models.meetings import MeetingStatus
from tests.bot.world import Chat, Clock, World, active_meeting, linked_card_user

MARIA_TG, AHMED_TG = 5101, 5102
BOOKED = "måndag 30 november kl. 16:00"


@pytest.fixture
async def maria(services: Services, world: World, clock: Clock) -> Chat:
    return await linked_card_user(services, world, clock, "maria", MARIA_TG)


@pytest.fixture
async def booked(services: Services, world: World, maria: Chat) -> Chat:
    await maria.book(BOOKED)
    assert "Din förfrågan är skickad" in maria.text
    return maria


async def test_small_talk_at_the_menu(maria: Chat) -> None:
    await maria.send("hej")
    assert "Hej, Maria!" in maria.text and "Boka" in maria.labels()
    await maria.send("tack")
    assert "Varsågod" in maria.text
    await maria.send("vad kan du göra?")
    assert "/boka" in maria.text and "PIN-brev" in maria.text
    await maria.send("hej då")
    assert "Hej då" in maria.text


async def test_questions_without_a_booking(maria: Chat) -> None:
    await maria.send("när kan jag hämta mitt kort?")
    assert "Uppsala centrum" in maria.text and "Boka" in maria.labels()
    await maria.send("har mitt kort kommit?")
    assert "väntar på dig" in maria.text
    await maria.send("vad ska jag ta med mig?")
    assert "giltig" in maria.text and "PIN-brev" in maria.text
    assert "svenskt nationellt id-kort" in maria.text
    await maria.send("var ligger kontoret?")
    assert "Café Linné, Svartbäcksgatan 22, 753 33 Uppsala" in maria.text
    assert "https://www.google.com/maps/search/?api=1&query=Svartb%C3%A4cksgatan+22" in maria.text
    await maria.send("hur länge sparas kortet?")
    assert "30 dagar" in maria.text and "boka en tid före" in maria.text


async def test_book_by_text_straight_to_proposals(services: Services, maria: Chat) -> None:
    await maria.send("jag vill boka en tid")
    assert "När passar det dig?" in maria.text
    await maria.send("meny")
    await maria.send("imorgon efter 15")
    offers = [label for label in maria.labels() if "kl." in label]
    assert offers and all(label.startswith("tisdag 1 december") for label in offers), offers
    await maria.send("meny")
    await maria.send("tisdag eftermiddag")
    assert maria.labels()[0].startswith("tisdag 1 december kl. 16:00")
    await maria.send("tisdga")
    assert maria.labels()[0].startswith("tisdag 1 december")


async def test_ok_at_the_summary_books_and_another_wish_replaces_it(
    services: Services, world: World, maria: Chat
) -> None:
    await maria.send("tisdag eftermiddag")
    await maria.press("tisdag 1 december kl. 16:00")
    assert "Stämmer det här?" in maria.text
    await maria.send("onsdag")
    offers = [label for label in maria.labels() if "kl." in label]
    assert offers and all(label.startswith("onsdag") for label in offers), offers
    await maria.press("onsdag 2 december kl. 16:00")
    # A question in passing keeps the summary's buttons.
    await maria.send("vad ska jag ta med?")
    assert "PIN-brev" in maria.text
    await maria.send("ok")
    assert "Din förfrågan är skickad" in maria.text
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.status == MeetingStatus.requested


async def test_no_at_the_summary_books_nothing(
    services: Services, world: World, maria: Chat
) -> None:
    await maria.send("tisdag eftermiddag")
    await maria.press("tisdag 1 december kl. 16:00")
    await maria.send("nej")
    assert "inte bokad" in maria.text
    assert await active_meeting(services, world.cards["maria"]) is None


async def test_with_a_booking(services: Services, world: World, booked: Chat) -> None:
    await booked.send("när är min tid?")
    assert "måndag 30 november kl. 16:00" in booked.text and "Karta:" in booked.text
    await booked.send("var ses vi?")
    assert "Café Linné" in booked.text and "google.com/maps" in booked.text
    await booked.send("jag kan inte komma")
    assert {"Ändra tid", "Avboka"} <= set(booked.labels())
    assert await active_meeting(services, world.cards["maria"]) is not None


async def test_cancel_by_text_needs_a_yes(services: Services, world: World, booked: Chat) -> None:
    await booked.send("jag vill avboka")
    assert "Vill du avboka den här tiden?" in booked.text
    assert await active_meeting(services, world.cards["maria"]) is not None
    await booked.send("nej")
    assert "inte avbokad" in booked.text and "måndag 30 november kl. 16:00" in booked.text
    assert await active_meeting(services, world.cards["maria"]) is not None
    await booked.send("jag vill avboka")
    await booked.send("ja")
    assert "avbokad" in booked.text
    assert await active_meeting(services, world.cards["maria"]) is None


async def test_avboka_typed_at_the_cancel_prompt_is_its_button(
    services: Services, world: World, booked: Chat
) -> None:
    await booked.send("Avboka")
    assert "Vill du avboka den här tiden?" in booked.text
    await booked.send("Avboka")
    assert "avbokad" in booked.text
    assert await active_meeting(services, world.cards["maria"]) is None


async def test_move_by_text(services: Services, world: World, booked: Chat) -> None:
    await booked.send("kan jag ändra tiden?")
    assert "När passar det dig?" in booked.text
    await booked.send("meny")
    # A time wish while a meeting exists is a move: proposals, nothing moved yet.
    await booked.send("torsdag")
    offers = [label for label in booked.labels() if "kl." in label]
    assert offers and all(label.startswith("torsdag") for label in offers), offers
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.starts_at.day == 30
    await booked.press("torsdag 3 december kl. 16:00")
    assert "släpps när du bekräftar" in booked.text or "står kvar" in booked.text
    await booked.send("ja")
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.starts_at.day == 3


async def test_a_plain_no_keeps_things_as_they_are(booked: Chat) -> None:
    await booked.send("nej")
    assert "Okej, inget är ändrat." in booked.text


async def test_unsure_asks_did_you_mean_and_lost_twice_is_said_differently(maria: Chat) -> None:
    await maria.send("xyzzy plugh")
    first = maria.text
    assert "förstod jag inte" in first
    await maria.send("qwerty asdf")
    assert maria.text != first and "Boka" in maria.labels()
    await maria.send("boka avboka")
    await maria.send("hej")  # understood: the count starts over
    await maria.send("xyzzy plugh")
    assert maria.text == first


async def test_did_you_mean_offers_the_readings_as_buttons(services: Services, maria: Chat) -> None:
    await maria.send("mitt kort tid")
    assert "Menade du …?" in maria.text
    assert maria.labels() == ["Var är mitt kort?", "Boka en tid", "Meny"]
    await maria.press("Boka en tid")
    assert "När passar det dig?" in maria.text
    # A weak reading of a single word is asked about too.
    await maria.send("meny")
    await maria.send("tid")
    assert "Menade du …?" in maria.text and "Boka en tid" in maria.labels()
    # The second miss in a row offers the menu instead of asking again.
    await maria.send("kortet tiden")
    assert "Menade du" not in maria.text and "fortfarande inte" in maria.text
    assert "Boka" in maria.labels()


async def test_english_in_a_swedish_chat(maria: Chat) -> None:
    await maria.send("tuesday afternoon")
    assert maria.labels()[0].startswith("Tuesday 1 December") or "Tuesday" in maria.text
    assert "write in English" in maria.text and "English" in maria.labels()
    await maria.press("English")
    assert "Language changed" in maria.text
    await maria.send("what should I bring?")
    assert "PIN letter" in maria.text and "write in English" not in maria.text
    await maria.send("tuesday afternoon")
    assert maria.labels()[0].startswith("Tuesday 1 December")


async def test_every_question_in_english_mode(
    services: Services, world: World, maria: Chat
) -> None:
    await maria.send("/language")
    await maria.press("English")
    await maria.send("hello")
    assert "Hello, Maria!" in maria.text
    await maria.send("what can you do?")
    assert "/boka" in maria.text and "PIN letter" in maria.text
    await maria.send("has my card arrived?")
    assert "waits for you" in maria.text
    await maria.send("what should i bring")
    assert "PIN letter" in maria.text
    await maria.send("where is the office")
    assert "Svartbäcksgatan 22" in maria.text and "Map:" in maria.text
    await maria.send("how long do you keep the card")
    assert "30 days" in maria.text
    await maria.send("i want to book a time")
    assert "When would suit you?" in maria.text
    await maria.send("tomorrow after 4pm")
    assert maria.labels()[0].startswith("Tuesday 1 December at 16:00")
    await maria.press("Tuesday 1 December at 16:00")
    await maria.send("yes")
    assert "Your request is sent" in maria.text
    await maria.send("when is my appointment")
    assert "Tuesday 1 December at 16:00" in maria.text
    await maria.send("i can't come")
    assert {"Change time", "Cancel booking"} <= set(maria.labels())
    await maria.send("i want to cancel")
    assert "Do you want to cancel this time?" in maria.text
    await maria.send("no")
    assert "not cancelled" in maria.text
    await maria.send("thursday")
    assert maria.labels()[0].startswith("Thursday")
    await maria.send("thanks, bye")
    assert "write in English" not in maria.text
    await maria.send("svenska tack")
    assert "Språket är ändrat" in maria.text


async def test_asking_for_english_switches_without_a_second_offer(maria: Chat) -> None:
    await maria.send("english please")
    assert "Language changed." in maria.text and "write in English" not in maria.text
    await maria.send("hello")
    assert "Hello, Maria!" in maria.text


async def test_how_long_the_card_is_kept_once_booked(booked: Chat) -> None:
    await booked.send("hur länge sparas kortet?")
    assert "30 dagar" in booked.text and "boka en tid före" not in booked.text
