"""An admin's own availability on a real database: each rule, ownership, and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlmodel import col, select

from kortkontor.wiring import Services
from models.audit import AuditEvent, verify_chain
from models.cards import CardStatus
from models.db import transaction
from models.errors import InvalidInput, NotFound
from models.meetings import MeetingStatus
from models.network import Absence, Admin, AvailabilityWindow, Office, Venue, VenueKind
from scheduler import office_settings as settings
from scheduler.office_settings import (
    ClashesWithMeetings,
    NoticeAlreadyGiven,
    OverlappingAbsence,
    OverlappingWindow,
    TooFewWeekdays,
    VenueInUse,
)
from tests import factories

# Monday 30 November 2026, 09:00 in Stockholm.
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
MON, TUE, WED, THU, FRI, SAT = range(6)


@dataclass
class World:
    office_id: int
    anna: int  # admin at UPS1: Tue 16–19, Thu 08–10, Sat 10–12 at the café
    cecilia: int  # Anna's colleague at UPS1: Mon 16–19 at the café
    bo: int  # admin at GBG1
    cafe: int
    hotel: int  # GBG1's venue
    windows: dict[str, int]
    bo_absence: int


async def _build(services: Services) -> World:
    async with transaction(services.sessions) as session:
        ups = await factories.add(session, factories.office())
        gbg = await factories.add(
            session, factories.office(code="GBG1", name="Göteborg", city="Göteborg")
        )
        cafe = factories.venue(ups)
        hotel = factories.venue(
            gbg, key="hotel", name="Hotellet", address="Vägen 2", kind=VenueKind.hotel_lobby
        )
        anna = factories.admin(ups)
        cecilia = factories.admin(ups, email="cecilia@example.se", name="Cecilia C")
        bo = factories.admin(gbg, email="bo@example.se", name="Bo B")
        session.add_all([cafe, hotel, anna, cecilia, bo])
        await session.flush()
        windows = {
            "tue": factories.window(anna, cafe, TUE, time(16), time(19)),
            "thu": factories.window(anna, cafe, THU, time(8), time(10)),
            "sat": factories.window(anna, cafe, SAT, time(10), time(12)),
            "cecilia": factories.window(cecilia, cafe, MON, time(16), time(19)),
            "bo": factories.window(bo, hotel, MON, time(16), time(19)),
        }
        session.add_all(windows.values())
        absence = await factories.add(
            session, factories.absence(bo, date(2026, 12, 21), date(2027, 1, 6))
        )
        assert ups.id and cafe.id and hotel.id and anna.id and cecilia.id and bo.id and absence.id
        return World(
            office_id=ups.id,
            anna=anna.id,
            cecilia=cecilia.id,
            bo=bo.id,
            cafe=cafe.id,
            hotel=hotel.id,
            windows={key: w.id for key, w in windows.items() if w.id},
            bo_absence=absence.id,
        )


@pytest.fixture
async def world(services: Services) -> World:
    return await _build(services)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A Stockholm wall-clock time (CET in winter) as UTC."""
    return datetime(day.year, day.month, day.day, hour - 1, minute, tzinfo=UTC)


async def meeting(
    services: Services,
    world: World,
    starts_at: datetime,
    *,
    status: MeetingStatus = MeetingStatus.confirmed,
    admin_id: int | None = None,
    venue_id: int | None = None,
) -> int:
    """A meeting of its own card (one active meeting per card)."""
    async with transaction(services.sessions) as session:
        card = await factories.add_card(
            session, services.vault, world.office_id, status=CardStatus.booked
        )
        row = await factories.add(
            session,
            factories.meeting(
                card,
                admin_id or world.anna,
                starts_at,
                venue_id=venue_id or world.cafe,
                status=status,
            ),
        )
        assert row.id
        return row.id


async def events(services: Services, action: str) -> list[AuditEvent]:
    async with services.sessions() as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list((await session.exec(query.order_by(col(AuditEvent.seq)))).all())


async def test_availability_of_shows_own_windows_office_venues_and_absences(
    services: Services, world: World
) -> None:
    async with services.sessions() as session:
        view = await settings.availability_of(session, admin_id=world.anna)
    assert [(w.window.weekday, w.window.start, w.venue.name) for w in view.windows] == [
        (TUE, time(16), "Café Linné"),
        (THU, time(8), "Café Linné"),
        (SAT, time(10), "Café Linné"),
    ]
    assert [v.id for v in view.venues] == [world.cafe]  # not GBG1's hotel
    assert view.absences == ()  # Bo's absence is his own
    assert view.office.code == "UPS1" and view.notice_ends_on is None


async def test_add_window_is_audited_with_ids_and_times(services: Services, world: World) -> None:
    async with transaction(services.sessions) as session:
        window = await settings.add_window(
            session,
            admin_id=world.anna,
            weekday=WED,
            start=time(16),
            end=time(18, 30),
            venue_id=world.cafe,
            now=NOW,
        )
    [event] = await events(services, "window.added")
    assert (event.actor_role, event.actor_id, event.entity) == (
        "admin",
        world.anna,
        "availability_window",
    )
    assert event.entity_id == window.id and event.occurred_at == NOW
    assert event.data == {"weekday": WED, "start": "16:00", "end": "18:30", "venue_id": world.cafe}


@pytest.mark.parametrize(
    ("weekday", "start", "end", "error", "message"),
    [
        (WED, time(18), time(16), InvalidInput, "must end after it starts"),
        (WED, time(16), time(16, 10), InvalidInput, "at least 15 minutes"),
        (TUE, time(18), time(20), OverlappingWindow, "overlaps your window 16:00–19:00"),
        (7, time(16), time(18), InvalidInput, "Monday to Sunday"),
    ],
)
async def test_add_window_refuses_bad_windows(
    services: Services,
    world: World,
    weekday: int,
    start: time,
    end: time,
    error: type[Exception],
    message: str,
) -> None:
    async with transaction(services.sessions) as session:
        with pytest.raises(error, match=message):
            await settings.add_window(
                session,
                admin_id=world.anna,
                weekday=weekday,
                start=start,
                end=end,
                venue_id=world.cafe,
                now=NOW,
            )
    assert await events(services, "window.added") == []


async def test_removal_keeps_at_least_two_weekdays(services: Services, world: World) -> None:
    async with transaction(services.sessions) as session:
        with pytest.raises(TooFewWeekdays) as refused:
            await settings.remove_window(
                session, admin_id=world.anna, window_id=world.windows["thu"], now=NOW
            )
    assert refused.value.remaining == 1
    assert "at least two weekdays" in refused.value.translated("en")
    assert "minst två vardagar" in refused.value.translated("sv")
    # A Saturday window is not one of the two weekdays: removing it is fine.
    async with transaction(services.sessions) as session:
        await settings.remove_window(
            session, admin_id=world.anna, window_id=world.windows["sat"], now=NOW
        )
    # With a Wednesday added, Thursday may go.
    async with transaction(services.sessions) as session:
        await settings.add_window(
            session,
            admin_id=world.anna,
            weekday=WED,
            start=time(9),
            end=time(11),
            venue_id=world.cafe,
            now=NOW,
        )
        await settings.remove_window(
            session, admin_id=world.anna, window_id=world.windows["thu"], now=NOW
        )
    async with services.sessions() as session:
        view = await settings.availability_of(session, admin_id=world.anna)
    assert [w.window.weekday for w in view.windows] == [TUE, WED]
    removed = await events(services, "window.removed")
    assert [e.entity_id for e in removed] == [world.windows["sat"], world.windows["thu"]]
    assert removed[1].data == {
        "weekday": THU,
        "start": "08:00",
        "end": "10:00",
        "venue_id": world.cafe,
    }


async def test_a_second_window_on_the_same_day_may_go(services: Services, world: World) -> None:
    async with transaction(services.sessions) as session:
        extra = await settings.add_window(
            session,
            admin_id=world.anna,
            weekday=THU,
            start=time(16),
            end=time(17),
            venue_id=world.cafe,
            now=NOW,
        )
        assert extra.id
        await settings.remove_window(session, admin_id=world.anna, window_id=extra.id, now=NOW)


async def test_removal_is_refused_while_booked_meetings_lie_in_the_window(
    services: Services, world: World
) -> None:
    tuesday = date(2026, 12, 1)
    confirmed = await meeting(services, world, local(tuesday, 16))
    requested = await meeting(
        services, world, local(tuesday + timedelta(weeks=1), 18, 45), status=MeetingStatus.requested
    )
    # Not in the way: cancelled, over already, another weekday, another admin.
    await meeting(services, world, local(tuesday, 17), status=MeetingStatus.cancelled)
    await meeting(services, world, local(date(2026, 11, 24), 16), status=MeetingStatus.confirmed)
    await meeting(services, world, local(date(2026, 12, 3), 8))
    async with transaction(services.sessions) as session:
        await settings.add_window(
            session,
            admin_id=world.anna,
            weekday=WED,
            start=time(16),
            end=time(19),
            venue_id=world.cafe,
            now=NOW,
        )
        with pytest.raises(ClashesWithMeetings) as refused:
            await settings.remove_window(
                session, admin_id=world.anna, window_id=world.windows["tue"], now=NOW
            )
    assert [m.id for m in refused.value.meetings] == [confirmed, requested]
    assert refused.value.translated("sv").startswith("2 bokade möte(n) ligger inom den här tiden")
    async with services.sessions() as session:
        assert await session.get(AvailabilityWindow, world.windows["tue"]) is not None


async def test_an_admin_touches_only_their_own_rows(services: Services, world: World) -> None:
    attempts = [
        lambda s: settings.remove_window(
            s, admin_id=world.anna, window_id=world.windows["bo"], now=NOW
        ),
        lambda s: settings.remove_window(
            s, admin_id=world.anna, window_id=world.windows["cecilia"], now=NOW
        ),
        lambda s: settings.remove_absence(
            s, admin_id=world.anna, absence_id=world.bo_absence, now=NOW
        ),
        lambda s: settings.remove_venue(s, admin_id=world.anna, venue_id=world.hotel, now=NOW),
        lambda s: settings.add_window(
            s,
            admin_id=world.anna,
            weekday=WED,
            start=time(9),
            end=time(10),
            venue_id=world.hotel,
            now=NOW,
        ),
        lambda s: settings.availability_of(s, admin_id=9999),
        lambda s: settings.give_notice(s, admin_id=9999, now=NOW),
    ]
    for attempt in attempts:
        async with transaction(services.sessions) as session:
            with pytest.raises(NotFound):
                await attempt(session)
    async with services.sessions() as session:
        assert await session.get(AvailabilityWindow, world.windows["bo"]) is not None
        assert await session.get(Absence, world.bo_absence) is not None
        assert await session.get(Venue, world.hotel) is not None
        assert (await session.exec(select(AuditEvent))).all() == []


async def test_venues_are_added_with_unique_keys_and_no_personal_data_in_the_audit(
    services: Services, world: World
) -> None:
    async with transaction(services.sessions) as session:
        first = await settings.add_venue(
            session,
            admin_id=world.anna,
            name="  Café Linné ",
            address="Svartbäcksgatan 22",
            kind=VenueKind.cafe,
            now=NOW,
        )
        second = await settings.add_venue(
            session,
            admin_id=world.anna,
            name="Café Linné",
            address="Annan gata 1",
            kind=VenueKind.workplace,
            now=NOW,
        )
    assert (first.key, first.name, first.office_id) == ("cafe-linne", "Café Linné", world.office_id)
    assert second.key == "cafe-linne-2"
    added = await events(services, "venue.added")
    assert [e.entity_id for e in added] == [first.id, second.id]
    assert added[1].data == {"office_id": world.office_id, "kind": "workplace"}
    async with transaction(services.sessions) as session:
        with pytest.raises(InvalidInput):
            await settings.add_venue(
                session, admin_id=world.anna, name=" ", address="x", kind=VenueKind.other, now=NOW
            )


async def test_a_venue_in_use_is_not_removed(services: Services, world: World) -> None:
    async with transaction(services.sessions) as session:
        with pytest.raises(VenueInUse, match="4 time window"):  # Anna's three, Cecilia's one
            await settings.remove_venue(session, admin_id=world.anna, venue_id=world.cafe, now=NOW)
        spare = await settings.add_venue(
            session,
            admin_id=world.anna,
            name="Lobbyn",
            address="Torget 1",
            kind=VenueKind.hotel_lobby,
            now=NOW,
        )
        booked = await settings.add_venue(
            session,
            admin_id=world.anna,
            name="Jobbet",
            address="Sjukhuset",
            kind=VenueKind.workplace,
            now=NOW,
        )
        old = await settings.add_venue(
            session,
            admin_id=world.anna,
            name="Förr",
            address="Gamla vägen",
            kind=VenueKind.other,
            now=NOW,
        )
    assert spare.id and booked.id and old.id
    active = await meeting(services, world, local(date(2026, 12, 1), 16), venue_id=booked.id)
    await meeting(
        services,
        world,
        local(date(2026, 11, 3), 16),
        venue_id=old.id,
        status=MeetingStatus.handed_out,
    )
    async with transaction(services.sessions) as session:
        with pytest.raises(ClashesWithMeetings) as refused:
            await settings.remove_venue(session, admin_id=world.anna, venue_id=booked.id, now=NOW)
        assert [m.id for m in refused.value.meetings] == [active]
        with pytest.raises(VenueInUse, match="Earlier meetings"):
            await settings.remove_venue(session, admin_id=world.anna, venue_id=old.id, now=NOW)
        await settings.remove_venue(session, admin_id=world.anna, venue_id=spare.id, now=NOW)
    async with services.sessions() as session:
        assert await session.get(Venue, spare.id) is None
        assert await session.get(Venue, booked.id) is not None
    [removed] = await events(services, "venue.removed")
    assert removed.entity_id == spare.id and removed.actor_id == world.anna


async def test_absence_is_refused_over_booked_meetings_and_lists_them(
    services: Services, world: World
) -> None:
    inside_confirmed = await meeting(services, world, local(date(2026, 12, 22), 16))
    inside_requested = await meeting(
        services, world, local(date(2027, 1, 2), 10), status=MeetingStatus.requested
    )
    await meeting(services, world, local(date(2026, 12, 22), 17), admin_id=world.cecilia)
    await meeting(services, world, local(date(2027, 1, 3), 10))  # the day after
    await meeting(services, world, local(date(2026, 12, 21), 23, 45))  # the evening before
    async with transaction(services.sessions) as session:
        with pytest.raises(ClashesWithMeetings) as refused:
            await settings.add_absence(
                session,
                admin_id=world.anna,
                first_day=date(2026, 12, 22),
                last_day=date(2027, 1, 2),
                now=NOW,
            )
    assert [m.id for m in refused.value.meetings] == [inside_confirmed, inside_requested]
    assert await events(services, "absence.added") == []


async def test_absence_rules_and_audit(services: Services, world: World) -> None:
    async with transaction(services.sessions) as session:
        absence = await settings.add_absence(
            session,
            admin_id=world.anna,
            first_day=date(2026, 12, 23),
            last_day=date(2027, 1, 2),
            now=NOW,
        )
    refusals = [
        (date(2027, 1, 2), date(2027, 1, 5), OverlappingAbsence),
        (date(2027, 1, 10), date(2027, 1, 9), InvalidInput),
        (date(2026, 11, 1), date(2026, 11, 29), InvalidInput),  # over already
        (date(2027, 1, 10), date(2028, 1, 12), InvalidInput),  # longer than a year
    ]
    for first, last, error in refusals:
        async with transaction(services.sessions) as session:
            with pytest.raises(error):
                await settings.add_absence(
                    session, admin_id=world.anna, first_day=first, last_day=last, now=NOW
                )
    async with transaction(services.sessions) as session:
        # Today counts: an absence from today is allowed.
        await settings.add_absence(
            session,
            admin_id=world.anna,
            first_day=date(2026, 11, 30),
            last_day=date(2026, 12, 1),
            now=NOW,
        )
        assert absence.id
        await settings.remove_absence(session, admin_id=world.anna, absence_id=absence.id, now=NOW)
    added, removed = (
        await events(services, "absence.added"),
        await events(services, "absence.removed"),
    )
    assert len(added) == 2 and added[0].entity_id == absence.id
    assert added[0].data == {"admin_id": world.anna}  # no dates of a person's leave
    assert [e.entity_id for e in removed] == [absence.id]


async def test_home_delivery_and_auto_confirm_are_audited_when_they_change(
    services: Services, world: World
) -> None:
    async with transaction(services.sessions) as session:
        admin = await settings.set_home_delivery(
            session, admin_id=world.anna, enabled=True, now=NOW
        )
        assert admin.home_delivery
        await settings.set_home_delivery(session, admin_id=world.anna, enabled=True, now=NOW)
        await settings.set_auto_confirm(session, admin_id=world.anna, enabled=True, now=NOW)
        await settings.set_auto_confirm(session, admin_id=world.anna, enabled=False, now=NOW)
    async with services.sessions() as session:
        stored = await session.get(Admin, world.anna)
        assert stored is not None and stored.home_delivery and not stored.auto_confirm
    home = await events(services, "admin.home_delivery_set")
    assert [(e.entity_id, e.data) for e in home] == [(world.anna, {"enabled": True})]
    auto = await events(services, "admin.auto_confirm_set")
    assert [e.data["enabled"] for e in auto] == [True, False]


async def test_notice_is_the_admins_own_and_the_office_closes_with_the_last(
    services: Services, world: World
) -> None:
    """Anna's notice is hers: Cecilia at the same office still has none, and the office stays
    open until she gives hers too."""
    async with transaction(services.sessions) as session:
        ends_on = await settings.give_notice(session, admin_id=world.anna, now=NOW)
    assert ends_on == date(2026, 12, 30)
    async with transaction(services.sessions) as session:
        with pytest.raises(NoticeAlreadyGiven) as again:
            await settings.give_notice(session, admin_id=world.anna, now=NOW + timedelta(days=3))
    assert again.value.ends_on == date(2026, 12, 30)
    async with services.sessions() as session:
        office = await session.get(Office, world.office_id)
        assert office is not None and office.notice_given_at is None
        view = await settings.availability_of(session, admin_id=world.anna)
        assert view.notice_ends_on == date(2026, 12, 30)
        cecilia = await settings.availability_of(session, admin_id=world.cecilia)
        assert cecilia.notice_ends_on is None
    [event] = await events(services, "admin.notice_given")
    assert (event.entity, event.entity_id, event.actor_role, event.actor_id) == (
        "admin",
        world.anna,
        "admin",
        world.anna,
    )
    assert event.data == {"given_on": "2026-11-30", "ends_on": "2026-12-30"}
    assert await events(services, "office.notice_given") == []
    later = NOW + timedelta(days=3)
    async with transaction(services.sessions) as session:
        assert await settings.give_notice(session, admin_id=world.cecilia, now=later) == date(
            2027, 1, 3
        )
    async with services.sessions() as session:
        office = await session.get(Office, world.office_id)
        assert office is not None and office.notice_given_at == later
        assert settings.notice_ends_on(office) == date(2027, 1, 3)
    [closed] = await events(services, "office.notice_given")
    assert (closed.entity_id, closed.actor_role) == (world.office_id, "system")


@pytest.mark.parametrize(
    ("day", "later"),
    [
        (date(2026, 11, 30), date(2026, 12, 30)),
        (date(2026, 12, 31), date(2027, 1, 31)),
        (date(2027, 1, 31), date(2027, 2, 28)),
        (date(2028, 1, 30), date(2028, 2, 29)),
    ],
)
def test_one_calendar_month(day: date, later: date) -> None:
    assert settings.one_month_after(day) == later


async def test_the_audit_chain_holds_after_changes(services: Services, world: World) -> None:
    async with transaction(services.sessions) as session:
        await settings.set_home_delivery(session, admin_id=world.anna, enabled=True, now=NOW)
        await settings.remove_window(
            session, admin_id=world.anna, window_id=world.windows["sat"], now=NOW
        )
        await settings.give_notice(session, admin_id=world.anna, now=NOW)
    async with services.sessions() as session:
        assert await verify_chain(session) == []
