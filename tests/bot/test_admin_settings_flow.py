"""The admin's /tider through the real dialogue engine, on a real database.

The admin flow's routing to /tider is not assumed here: the dialogue runs a flow that hands
every update to `admin_settings_flow.handle` for a chosen admin, and checks the routing
contract (steps «tider…», buttons `cmd:tider…`/`cmd:menu`, offers «tider:…») on every reply.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot import admin_settings_flow
from bot.dialogue import Conversation, Dialogue
from kortkontor.wiring import Services
from models.audit import AuditEvent
from models.db import transaction
from models.meetings import Meeting
from models.network import Absence, Admin, AvailabilityWindow, Office, Venue
from scheduler import booking
from scheduler.actions import Command, Name
from scheduler.slots import Slot
from tests.bot.admin_settings_chat import ANNA_TG, AsAdmin, settings_chat
from tests.bot.world import NOW, Chat, Clock, World


@pytest.fixture
def anna(services: Services, world: World, clock: Clock) -> Chat:
    return settings_chat(services, clock, AsAdmin(world.admin_id))


async def windows_of(services: Services, admin_id: int) -> list[tuple[int, str, str]]:
    async with services.sessions() as session:
        rows = await session.exec(
            select(AvailabilityWindow)
            .where(AvailabilityWindow.admin_id == admin_id)
            .order_by(col(AvailabilityWindow.weekday), col(AvailabilityWindow.start))
        )
        return [(w.weekday, f"{w.start:%H:%M}", f"{w.end:%H:%M}") for w in rows.all()]


async def book(services: Services, world: World, name: str, starts_at: datetime) -> Meeting:
    """A requested meeting for a card user's card with Anna at the café."""
    async with transaction(services.sessions) as session:
        venue = (await session.exec(select(Venue).where(Venue.key == "cafe"))).first()
        assert venue is not None
        slot = Slot(world.admin_id, venue.id, starts_at, starts_at + timedelta(minutes=15))
        result = await booking.request_booking(
            session,
            card_id=world.cards[name],
            card_user_id=world.users[name],
            slot=slot,
            now=NOW,
        )
    assert isinstance(result, booking.Booked)
    return result.meeting


async def test_tider_shows_windows_venues_absences_and_settings(anna: Chat) -> None:
    await anna.send("/tider")
    text = anna.text
    assert "Dina tider på Uppsala centrum:" in text
    assert "• måndag 16:00–19:00, Café Linné" in text and "• fredag 16:00–19:00" in text
    assert "Café Linné, Svartbäcksgatan 22, 753 33 Uppsala (café)" in text
    assert "Ingen frånvaro inplanerad." in text
    assert "Hemleverans: av" in text and "Autobekräfta: av" in text
    assert anna.labels() == [
        "Lägg till tid",
        "Ta bort tid",
        "Mötesplatser",
        "Frånvaro",
        "Hemleverans på/av",
        "Autobekräfta på/av",
        "Säg upp dig",
        "Meny",
    ]
    assert anna.button("Lägg till tid") == "cmd:tider:add"
    assert anna.button("Meny") == "cmd:menu"


async def test_add_a_window_with_weekday_hours_and_venue(
    services: Services, world: World, anna: Chat
) -> None:
    await anna.send("/tider")
    await anna.press("Lägg till tid")
    assert "Vilken veckodag?" in anna.text
    assert anna.labels() == ["Mån", "Tis", "Ons", "Tor", "Fre", "Lör", "Sön", "Tillbaka"]
    await anna.press("Lör")
    assert "Vilka tider på lördag?" in anna.text and "16:00–19:00" in anna.text
    await anna.send("efter lunch")
    assert "kunde inte läsa" in anna.text and "Vilka tider på lördag?" in anna.text
    await anna.send("12-10")
    assert "slutet måste vara efter början" in anna.text.casefold()
    await anna.send("10.00–12.30")
    assert "Var är du på lördag 10:00–12:30?" in anna.text
    await anna.press("Café Linné")
    assert "Tillagd: lördag 10:00–12:30, Café Linné." in anna.text
    assert "• lördag 10:00–12:30, Café Linné" in anna.text
    assert (5, "10:00", "12:30") in await windows_of(services, world.admin_id)

    # A typed weekday works too; an overlapping window is refused and explained.
    await anna.press("Lägg till tid")
    await anna.send("tisdag")
    await anna.send("kl 18-20")
    await anna.send("Café Linné")
    assert "överlappar din tid 16:00–19:00" in anna.text
    assert "Dina tider på Uppsala centrum:" in anna.text
    assert len(await windows_of(services, world.admin_id)) == 6


@pytest.mark.parametrize(
    ("typed", "hours"),
    [
        ("16:00–19:00", ("16:00", "19:00")),
        ("16-19", ("16:00", "19:00")),
        ("16.00–19.00", ("16:00", "19:00")),
        ("kl 8.30 - 10", ("08:30", "10:00")),
        ("mellan 9 och 11:15", ("09:00", "11:15")),
        ("1600-1900", ("16:00", "19:00")),
    ],
)
def test_hours_are_read_in_the_usual_ways(typed: str, hours: tuple[str, str]) -> None:
    read = admin_settings_flow.parse_hours(typed)
    assert read is not None and (f"{read[0]:%H:%M}", f"{read[1]:%H:%M}") == hours


@pytest.mark.parametrize("typed", ["16", "25-26", "16:75-19", "eftermiddag", "16-19-20"])
def test_hours_that_are_no_span_are_not_read(typed: str) -> None:
    assert admin_settings_flow.parse_hours(typed) is None


async def test_removal_keeps_two_weekdays_and_explains_the_rule(
    services: Services, world: World, anna: Chat
) -> None:
    await anna.send("/tider")
    for day in ("måndag", "tisdag", "onsdag"):
        await anna.press("Ta bort tid")
        assert "Vilken tid vill du ta bort?" in anna.text
        await anna.press(f"{day} 16:00–19:00")
        assert f"Borttagen: {day} 16:00–19:00." in anna.text
    await anna.press("Ta bort tid")
    await anna.press("torsdag 16:00–19:00 · Café Linné")
    assert "minst två vardagar (måndag–fredag) varje vecka" in anna.text
    assert "Lägg först till en tid en annan vardag" in anna.text
    assert await windows_of(services, world.admin_id) == [
        (3, "16:00", "19:00"),
        (4, "16:00", "19:00"),
    ]


async def test_removal_is_refused_while_booked_meetings_lie_in_the_window(
    services: Services, world: World, anna: Chat
) -> None:
    await book(services, world, "maria", datetime.fromisoformat("2026-12-01T16:00:00+00:00"))
    await anna.send("/tider")
    await anna.press("Ta bort tid")
    await anna.press("tisdag 16:00–19:00")
    assert "1 bokade möte(n) ligger inom den här tiden" in anna.text
    assert "• tisdag 1 december kl. 17:00 – Café Linné (väntar på din bekräftelse)" in anna.text
    assert (1, "16:00", "19:00") in await windows_of(services, world.admin_id)


async def test_absence_in_free_text_is_confirmed_then_saved_and_removed(
    services: Services, world: World, anna: Chat
) -> None:
    await anna.send("/tider")
    await anna.press("Frånvaro")
    assert "ledig 23/12–2/1" in anna.text
    await anna.send("hej hej")
    assert "kunde inte läsa" in anna.text and "När är du borta?" in anna.text
    await anna.send("ledig 23/12–2/1")
    assert "Borta 23 december 2026 – 2 januari 2027?" in anna.text
    async with services.sessions() as session:
        assert (await session.exec(select(Absence))).all() == []
    await anna.press("Spara")
    assert "Frånvaro sparad: 23 december 2026 – 2 januari 2027." in anna.text
    assert "• 23 december 2026 – 2 januari 2027" in anna.text
    await anna.press("Frånvaro")
    await anna.send("24 december")
    await anna.send("ja")
    assert "överlappar din frånvaro 2026-12-23 – 2027-01-02" in anna.text
    await anna.press("Frånvaro")
    await anna.press("Ta bort 23 december 2026 – 2 januari 2027")
    assert "Frånvaron är borttagen" in anna.text and "Ingen frånvaro inplanerad." in anna.text
    async with services.sessions() as session:
        assert (await session.exec(select(Absence))).all() == []
        actions = (await session.exec(select(AuditEvent.action))).all()
    assert actions.count("absence.added") == 1 and actions.count("absence.removed") == 1


@pytest.mark.parametrize(
    ("typed", "days"),
    [
        ("ledig 23/12–2/1", ("2026-12-23", "2027-01-02")),
        ("23 december till 2 januari", ("2026-12-23", "2027-01-02")),
        ("2026-12-23 – 2027-01-02", ("2026-12-23", "2027-01-02")),
        ("från 23 december till 2 januari", ("2026-12-23", "2027-01-02")),
        ("ledig vecka 52", ("2026-12-21", "2026-12-27")),
        ("borta 8 december", ("2026-12-08", "2026-12-08")),
        ("till och med 4/12", ("2026-11-30", "2026-12-04")),
    ],
)
def test_absences_are_read_from_free_text(typed: str, days: tuple[str, str]) -> None:
    read = admin_settings_flow.read_absence(typed, now=NOW)
    assert read is not None and (read[0].isoformat(), read[1].isoformat()) == days


@pytest.mark.parametrize("typed", ["från 23 december", "tisdagar", "hej", "efter 16"])
def test_text_without_a_last_day_is_no_absence(typed: str) -> None:
    assert admin_settings_flow.read_absence(typed, now=NOW) is None


async def test_absence_over_booked_meetings_is_refused_and_lists_them(
    services: Services, world: World, anna: Chat
) -> None:
    await book(services, world, "maria", datetime.fromisoformat("2026-12-02T15:30:00+00:00"))
    await anna.send("/tider")
    await anna.press("Frånvaro")
    await anna.send("1/12-3/12")
    await anna.press("Spara")
    assert "1 bokade möte(n) ligger under frånvaron" in anna.text
    assert "onsdag 2 december kl. 16:30 – Café Linné" in anna.text
    async with services.sessions() as session:
        assert (await session.exec(select(Absence))).all() == []


async def test_venues_are_added_step_by_step_and_removed_when_unused(
    services: Services, world: World, anna: Chat
) -> None:
    await anna.send("/tider")
    await anna.press("Mötesplatser")
    assert "• Café Linné, Svartbäcksgatan 22, 753 33 Uppsala (café)" in anna.text
    await anna.press("Ny mötesplats")
    assert "aldrig ditt hem" in anna.text
    await anna.send("Akademiska sjukhuset, entré 70")
    assert "adress" in anna.text
    await anna.send("Sjukhusvägen 1, 751 85 Uppsala")
    assert anna.labels() == ["Café", "Hotellobby", "Arbetsplats", "Annat", "Tillbaka"]
    await anna.press("Arbetsplats")
    assert "Mötesplats tillagd: Akademiska sjukhuset, entré 70." in anna.text
    assert "Akademiska sjukhuset, entré 70, Sjukhusvägen 1, 751 85 Uppsala (arbetsplats)" in (
        anna.text
    )
    await anna.press("Mötesplatser")
    await anna.press("Ta bort Café Linné")
    assert "5 tid(er) använder den här mötesplatsen" in anna.text
    await anna.press("Mötesplatser")
    await anna.press("Ta bort Akademiska")
    assert "Mötesplats borttagen: Akademiska sjukhuset, entré 70." in anna.text
    async with services.sessions() as session:
        names = (await session.exec(select(Venue.name))).all()
    assert "Akademiska sjukhuset, entré 70" not in names and "Café Linné" in names


async def test_a_typed_venue_that_reads_differently_is_asked_again(
    services: Services, anna: Chat
) -> None:
    why = "ett osynligt tecken eller styrtecken som kan få texten att läsas på ett annat sätt"
    await anna.send("/tider")
    await anna.press("Mötesplatser")
    await anna.press("Ny mötesplats")
    await anna.send("Café \u202eénniL")
    assert anna.text.startswith(f"Det innehåller U+202E, {why}. Skriv det igen utan det tecknet.")
    assert "Vad heter mötesplatsen?" in anna.text
    await anna.send("Café Ofelia")
    await anna.send("Storgatan\u200b 1, 753 20 Uppsala")
    assert anna.text.startswith("Det innehåller U+200B")
    await anna.send("Storgatan 1, 753 20 Uppsala")
    await anna.press("Café")
    assert "Mötesplats tillagd: Café Ofelia." in anna.text


async def test_a_new_window_can_use_a_new_venue(
    services: Services, world: World, anna: Chat
) -> None:
    await anna.send("/tider")
    await anna.press("Mötesplatser")
    await anna.press("Ny mötesplats")
    await anna.send("Hotell Gillet")
    await anna.send("Dragarbrunnsgatan 23")
    await anna.send("hotellobby")  # a typed kind works like the button
    assert "Mötesplats tillagd: Hotell Gillet." in anna.text
    await anna.press("Lägg till tid")
    await anna.press("Sön")
    await anna.send("11-13")
    assert {"Café Linné", "Hotell Gillet"} <= set(anna.labels())
    await anna.press("Hotell Gillet")
    assert "Tillagd: söndag 11:00–13:00, Hotell Gillet." in anna.text


async def test_home_delivery_and_auto_confirm_switch_once_per_press(
    services: Services, world: World, anna: Chat
) -> None:
    await anna.send("/tider")
    toggle = anna.button("Hemleverans på/av")
    await anna.press_data(toggle)
    assert "Hemleverans är på" in anna.text and "Hemleverans: på" in anna.text
    await anna.press_data(toggle)  # the same button again does not switch it back
    assert "gäller inte längre" in anna.text and "Hemleverans: på" in anna.text
    await anna.press("Autobekräfta på/av")
    assert "Autobekräfta är på" in anna.text and "Autobekräfta: på" in anna.text
    await anna.press("Autobekräfta på/av")
    assert "Autobekräfta är av" in anna.text
    async with services.sessions() as session:
        admin = await session.get(Admin, world.admin_id)
        assert admin is not None and admin.home_delivery and not admin.auto_confirm
        actions = (await session.exec(select(AuditEvent.action))).all()
    assert actions.count("admin.home_delivery_set") == 1
    assert actions.count("admin.auto_confirm_set") == 2


async def test_notice_is_confirmed_then_recorded_with_its_end(
    services: Services, world: World, anna: Chat
) -> None:
    await anna.send("/tider")
    await anna.press("Säg upp dig")
    assert "Vill du säga upp dig som ID-administratör på Uppsala centrum?" in anna.text
    assert "30 december 2026" in anna.text
    await anna.press("Nej, tillbaka")
    async with services.sessions() as session:
        admin = await session.get(Admin, world.admin_id)
        assert admin is not None and admin.notice_given_on is None
    await anna.press("Säg upp dig")
    await anna.press("Ja, säg upp mig")
    assert "Uppsägningen är registrerad. Uppsägningstiden löper ut den 30 december 2026." in (
        anna.text
    )
    assert "Till dess lämnar du ut som vanligt" in anna.text
    assert "Säg upp dig" not in anna.labels()
    async with services.sessions() as session:
        admin = await session.get(Admin, world.admin_id)
        assert admin is not None
        assert (admin.notice_given_on, admin.notice_ends_on) == (
            date(2026, 11, 30),
            date(2026, 12, 30),
        )
        # Anna was UPS1's only administrator: the office closes with her.
        office = (await session.exec(select(Office).where(Office.code == "UPS1"))).one()
        assert office.notice_given_at == NOW
        [event] = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "admin.notice_given"))
        ).all()
        assert (event.actor_role, event.actor_id) == ("admin", world.admin_id)


async def test_odd_input_and_stale_buttons_get_an_answer_and_the_overview(
    services: Services, world: World, clock: Clock, anna: Chat
) -> None:
    await anna.send("/tider")
    await anna.send("blåbärssoppa " * 40)
    assert "förstod inte riktigt" in anna.text and "Dina tider" in anna.text
    await anna.send(None)
    assert "bara läsa text" in anna.text
    await anna.press_data("cmd:tider:add:9")
    assert "gäller inte längre" in anna.text
    await anna.press_data("o:forged")
    assert "gäller inte längre" in anna.text
    await anna.press("Ta bort tid")
    remove_monday = anna.button("måndag")
    await anna.press("Tillbaka")
    await anna.press_data(remove_monday)  # from an earlier message
    assert "gäller inte längre" in anna.text
    # Bo's chat cannot use Anna's buttons.
    bo = settings_chat(services, clock, AsAdmin(world.other_admin_id), user_id=7002)
    await anna.press("Ta bort tid")
    await bo.press_data(anna.button("måndag"))
    assert "gäller inte längre" in bo.text and "Café Linné" in bo.text  # his own office's café
    assert len(await windows_of(services, world.admin_id)) == 5


async def test_a_button_is_checked_against_the_admins_own_rows(
    services: Services, world: World, clock: Clock
) -> None:
    # The chat's admin changes between showing a button and pressing it: the button's window
    # is no longer this admin's, so nothing is removed.
    who = AsAdmin(world.admin_id)
    chat = settings_chat(services, clock, who)
    await chat.send("/tider")
    await chat.press("Ta bort tid")
    who.admin_id = world.other_admin_id
    await chat.press("måndag")
    assert "Den tiden hittades inte." in chat.text
    assert len(await windows_of(services, world.admin_id)) == 5


async def test_english_admins_get_english(services: Services, world: World, clock: Clock) -> None:
    async with transaction(services.sessions) as session:
        admin = await session.get(Admin, world.admin_id)
        assert admin is not None
        admin.locale = "en"

    async def flow(conv: Conversation) -> None:
        conv.locale = "en"
        admin = await conv.session.get(Admin, world.admin_id)
        assert admin is not None
        await admin_settings_flow.handle(conv, admin, command=Command(Name.tider))

    chat = Chat(Dialogue(services.sessions, services.vault, flow, clock=clock), ANNA_TG)
    await chat.send("anything")
    assert "Your times at Uppsala centrum:" in chat.text and "• Monday 16:00–19:00" in chat.text
    assert "Add time" in chat.labels()


def test_dates_in_the_overview_are_local(clock: Clock) -> None:
    # Late Sunday evening UTC is already Monday in Stockholm.
    clock.now = datetime.fromisoformat("2026-12-06T23:30:00+00:00")
    assert admin_settings_flow.read_absence("idag", now=clock()) == (
        date(2026, 12, 7),
        date(2026, 12, 7),
    )


async def test_a_window_shorter_than_one_meeting_is_asked_for_again(
    services: Services, world: World, anna: Chat
) -> None:
    await anna.send("/tider")
    await anna.press("Lägg till tid")
    await anna.press("Lör")
    await anna.send("10:00-10:10")
    assert (
        "10:00–10:10 är kortare än ett möte (15 minuter), så ingen skulle kunna boka den tiden."
        in anna.text
    )
    assert "Vilka tider på lördag? Skriv till exempel «16:00–19:00»." in anna.text
    assert (5, "10:00", "10:10") not in await windows_of(services, world.admin_id)
    await anna.send("10-11")
    assert "Var är du på lördag 10:00–11:00?" in anna.text
