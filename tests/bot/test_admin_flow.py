"""The ID administrator's chat through the dialogue engine on a real database: onboarding,
custody, answering requests, the agenda, the outcome with its payout, and authorization."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import col, select

from kortkontor.wiring import Services
from models import feeds
from models.audit import AuditEvent
from models.cards import Card, CardStatus
from models.db import transaction
from models.invites import InvitePurpose, issue_invite
from models.meetings import Meeting, MeetingStatus
from models.outbox import Notification
from models.payouts import PayoutKind, PayoutLine
from models.zone import STOCKHOLM
from tests.bot.world import NOW, Chat, Clock, World, active_meeting, card_link
from tests.bot.world import new_dialogue as dialogue_on

ANNA_TG, BO_TG, MARIA_TG, AHMED_TG = 9001, 9002, 9101, 9102


async def admin_chat(services: Services, clock: Clock, admin_id: int, tg: int) -> Chat:
    async with transaction(services.sessions) as session:
        token = await issue_invite(session, purpose=InvitePurpose.admin, admin_id=admin_id)
    chat = Chat(dialogue_on(services, clock), tg)
    await chat.send(f"/start {token}")
    assert "ID-administratör för Uppsala centrum" in chat.text
    return chat


async def user_chat(services: Services, clock: Clock, world: World, name: str, tg: int) -> Chat:
    chat = Chat(dialogue_on(services, clock), tg)
    await chat.send(f"/start {await card_link(services, world.users[name])}")
    return chat


async def rows(services: Services, template: str) -> list[Notification]:
    async with services.sessions() as session:
        query = select(Notification).where(Notification.template == template)
        return list((await session.exec(query.order_by(col(Notification.id)))).all())


async def request_button(services: Services, action: str) -> str:
    """The data of a button under the newest booking request sent to the admin."""
    request = (await rows(services, "admin_request"))[-1]
    return f"m:{action}:{request.meeting_id}"


async def test_a_wrong_or_used_invitation_gets_a_neutral_answer(
    services: Services, world: World, clock: Clock
) -> None:
    chat = Chat(dialogue_on(services, clock), ANNA_TG)
    await chat.send("/start not-a-token")
    assert "går inte att använda" in chat.text and "Uppsala" not in chat.text
    async with transaction(services.sessions) as session:
        token = await issue_invite(session, purpose=InvitePurpose.admin, admin_id=world.admin_id)
    await chat.send(f"/start {token}")
    assert "Välkommen, Anna!" in chat.text
    other = Chat(dialogue_on(services, clock), BO_TG)
    await other.send(f"/start {token}")
    assert "går inte att använda" in other.text


async def test_a_full_day(services: Services, world: World, clock: Clock) -> None:
    anna = await admin_chat(services, clock, world.admin_id, ANNA_TG)
    # The REK is collected at the postal agent: one card from the expected list.
    await anna.send("/kort")
    assert "SE-1 Maria Test – 0 dagar" in anna.text  # in custody since this morning
    await anna.press("Hämta kort")
    assert "☐ SE-2 Ahmed Test" in anna.labels()
    await anna.press("☐ SE-2")
    await anna.press("Hämtat (1)")
    assert "Hämtat: SE-2" in anna.text and "SE-2 Ahmed Test – 0 dagar" in anna.text
    async with services.sessions() as session:
        card = await session.get(Card, world.cards["ahmed"])
        assert card is not None and card.status == CardStatus.in_custody
    invitations = await rows(services, "card_arrived")
    assert {r.channel for r in invitations} == {"sms", "email"}

    # Ahmed books the first free time; Anna confirms from the request's button.
    ahmed = await user_chat(services, clock, world, "ahmed", AHMED_TG)
    await ahmed.book("måndag 30 november kl. 16:00")
    await anna.press_data(await request_button(services, "confirm"))
    assert "Bekräftad: måndag 30 november kl. 16:00" in anna.text
    meeting = await active_meeting(services, world.cards["ahmed"])
    assert meeting is not None and meeting.status == MeetingStatus.confirmed

    # At the meeting: the holder, masked; the full number once, audited; the checklist.
    await anna.send("/idag")
    await anna.press("16:00 Ahmed Test")
    assert "Född: 5 maj 1992" in anna.text and "19920505-****" in anna.text
    assert "920505-2344" not in anna.text
    await anna.press("Visa hela personnumret")
    assert "199205052344" in anna.text.replace("-", "")
    await anna.press("Utlämnat")
    assert "Svenskt pass" in anna.labels() and "Annan" in anna.labels()
    await anna.press("Svenskt pass")
    for _ in range(5):
        await anna.press("Ja")
    assert "Utlämnat: SE-2" in anna.text
    async with services.sessions() as session:
        card = await session.get(Card, world.cards["ahmed"])
        lines = (await session.exec(select(PayoutLine))).all()
        viewed = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "personnummer.viewed"))
        ).all()
    assert card is not None and card.status == CardStatus.handed_out
    assert [(line.kind, line.amount_ore, line.admin_id) for line in lines] == [
        (PayoutKind.handout, 50_000, world.admin_id)
    ]
    assert len(viewed) == 1 and viewed[0].actor_id == world.admin_id


async def _book_and_confirm(services: Services, maria: Chat, anna: Chat, world: World) -> Meeting:
    await maria.send("/boka")
    await maria.press("Snarast")
    await maria.press(maria.labels()[0])
    await maria.press("Bekräfta")
    await anna.press_data(await request_button(services, "confirm"))
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.status == MeetingStatus.confirmed
    return meeting


async def _open(anna: Chat, meeting: Meeting) -> None:
    await anna.send("/idag")
    await anna.press(meeting.starts_at.astimezone(STOCKHOLM).strftime("%H:%M") + " Maria Test")


async def test_not_handed_out_and_the_extra_meeting(
    services: Services, world: World, clock: Clock
) -> None:
    anna = await admin_chat(services, clock, world.admin_id, ANNA_TG)
    maria = await user_chat(services, clock, world, "maria", MARIA_TG)
    first = await _book_and_confirm(services, maria, anna, world)
    await _open(anna, first)
    await anna.press("Utlämnat")
    await anna.press("Svenskt nationellt id-kort")
    for _ in range(4):
        await anna.press("Ja")
    await anna.press("Nej")  # no PIN letter
    assert "Ej utlämnat: SE-1 (Inget PIN-brev)" in anna.text
    assert (await rows(services, "not_handed_out"))[0].recipient == str(MARIA_TG)

    second = await _book_and_confirm(services, maria, anna, world)
    assert second.is_extra
    clock.now = second.starts_at
    await _open(anna, second)
    await anna.press("Utlämnat")
    await anna.press("Svenskt körkort")
    for _ in range(5):
        await anna.press("Ja")
    assert "Utlämnat: SE-1" in anna.text
    async with services.sessions() as session:
        meetings = (await session.exec(select(Meeting).order_by(col(Meeting.id)))).all()
        lines = (await session.exec(select(PayoutLine).order_by(col(PayoutLine.id)))).all()
    assert [(m.status, m.failure_reason, m.is_extra) for m in meetings] == [
        (MeetingStatus.failed, "no_pin_letter", False),
        (MeetingStatus.handed_out, None, True),
    ]
    assert [(line.kind, line.amount_ore) for line in lines] == [
        (PayoutKind.handout, 50_000),
        (PayoutKind.extra_meeting, 25_000),
    ]


async def test_the_outcome_waits_for_the_meetings_day(
    services: Services, world: World, clock: Clock
) -> None:
    anna = await admin_chat(services, clock, world.admin_id, ANNA_TG)
    maria = await user_chat(services, clock, world, "maria", MARIA_TG)
    await maria.send("/boka")
    await maria.send("torsdag")
    await maria.press("torsdag 3 december kl. 16:00")
    await maria.press("Bekräfta")
    await anna.press_data(await request_button(services, "confirm"))
    await anna.send("/kommande")
    assert "torsdag 3 december kl. 16:00" in anna.text
    assert not any(label.startswith("16:00") for label in anna.labels())  # not today


async def test_propose_another_time_and_the_user_takes_it(
    services: Services, world: World, clock: Clock
) -> None:
    anna = await admin_chat(services, clock, world.admin_id, ANNA_TG)
    maria = await user_chat(services, clock, world, "maria", MARIA_TG)
    await maria.book("måndag 30 november kl. 16:00")
    await anna.press_data(await request_button(services, "propose"))
    assert "Vilken tid föreslår du i stället?" in anna.text
    await anna.press("tisdag 1 december kl. 16:00")
    assert "Föreslaget: tisdag 1 december kl. 16:00" in anna.text
    proposal = (await rows(services, "time_proposed"))[0]
    assert proposal.channel == "telegram" and proposal.recipient == str(MARIA_TG)
    await maria.press_data(f"p:{proposal.meeting_id}")
    assert "Tid: tisdag 1 december kl. 16:00" in maria.text and "bekräftar tiden" not in maria.text
    await maria.press("Bekräfta")
    assert "Klart! Din tid är bokad." in maria.text
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.status == MeetingStatus.confirmed
    assert meeting.starts_at == NOW + timedelta(days=1, hours=7)


async def _ask_to_move(maria: Chat, day: str, time: str) -> None:
    await maria.send("/status")
    await maria.press("Ändra tid")
    await maria.send(day.split()[0])
    await maria.press(f"{day} kl. {time}")
    await maria.press("Bekräfta")
    assert "Din förfrågan är skickad" in maria.text


async def test_a_move_is_a_move_to_the_admin_and_the_booked_time_stands_until_confirmed(
    services: Services, world: World, clock: Clock
) -> None:
    anna = await admin_chat(services, clock, world.admin_id, ANNA_TG)
    maria = await user_chat(services, clock, world, "maria", MARIA_TG)
    first = await _book_and_confirm(services, maria, anna, world)
    assert first.starts_at == NOW + timedelta(hours=7)  # Monday 16:00
    await _ask_to_move(maria, "torsdag 3 december", "16:00")
    await anna.send("/kommande")
    assert (
        "måndag 30 november kl. 16:00 – Café Linné – Maria Test (SE-1) – bekräftad, vill flytta "
        "till torsdag 3 december kl. 16:00"
    ) in anna.text
    assert (
        "torsdag 3 december kl. 16:00 – Café Linné – Maria Test (SE-1) – väntar på din "
        "bekräftelse, flytt från måndag 30 november kl. 16:00"
    ) in anna.text
    await anna.press_data(await request_button(services, "decline"))
    assert "Avböjd. Kortanvändaren behåller tiden måndag 30 november kl. 16:00." in anna.text
    booked = await active_meeting(services, world.cards["maria"])
    assert booked is not None and booked.id == first.id

    await _ask_to_move(maria, "onsdag 2 december", "16:00")
    await anna.press_data(await request_button(services, "confirm"))
    assert (
        "Bekräftad: onsdag 2 december kl. 16:00. Kortanvändaren får besked. Den tidigare tiden "
        "måndag 30 november kl. 16:00 är släppt."
    ) in anna.text
    moved = await active_meeting(services, world.cards["maria"])
    assert moved is not None and moved.starts_at == NOW + timedelta(days=2, hours=7)
    await anna.send("/kommande")
    assert "måndag 30 november" not in anna.text and "flytt" not in anna.text
    await maria.send("/status")
    assert "Din tid är bokad:\nTid: onsdag 2 december kl. 16:00" in maria.text
    assert "måndag" not in maria.text


async def test_a_time_proposed_instead_of_a_move_replaces_the_booked_time(
    services: Services, world: World, clock: Clock
) -> None:
    anna = await admin_chat(services, clock, world.admin_id, ANNA_TG)
    maria = await user_chat(services, clock, world, "maria", MARIA_TG)
    first = await _book_and_confirm(services, maria, anna, world)
    await _ask_to_move(maria, "torsdag 3 december", "16:00")
    await anna.press_data(await request_button(services, "propose"))
    await anna.press("tisdag 1 december kl. 16:00")
    assert "Föreslaget: tisdag 1 december kl. 16:00" in anna.text
    booked = await active_meeting(services, world.cards["maria"])
    assert booked is not None and booked.id == first.id  # nothing is released yet
    proposal = (await rows(services, "time_proposed"))[0]
    await maria.press_data(f"p:{proposal.meeting_id}")
    assert "Tid: tisdag 1 december kl. 16:00" in maria.text
    assert "Din tid måndag 30 november kl. 16:00 släpps när du bekräftar." in maria.text
    await maria.press("Bekräfta")
    assert "Klart! Din tid är bokad." in maria.text
    assert "Din tidigare tid måndag 30 november kl. 16:00 är släppt." in maria.text
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.status == MeetingStatus.confirmed
    assert meeting.starts_at == NOW + timedelta(days=1, hours=7)


async def test_another_office_cannot_act_on_the_card_even_with_forged_buttons(
    services: Services, world: World, clock: Clock
) -> None:
    anna = await admin_chat(services, clock, world.admin_id, ANNA_TG)
    async with transaction(services.sessions) as session:
        token = await issue_invite(
            session, purpose=InvitePurpose.admin, admin_id=world.other_admin_id
        )
    bo = Chat(dialogue_on(services, clock), BO_TG)
    await bo.send(f"/start {token}")
    maria = await user_chat(services, clock, world, "maria", MARIA_TG)
    await maria.book("måndag 30 november kl. 16:00")
    for action in ("confirm", "decline", "propose"):
        await bo.press_data(await request_button(services, action))
        assert "hittades inte" in bo.text
    await anna.send("/kort")
    forged = anna.button("Hämta kort")
    await anna.press("Hämta kort")
    await bo.press_data(anna.button("☐ SE-2"))
    assert "gäller inte längre" in bo.text
    await bo.press_data(forged)  # a stateless command is harmless: Bo sees his own office
    assert "SE-2" not in bo.text and "Ahmed" not in bo.text
    await bo.send("/idag")
    assert "Maria" not in bo.text
    meeting = await active_meeting(services, world.cards["maria"])
    assert meeting is not None and meeting.status == MeetingStatus.requested


async def test_tider_is_reached_from_the_admin_menu(
    services: Services, world: World, clock: Clock
) -> None:
    anna = await admin_chat(services, clock, world.admin_id, ANNA_TG)
    await anna.press("Tider och platser")
    assert "Dina tider på Uppsala centrum:" in anna.text
    await anna.press("Lägg till tid")
    await anna.press("Lör")
    await anna.send("10-12")
    await anna.press("Café Linné")
    assert "Tillagd: lördag 10:00–12:00, Café Linné." in anna.text
    await anna.send("meny")
    assert "Vad vill du göra?" in anna.text


async def test_the_admin_gets_a_new_calendar_link_that_ends_the_earlier_one(
    services: Services, world: World, clock: Clock
) -> None:
    from bot.dialogue import Dialogue
    from bot.flows import converse
    from web.calendar_feed import feed_url

    def calendar(token: str) -> str:
        return feed_url("https://kortkontor.example", token)

    anna = await admin_chat(services, clock, world.admin_id, ANNA_TG)
    await anna.send("/hjalp")
    assert "kalender" not in anna.text  # no public address: nothing to subscribe to
    anna.dialogue = Dialogue(
        services.sessions, services.vault, converse, clock=clock, calendar_url=calendar
    )
    await anna.send("/hjalp")
    assert "/kalender" in anna.text
    await anna.send("ny kalenderlänk")
    first = re.search(r"https://kortkontor\.example/calendar/(\S+)\.ics", anna.text)
    assert first is not None and "Din nya kalenderlänk" in anna.text
    await anna.send("/kalender")
    second = re.search(r"https://kortkontor\.example/calendar/(\S+)\.ics", anna.text)
    assert second is not None and second.group(1) != first.group(1)
    async with services.sessions() as session:
        assert await feeds.admin_for_token(session, first.group(1)) is None
        assert await feeds.admin_for_token(session, second.group(1)) == world.admin_id
