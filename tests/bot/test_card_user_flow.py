"""The card user's chat through the dialogue engine, on a real database: linking, status,
booking, moving, cancelling, language, and whatever else people type."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import event
from sqlmodel import select

from kortkontor.wiring import Services
from models.cards import Card, CardStatus, CardUser
from models.db import transaction
from models.meetings import Meeting, MeetingStatus
from scheduler import booking
from tests.bot.world import (
    NOW,
    Chat,
    Clock,
    World,
    active_meeting,
    build_world,
    card_link,
    linked_card_user,
)
from tests.bot.world import new_dialogue as dialogue_on

MARIA_TG, AHMED_TG, STRANGER_TG = 5001, 5002, 5999


async def test_a_stranger_is_asked_to_share_their_own_number(
    services: Services, world: World, clock: Clock
) -> None:
    chat = Chat(dialogue_on(services, clock), STRANGER_TG)
    replies = await chat.send("/start")
    assert "Hej!" in chat.text and "Dela mitt telefonnummer" in chat.text
    assert replies[0].contact_button == "Dela mitt telefonnummer"
    # Whatever a stranger writes, they learn nothing about cards, only how to link.
    await chat.send("Var är mitt kort SE-1?")
    assert replies[0].contact_button and "SE-1" not in chat.text and "Uppsala" not in chat.text


async def test_deep_link_links_once(services: Services, world: World, clock: Clock) -> None:
    token = await card_link(services, world.users["maria"])
    maria = Chat(dialogue_on(services, clock), MARIA_TG)
    await maria.send(f"/start {token}")
    assert "Välkommen, Maria!" in maria.text
    assert "Uppsala centrum" in maria.text and "Boka" in maria.labels()

    thief = Chat(dialogue_on(services, clock), STRANGER_TG)
    await thief.send(f"/start {token}")
    assert "går inte att använda" in thief.text and "Maria" not in thief.text
    async with services.sessions() as session:
        user = await session.get(CardUser, world.users["maria"])
        assert user is not None and user.telegram_user_id == MARIA_TG


async def test_contact_links_only_the_senders_own_known_number(
    services: Services, world: World, clock: Clock
) -> None:
    chat = Chat(dialogue_on(services, clock), AHMED_TG)
    await chat.send("/start")
    forged = await chat.share_contact("+46702223344", contact_user_id=STRANGER_TG)
    unknown = await chat.share_contact("+46709999999", contact_user_id=AHMED_TG)
    # A forged contact and an unknown number get the very same answer.
    assert forged[0].text == unknown[0].text and "kunde inte koppla" in unknown[0].text
    await chat.share_contact("070-222 33 44", contact_user_id=AHMED_TG)
    assert "Välkommen, Ahmed!" in chat.text
    assert "på väg som rekommenderat brev" in chat.text
    # Shipped on import (ordered_at = now): expected in 2–4 weeks.
    assert "mellan" in chat.text and "Boka" not in chat.labels()


async def test_book_with_a_free_text_wish_and_confirm(
    services: Services, world: World, clock: Clock
) -> None:
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await chat.press("Boka")
    assert "När passar det dig?" in chat.text
    assert {"Snarast", "Förmiddag", "Eftermiddag", "Mån", "Fre"} <= set(chat.labels())
    await chat.send("tisdag efter 17")
    offers = [label for label in chat.labels() if "kl." in label]
    assert 3 <= len(offers) <= 5
    assert all(label.startswith("tisdag") for label in offers), offers
    assert offers[0] == "tisdag 1 december kl. 17:00 · Café Linné"
    await chat.press("tisdag 1 december kl. 17:00")
    summary = chat.text
    assert "Stämmer det här?" in summary
    assert "Tid: tisdag 1 december kl. 17:00" in summary
    assert "Plats: Café Linné, Svartbäcksgatan 22, 753 33 Uppsala" in summary
    assert "ID-administratör: Anna" in summary
    assert "svenskt pass" in summary and "SIS-märkt id-kort" in summary and "PIN-brev" in summary
    assert "Anna bekräftar tiden" in summary
    assert await active_meeting(services, world.cards["maria"]) is None
    await chat.press("Bekräfta")
    assert "Din förfrågan är skickad" in chat.text
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.status == MeetingStatus.requested
    assert meeting.starts_at == NOW + timedelta(days=1, hours=8)
    assert {"Ändra tid", "Avboka"} <= set(chat.labels())


async def test_auto_confirm_books_at_once(services: Services, clock: Clock) -> None:
    world = await build_world(services, auto_confirm=True)
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await chat.press("Boka")
    await chat.press("Snarast")
    await chat.press("måndag 30 november kl. 16:00")
    assert "bekräftar" not in chat.text
    await chat.press("Bekräfta")
    assert "Klart! Din tid är bokad." in chat.text
    async with services.sessions() as session:
        card = await session.get(Card, world.cards["maria"])
        assert card is not None and card.status == CardStatus.booked


async def test_a_typed_time_picks_the_offer_and_ja_confirms(
    services: Services, world: World, clock: Clock
) -> None:
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await chat.send("boka")
    await chat.send("onsdag 2 december")
    await chat.send("16:30")
    assert "Tid: onsdag 2 december kl. 16:30" in chat.text
    await chat.send("Ja")
    assert "Din förfrågan är skickad" in chat.text


async def test_the_answer_explains_a_wish_that_cannot_be_met(
    services: Services, world: World, clock: Clock
) -> None:
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await chat.press("Boka")
    await chat.send("lördag förmiddag")
    assert "Ingen tid" in chat.text and "närmaste är" in chat.text
    await chat.send("blåbärssoppa")
    assert "förstod inte riktigt" in chat.text
    assert any("kl." in label for label in chat.labels())


async def test_move_keeps_the_old_time_until_the_new_one_is_taken(
    services: Services, world: World, clock: Clock
) -> None:
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await chat.book("måndag 30 november kl. 16:00")
    first = await active_meeting(services, world.cards["maria"])
    await chat.press("Ändra tid")
    await chat.send("torsdag")
    await chat.press("torsdag 3 december kl. 16:00")
    still = await active_meeting(services, world.cards["maria"])
    assert still is not None and first is not None and still.id == first.id
    await chat.press("Bekräfta")
    moved = await active_meeting(services, world.cards["maria"])
    assert moved is not None and moved.id != first.id
    assert moved.starts_at == NOW + timedelta(days=3, hours=7)
    async with services.sessions() as session:
        old = await session.get(Meeting, first.id)
        assert old is not None and old.status == MeetingStatus.cancelled
    # A request not yet confirmed is simply replaced, and the reply says which time went.
    assert "Din tidigare önskade tid måndag 30 november kl. 16:00 är släppt." in chat.text


async def test_a_move_confirmed_at_once_names_the_time_it_released(
    services: Services, clock: Clock
) -> None:
    world = await build_world(services, auto_confirm=True)
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await chat.book("måndag 30 november kl. 16:00")
    await chat.press("Ändra tid")
    await chat.send("torsdag")
    await chat.press("torsdag 3 december kl. 16:00")
    assert "Din tid måndag 30 november kl. 16:00 släpps när du bekräftar." in chat.text
    await chat.press("Bekräfta")
    assert "Klart! Din tid är bokad." in chat.text
    assert "Tid: torsdag 3 december kl. 16:00" in chat.text
    assert "Din tidigare tid måndag 30 november kl. 16:00 är släppt." in chat.text


async def confirm(services: Services, world: World, meeting: Meeting | None) -> None:
    """Anna confirms the request (her side of the chat is tested in test_admin_flow)."""
    assert meeting is not None and meeting.id is not None
    async with transaction(services.sessions) as session:
        await booking.confirm(session, meeting_id=meeting.id, admin_id=world.admin_id, now=NOW)


async def pending_move(services: Services, meeting: Meeting) -> Meeting | None:
    async with services.sessions() as session:
        return await booking.pending_move_of(session, meeting)


async def test_status_during_a_move_shows_the_booked_time_and_the_wish(
    services: Services, world: World, clock: Clock
) -> None:
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await chat.book("måndag 30 november kl. 16:00")
    await confirm(services, world, await active_meeting(services, world.cards["maria"]))
    await chat.send("/status")
    await chat.press("Ändra tid")
    await chat.send("torsdag")
    await chat.press("torsdag 3 december kl. 16:00")
    stands = "Din tid måndag 30 november kl. 16:00 gäller tills Anna har bekräftat den nya."
    assert stands in chat.text
    await chat.press("Bekräfta")
    assert "Din förfrågan är skickad" in chat.text and stands in chat.text

    await chat.send("/status")
    status = chat.text
    assert "Boka en tid" not in status and "Boka" not in chat.labels()
    assert "Ditt SITHS-kort finns hos Uppsala centrum (Uppsala), och du har en tid" in status
    assert "Din tid är bokad:\nTid: måndag 30 november kl. 16:00" in status
    assert (
        "Du har bett att få flytta den till (väntar på att Anna bekräftar):\n"
        "Tid: torsdag 3 december kl. 16:00"
    ) in status
    assert "Till dess gäller din bokade tid." in status
    assert {"Ändra tid", "Avboka"} <= set(chat.labels())

    # Anna declines the new time: the booked one stands, and /status shows it alone.
    booked = await active_meeting(services, world.cards["maria"])
    assert booked is not None and booked.starts_at == NOW + timedelta(hours=7)
    wish = await pending_move(services, booked)
    assert wish is not None and wish.id is not None
    async with transaction(services.sessions) as session:
        await booking.decline(session, meeting_id=wish.id, admin_id=world.admin_id, now=NOW)
    await chat.send("/status")
    assert "Din tid är bokad:\nTid: måndag 30 november kl. 16:00" in chat.text
    assert "flytta" not in chat.text and "Boka" not in chat.labels()


async def test_cancelling_during_a_move_cancels_the_wish_too(
    services: Services, world: World, clock: Clock
) -> None:
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await chat.book("måndag 30 november kl. 16:00")
    await confirm(services, world, await active_meeting(services, world.cards["maria"]))
    await chat.send("/status")
    await chat.press("Ändra tid")
    await chat.send("torsdag")
    await chat.press("torsdag 3 december kl. 16:00")
    await chat.press("Bekräfta")
    await chat.send("/avboka")
    assert "Tid: måndag 30 november kl. 16:00" in chat.text
    assert "Din begäran att flytta den till torsdag 3 december kl. 16:00 dras också" in chat.text
    await chat.press("Avboka")
    assert "Din tid är avbokad" in chat.text and "Boka" in chat.labels()
    async with services.sessions() as session:
        meetings = (await session.exec(select(Meeting))).all()
    assert {m.status for m in meetings} == {MeetingStatus.cancelled}


async def test_cancel_and_the_cut_off(services: Services, world: World, clock: Clock) -> None:
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await chat.send("/boka")
    await chat.press("Snarast")
    await chat.press("måndag 30 november kl. 16:00")
    await chat.press("Bekräfta")
    await chat.send("/avboka")
    assert "Vill du avboka den här tiden?" in chat.text
    await chat.press("Behåll tiden")
    assert await active_meeting(services, world.cards["maria"]) is not None

    clock.now = NOW + timedelta(hours=6)  # 15:00, an hour before the meeting
    await chat.press("Ändra tid")
    assert "inom 2 timmar" in chat.text
    await chat.send("/avboka")
    await chat.press("Avboka")
    assert "inom 2 timmar" in chat.text
    assert await active_meeting(services, world.cards["maria"]) is not None

    clock.now = NOW
    await chat.send("/avboka")
    await chat.press("Avboka")
    assert "Din tid är avbokad" in chat.text and "Boka" in chat.labels()
    assert await active_meeting(services, world.cards["maria"]) is None
    async with services.sessions() as session:
        card = await session.get(Card, world.cards["maria"])
        assert card is not None and card.status == CardStatus.in_custody


async def test_a_lost_race_offers_times_nearby(
    services: Services, world: World, clock: Clock
) -> None:
    maria = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await maria.press("Boka")
    await maria.press("Snarast")
    await maria.press("måndag 30 november kl. 16:00")
    # Ahmed's card arrives, and he takes 16:00 while Maria reads her summary.
    async with transaction(services.sessions) as session:
        card = await session.get(Card, world.cards["ahmed"])
        assert card is not None
        card.status = CardStatus.in_custody
        session.add(card)
    ahmed = await linked_card_user(services, world, clock, "ahmed", AHMED_TG)
    await ahmed.book("måndag 30 november kl. 16:00")
    assert "Din förfrågan är skickad" in ahmed.text

    await maria.press("Bekräfta")
    assert "Någon hann precis boka den tiden" in maria.text
    assert "måndag 30 november kl. 16:15 · Café Linné" in maria.labels()
    assert await active_meeting(services, world.cards["maria"]) is None


async def test_a_stale_or_forged_button_changes_nothing(
    services: Services, world: World, clock: Clock
) -> None:
    maria = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await maria.press("Boka")
    await maria.press("Snarast")
    old_offer = maria.button("måndag 30 november kl. 16:00")
    await maria.press_data(old_offer)
    confirm = maria.button("Bekräfta")

    lena = await linked_card_user(services, world, clock, "lena", 5003)
    await lena.press_data(confirm)  # Maria's confirm button, forged into Lena's chat
    assert "gäller inte längre" in lena.text
    await lena.press_data("o:nonsense")
    assert "gäller inte längre" in lena.text
    await lena.press_data("cmd:drop_tables")
    assert "gäller inte längre" in lena.text
    assert await active_meeting(services, world.cards["maria"]) is None
    assert await active_meeting(services, world.cards["lena"]) is None

    await maria.press_data(old_offer)  # an offer from an earlier message
    assert "gäller inte längre" in maria.text and "Boka" in maria.labels()
    await maria.press_data(confirm)  # the summary is no longer the latest message either
    assert await active_meeting(services, world.cards["maria"]) is None


async def test_a_redelivered_update_changes_nothing(
    services: Services, world: World, clock: Clock
) -> None:
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await chat.press("Boka")
    await chat.press("Snarast")
    await chat.press("måndag 30 november kl. 16:00")
    from bot.dialogue import Incoming

    press = Incoming(
        channel="telegram",
        chat_key=str(MARIA_TG),
        user_id=MARIA_TG,
        update_id=900_000,
        button=chat.button("Bekräfta"),
    )
    assert await chat.dialogue.handle(press)
    assert await chat.dialogue.handle(press) == []
    async with services.sessions() as session:
        meetings = (await session.exec(select(Meeting))).all()
    assert len(meetings) == 1


async def test_a_restart_mid_booking_continues_where_it_was(
    services: Services, world: World, clock: Clock
) -> None:
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await chat.press("Boka")
    await chat.send("fredag")
    await chat.press("fredag 4 december kl. 16:00")
    confirm = chat.button("Bekräfta")
    # A new process: a fresh engine and database connections; only the database remembers.
    from kortkontor.settings import Settings
    from kortkontor.wiring import build_services
    from tests.conftest import TEST_SECRET_KEY

    restarted = build_services(
        Settings(database_url=services.settings.database_url), secret_key=TEST_SECRET_KEY
    )
    try:
        again = Chat(dialogue_on(restarted, clock), MARIA_TG)
        again.last = chat.last
        await again.press_data(confirm)
        assert "Din förfrågan är skickad" in again.text
    finally:
        await restarted.close()
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.starts_at == NOW + timedelta(days=4, hours=7)


async def test_two_workers_take_turns_on_one_chat(
    services: Services, world: World, clock: Clock
) -> None:
    """Each worker keeps a copy of the states it wrote; a copy gone stale is never trusted."""
    first = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    second = Chat(dialogue_on(services, clock), MARIA_TG)  # another process, its own copies
    await first.press("Boka")
    second.last = first.last
    await second.press("Snarast")  # the second worker reads the row: no copy of its own yet
    first.last = second.last
    # The first worker's copy is from before «Snarast»: without the offers just shown. Its
    # write fails on the row's version, and the update is handled again from the row.
    await first.press("måndag 30 november kl. 16:00")
    assert "Bekräfta" in first.labels(), first.text
    second.last = first.last
    await second.press("Bekräfta")  # the second worker's copy is stale the same way
    assert "Din förfrågan är skickad" in second.text
    async with services.sessions() as session:
        meetings = (await session.exec(select(Meeting))).all()
    assert len(meetings) == 1


async def test_a_redelivered_update_changes_nothing_on_another_worker(
    services: Services, world: World, clock: Clock
) -> None:
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    other = dialogue_on(services, clock)
    from bot.dialogue import Incoming

    menu = Incoming(channel="telegram", chat_key=str(MARIA_TG), user_id=MARIA_TG, update_id=7)
    assert await chat.dialogue.handle(replace(menu, text="/meny"))
    assert await other.handle(replace(menu, text="/meny")) == []
    await chat.send("/status")  # the other worker wrote nothing: the first one's copy holds
    assert "väntar på dig" in chat.text


async def test_a_worker_reads_the_chat_state_once_then_uses_its_copy(
    services: Services, world: World, clock: Clock
) -> None:
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    engine = services.sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        await chat.send("/meny")
    finally:
        event.remove(engine, "before_cursor_execute", note)
    reads = [s for s in statements if s.lstrip().startswith("SELECT dialogue_state")]
    writes = [s for s in statements if s.lstrip().startswith("UPDATE dialogue_state")]
    assert reads == [] and len(writes) == 1 and "dialogue_state.version = " in writes[0]


async def test_language_help_and_odd_input(services: Services, world: World, clock: Clock) -> None:
    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)
    await chat.send("/hjalp")
    assert "/boka" in chat.text and "PIN-brev" in chat.text
    await chat.send("/language")
    await chat.press("English")
    assert "Language changed." in chat.text and "What would you like to do?" in chat.text
    assert "Book" in chat.labels()
    await chat.send("/language")
    await chat.press("Svenska")
    assert "Vad vill du göra?" in chat.text
    await chat.send(None)  # a sticker or a photo
    assert "bara läsa text" in chat.text
    await chat.send("🙂" * 5000)
    assert "förstod jag inte riktigt" in chat.text
    await chat.send("/okänt")
    assert "kommandot känner jag inte" in chat.text
    await chat.send("Var är mitt kort?")
    assert "finns hos Uppsala centrum" in chat.text


async def test_update_ids_that_restart_lower_are_still_handled(
    services: Services, world: World, clock: Clock
) -> None:
    # Telegram may number updates afresh after a quiet week: a lower id is a new update.
    from bot.dialogue import Incoming

    chat = await linked_card_user(services, world, clock, "maria", MARIA_TG)

    def update(update_id: int, text: str) -> Incoming:
        return Incoming(
            channel="telegram",
            chat_key=str(MARIA_TG),
            user_id=MARIA_TG,
            update_id=update_id,
            text=text,
        )

    assert await chat.dialogue.handle(update(5_000_000, "/status"))
    assert await chat.dialogue.handle(update(17, "/hjalp"))
    assert await chat.dialogue.handle(update(17, "/hjalp")) == []
