"""The handout end to end over the fake Bot API, as the issuer's routine has it: the card's
number, the identity check step by step (each «Nej» ends it with its reason), extra meetings
paid along a chain, and a home delivery paid as any handout."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.dialogue import Dialogue
from bot.flows import converse
from bot.telegram import build_application, start_polling, stop_polling
from kortkontor.settings import Settings
from kortkontor.wiring import Services
from models.audit import AuditEvent
from models.db import transaction
from models.meetings import FailureReason, IdCheck, Meeting, MeetingStatus
from models.orders import read_orders_csv
from models.payouts import PayoutKind, PayoutLine, Tariffs
from payout import export_month
from payout.export_csv import render_csv
from scheduler.cards import import_orders
from tests.bot.test_admin_telegram import admin
from tests.bot.test_telegram import TgUser, linked
from tests.bot.world import NOW, Clock, World, build_world
from tests.factories import CSV_HEADER, PERSONNUMMER, csv_row, orders_csv
from tests.fakes.telegram import FakeBotApi

ANNA, BO, MARIA = 7401, 7402, 7501
CARD_NUMBER = "9752 2699 0012 3456"
CHECK_QUESTIONS = 5  # physical, not expired, undamaged, the photo, the PIN letter


@pytest.fixture
def fake() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


@pytest.fixture
async def world(services: Services) -> World:
    """The bot tests' world, with Anna confirming requests at once."""
    return await build_world(services, auto_confirm=True)


async def _bot(fake: FakeBotApi, services: Services, tariffs: Tariffs) -> Any:
    dialogue = Dialogue(services.sessions, services.vault, converse, clock=Clock(), tariffs=tariffs)
    application = build_application(
        token=fake.token, base_url=fake.base_url, dialogue=dialogue, rate_limited=False
    )
    await start_polling(application)
    return application


@pytest.fixture
async def bot(fake: FakeBotApi, services: Services, world: World) -> AsyncIterator[Any]:
    application = await _bot(fake, services, Tariffs())
    yield application
    await stop_polling(application)


async def give_card_number(services: Services, number: str = CARD_NUMBER) -> None:
    """The issuer's CSV again for Maria's order, now with the number printed on the card."""
    row = csv_row(
        order_ref="SE-1",
        given_name="Maria",
        family_name="Test",
        personnummer=PERSONNUMMER["maria"][0],
        phone="0701112233",
        email="maria@example.se",
    )
    content = orders_csv(f"{row},{number}", header=f"{CSV_HEADER},card_number")
    async with transaction(services.sessions) as session:
        await import_orders(session, read_orders_csv(content), vault=services.vault)


async def book_first_time(maria: TgUser) -> None:
    """/boka, Snarast, the first time offered, Bekräfta (Anna confirms at once)."""
    await maria.send("/boka")
    await maria.press("Snarast")
    first = maria.fake.buttons(maria.last)[0][0]  # type: ignore[arg-type]
    await maria.press(first)
    await maria.press("Bekräfta")
    assert "Klart! Din tid är bokad." in maria.text


async def open_meeting(anna: TgUser) -> None:
    """/idag and the one meeting on it."""
    await anna.send("/idag")
    await anna.press(anna.fake.buttons(anna.last)[0][0])  # type: ignore[arg-type]


async def checks(anna: TgUser, *, yes: int) -> None:
    for _ in range(yes):
        await anna.press("Ja")


async def closing_event(session: AsyncSession) -> AuditEvent:
    """The audit event of the one meeting's outcome."""
    query = select(AuditEvent).where(AuditEvent.action == "meeting.status")
    return [e for e in (await session.exec(query)).all() if e.data.get("from") == "confirmed"][-1]


async def meetings(services: Services) -> list[Meeting]:
    async with services.sessions() as session:
        return list((await session.exec(select(Meeting).order_by(col(Meeting.id)))).all())


async def payout_lines(services: Services) -> list[tuple[int | None, PayoutKind, int]]:
    async with services.sessions() as session:
        query = select(PayoutLine).order_by(col(PayoutLine.id))
        return [(line.meeting_id, line.kind, line.amount_ore) for line in await session.exec(query)]


async def test_a_wrong_card_number_stops_the_handout_and_the_right_card_passes(
    bot: Any, fake: FakeBotApi, services: Services, world: World
) -> None:
    await give_card_number(services)
    anna = await admin(fake, services, world.admin_id, ANNA)
    maria = await linked(fake, services, world, "maria", MARIA)
    await book_first_time(maria)
    await open_meeting(anna)
    await anna.press("Utlämnat")
    assert "fyra sista siffrorna" in anna.text and "SE-1" in anna.text
    await anna.send("1234")  # a card from the drawer that is not Maria's
    assert "stämmer inte" in anna.text and "Lämna inte ut" in anna.text
    await anna.send("34 5")  # not four digits
    assert "Fyra siffror" in anna.text
    await anna.send("3456")  # the right card
    assert "Kortnumret stämmer." in anna.text
    await anna.press("Svenskt körkort")
    await checks(anna, yes=CHECK_QUESTIONS)
    assert "Utlämnat: SE-1" in anna.text
    [meeting] = await meetings(services)
    assert meeting.status == MeetingStatus.handed_out and meeting.card_number_checked
    async with services.sessions() as session:
        query = select(AuditEvent).where(col(AuditEvent.action).in_(["card_number.mismatch"]))
        mismatches = (await session.exec(query)).all()
        handed = await closing_event(session)
    assert len(mismatches) == 1 and "1234" not in str(mismatches[0].data)
    assert handed.data["to"] == "handed_out" and handed.data["card_number_checked"] is True
    async with transaction(services.sessions) as session:
        exported = render_csv(await export_month(session, month="2026-11", now=NOW))
    assert exported.decode().endswith(",SE-1,handout,500.00,yes,frilansfinans,\n")


async def test_an_order_without_a_number_skips_the_step_and_says_so(
    bot: Any, fake: FakeBotApi, services: Services, world: World
) -> None:
    anna = await admin(fake, services, world.admin_id, ANNA)
    maria = await linked(fake, services, world, "maria", MARIA)
    await book_first_time(maria)
    await open_meeting(anna)
    await anna.press("Utlämnat")
    assert "Beställningen har inget kortnummer" in anna.text
    await anna.press("Svenskt pass")
    await checks(anna, yes=CHECK_QUESTIONS)
    [meeting] = await meetings(services)
    assert meeting.status == MeetingStatus.handed_out and not meeting.card_number_checked


NO_AT = [
    # (the «Nej» after this many «Ja», the step that failed, its reason, what Anna reads)
    (0, IdCheck.physical, FailureReason.no_valid_id, "inte en fysisk"),
    (1, IdCheck.not_expired, FailureReason.no_valid_id, "har gått ut"),
    (2, IdCheck.undamaged, FailureReason.no_valid_id, "är skadad"),
    (3, IdCheck.photo, FailureReason.wrong_person, "stämmer inte med fotot"),
    (4, IdCheck.pin_letter, FailureReason.no_pin_letter, "PIN-brevet saknas"),
]


@pytest.mark.parametrize(("yes", "step", "reason", "said"), NO_AT)
async def test_each_no_ends_the_check_with_its_reason(
    bot: Any,
    fake: FakeBotApi,
    services: Services,
    world: World,
    yes: int,
    step: IdCheck,
    reason: FailureReason,
    said: str,
) -> None:
    anna = await admin(fake, services, world.admin_id, ANNA)
    maria = await linked(fake, services, world, "maria", MARIA)
    await book_first_time(maria)
    await open_meeting(anna)
    await anna.press("Utlämnat")
    await anna.press("Svenskt nationellt id-kort")
    await checks(anna, yes=yes)
    await anna.press("Nej")
    assert said in anna.text and "Ej utlämnat: SE-1" in anna.text
    [meeting] = await meetings(services)
    assert (meeting.status, meeting.failure_reason, meeting.failed_check) == (
        MeetingStatus.failed,
        reason,
        step,
    )
    async with services.sessions() as session:
        event = await closing_event(session)
    assert event.data["to"] == "failed"
    assert (event.data["reason"], event.data["failed_check"]) == (reason.value, step.value)
    assert await payout_lines(services) == []


async def test_another_document_ends_the_check_at_its_first_step(
    bot: Any, fake: FakeBotApi, services: Services, world: World
) -> None:
    anna = await admin(fake, services, world.admin_id, ANNA)
    maria = await linked(fake, services, world, "maria", MARIA)
    await book_first_time(maria)
    await open_meeting(anna)
    await anna.press("Utlämnat")
    await anna.press("Annan")
    assert "Ingen godkänd id-handling visades." in anna.text
    [meeting] = await meetings(services)
    assert (meeting.failure_reason, meeting.failed_check) == (
        FailureReason.no_valid_id,
        IdCheck.document,
    )


async def test_a_forged_check_button_does_not_act_on_another_admins_meeting(
    bot: Any, fake: FakeBotApi, services: Services, world: World
) -> None:
    anna = await admin(fake, services, world.admin_id, ANNA)
    bo = await admin(fake, services, world.other_admin_id, BO)
    maria = await linked(fake, services, world, "maria", MARIA)
    await book_first_time(maria)
    await open_meeting(anna)
    await anna.press("Utlämnat")
    await anna.press("Svenskt pass")
    await checks(anna, yes=CHECK_QUESTIONS - 1)
    last_yes, last_no = anna.data("Ja"), anna.data("Nej")
    for forged in (last_yes, last_no):
        fake.press(BO, forged, message_id=bo.last.message_id if bo.last else None)
        await bo._replies(1)
        assert "gäller inte längre" in bo.text and "Maria" not in bo.text
    [meeting] = await meetings(services)
    assert meeting.status == MeetingStatus.confirmed
    assert await payout_lines(services) == []
    await anna.press("Ja")  # Anna's own button still answers her question
    assert "Utlämnat: SE-1" in anna.text


async def _fail_with(anna: TgUser, reason_label: str) -> None:
    await open_meeting(anna)
    await anna.press("Ej utlämnat")
    await anna.press(reason_label)
    assert "Ej utlämnat: SE-1" in anna.text


async def test_a_chain_of_extra_meetings_is_paid_meeting_by_meeting(
    bot: Any, fake: FakeBotApi, services: Services, world: World
) -> None:
    """No valid ID, then the card user does not come, then the handout: two extra meetings
    and the card, 250 + 250 + 500 kr."""
    anna = await admin(fake, services, world.admin_id, ANNA)
    maria = await linked(fake, services, world, "maria", MARIA)
    await book_first_time(maria)
    await open_meeting(anna)
    await anna.press("Utlämnat")
    await anna.press("Svenskt pass")
    await checks(anna, yes=1)
    await anna.press("Nej")  # expired
    await book_first_time(maria)
    await _fail_with(anna, "Kom inte")
    await book_first_time(maria)
    await open_meeting(anna)
    await anna.press("Utlämnat")
    await anna.press("Svenskt pass")
    await checks(anna, yes=CHECK_QUESTIONS)
    assert "Utlämnat: SE-1" in anna.text
    first, second, third = await meetings(services)
    assert [(m.status, m.failure_reason, m.is_extra) for m in (first, second, third)] == [
        (MeetingStatus.failed, FailureReason.no_valid_id, False),
        (MeetingStatus.failed, FailureReason.no_show, True),
        (MeetingStatus.handed_out, None, True),
    ]
    assert await payout_lines(services) == [
        (second.id, PayoutKind.extra_meeting, 25_000),
        (third.id, PayoutKind.handout, 50_000),
        (third.id, PayoutKind.extra_meeting, 25_000),
    ]
    assert sum(amount for _, _, amount in await payout_lines(services)) == 100_000


async def test_a_failed_extra_meeting_is_paid(
    bot: Any, fake: FakeBotApi, services: Services, world: World
) -> None:
    """Wrong person, then no PIN letter at the extra meeting: that one is paid, 250 kr."""
    anna = await admin(fake, services, world.admin_id, ANNA)
    maria = await linked(fake, services, world, "maria", MARIA)
    await book_first_time(maria)
    await _fail_with(anna, "Fel person")
    await book_first_time(maria)
    await _fail_with(anna, "Inget PIN-brev")
    first, second = await meetings(services)
    assert (first.is_extra, second.is_extra) == (False, True)
    assert await payout_lines(services) == [(second.id, PayoutKind.extra_meeting, 25_000)]


async def test_the_tariff_names_the_reasons_that_make_an_extra_meeting(
    fake: FakeBotApi, services: Services, world: World
) -> None:
    """Without no-show among the reasons, the meeting after a no-show is not an extra one."""
    settings = Settings(kortkontor_tariff_extra_meeting_reasons="no_valid_id, wrong_person")
    application = await _bot(fake, services, settings.tariffs())
    try:
        anna = await admin(fake, services, world.admin_id, ANNA)
        maria = await linked(fake, services, world, "maria", MARIA)
        await book_first_time(maria)
        await _fail_with(anna, "Kom inte")
        await book_first_time(maria)
        await _fail_with(anna, "Fel person")
        await book_first_time(maria)
    finally:
        await stop_polling(application)
    assert [m.is_extra for m in await meetings(services)] == [False, False, True]
    assert await payout_lines(services) == []


def test_an_unknown_reason_in_the_tariff_is_refused() -> None:
    with pytest.raises(ValueError, match="no_shows"):
        Settings(kortkontor_tariff_extra_meeting_reasons="no_valid_id,no_shows")
    assert Settings().tariffs().extra_meeting_reasons == frozenset(FailureReason)


async def test_a_home_delivery_is_booked_in_the_chat_and_paid_as_any_handout(
    bot: Any,
    fake: FakeBotApi,
    services: Services,
    world: World,
    caplog: pytest.LogCaptureFixture,
) -> None:
    anna = await admin(fake, services, world.admin_id, ANNA)
    maria = await linked(fake, services, world, "maria", MARIA)
    await maria.send("/boka")
    assert "Hemleverans" not in [label for label, _ in fake.buttons(maria.last)]  # type: ignore[arg-type]
    said = await maria.send("kan du komma hem till mig?", replies=2)
    assert "erbjuder inte hemleverans" in str(said[0].text) and "När passar" in maria.text

    await anna.send("/tider")
    await anna.press("Hemleverans på/av")
    await maria.send("kan du komma hem till mig?")
    assert "Vilken adress ska kortet lämnas på?" in maria.text
    await maria.send("Storgatan 12")
    assert "Adressen gick inte att läsa" in maria.text and "postnummer" in maria.text
    await maria.send("storgatan 12 75320 Uppsala")
    assert "Hemleverans till adressen du angav" in maria.text
    first = fake.buttons(maria.last)[0][0]  # type: ignore[arg-type]
    assert first.endswith("· Hemleverans")
    await maria.press(first)
    assert "Plats: hemleverans" in maria.text and "storgatan" not in maria.text
    await maria.press("Bekräfta")
    assert "Klart! Din tid är bokad." in maria.text

    [meeting] = await meetings(services)
    assert meeting.venue_id is None and meeting.home_address_encrypted
    assert "Storgatan" not in meeting.home_address_encrypted.casefold().title()
    assert services.vault.decrypt(meeting.home_address_encrypted) == "storgatan 12, 753 20 Uppsala"

    await anna.send("/idag")
    assert "hemleverans, storgatan 12, 753 20 Uppsala" in anna.text
    await anna.press(anna.fake.buttons(anna.last)[0][0])  # type: ignore[arg-type]
    assert "Hemleverans, storgatan 12, 753 20 Uppsala" in anna.text
    await anna.press("Utlämnat")
    await anna.press("Svenskt pass")
    await checks(anna, yes=CHECK_QUESTIONS)
    assert "Utlämnat: SE-1" in anna.text
    # No extra pay for coming home: the same 500 kr as at a venue.
    assert await payout_lines(services) == [(meeting.id, PayoutKind.handout, 50_000)]
    assert "storgatan" not in caplog.text.casefold()


async def test_another_admin_never_sees_the_address(services: Services, world: World) -> None:
    """Bo's agenda reads only his own meetings; the place line names no address for him."""
    from bot.admin_outcome_flow import home_delivery_place
    from bot.dialogue import Conversation, Incoming
    from models.dialogue import DialogueState
    from models.network import Admin

    meeting = Meeting(
        card_id=world.cards["maria"],
        admin_id=world.admin_id,
        starts_at=NOW,
        ends_at=NOW,
        home_address_encrypted=services.vault.encrypt("Storgatan 12, 753 20 Uppsala"),
    )
    async with services.sessions() as session:
        anna = await session.get(Admin, world.admin_id)
        bo = await session.get(Admin, world.other_admin_id)
        assert anna is not None and bo is not None
        conv = Conversation(
            session=session,
            state=DialogueState(channel="telegram", chat_key="1"),
            incoming=Incoming(channel="telegram", chat_key="1", user_id=1),
            vault=services.vault,
            now=NOW,
        )
        assert home_delivery_place(conv, bo, meeting) == "hemleverans"
        assert (
            home_delivery_place(conv, anna, meeting) == "hemleverans, Storgatan 12, 753 20 Uppsala"
        )
