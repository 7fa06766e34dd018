"""What each dashboard page reads: plain typed functions over a session the caller owns.

Nothing here reads a card user's personal data: cards are shown by order reference only, and a
home delivery is shown without its address.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import feeds
from models.admins import OnboardingReport, onboarding_report
from models.audit import AuditEvent
from models.cards import Card, get_card_by_order_ref
from models.meetings import ACTIVE_MEETING_STATUSES, Meeting, MeetingStatus
from models.network import Absence, Admin, Office, Venue, get_office_by_code
from models.zone import local_day, local_midnight
from payout.statements import month_bounds
from payout.store import MonthExport, Payee, month_statements
from scheduler.coverage import OfficeGap, office_gaps
from scheduler.custody import KEPT, uncollected_cards
from scheduler.office_settings import WindowView, availability_of, notice_ends_on
from web.dashboard import figures
from web.dashboard.figures import AgeBucket, StatementSummary, StatusCount, WeekCount
from web.dashboard.timeline import TimelineEntry, timeline

# Meetings the overview lists: booked ones, and today's that already have an outcome.
LISTED_MEETINGS = (*ACTIVE_MEETING_STATUSES, MeetingStatus.handed_out, MeetingStatus.failed)


@dataclass(frozen=True, slots=True)
class StuckCard:
    """A card kept 30 days or more without a booking."""

    order_ref: str
    office_code: str
    office_name: str
    since: datetime
    days: int


@dataclass(frozen=True, slots=True)
class MeetingRow:
    """A meeting as the lists show it: when, what state, which card, with whom, where, and
    whether its card user said they come."""

    meeting_id: int
    starts_at: datetime
    status: str
    order_ref: str
    admin_name: str
    venue_name: str | None  # None: home delivery (its address is not shown)
    attendance_confirmed_at: datetime | None = None  # the card user answered «JA, jag kommer»


@dataclass(frozen=True, slots=True)
class OfficeMeetings:
    """One office's meetings today and in the coming days."""

    code: str
    name: str
    today: tuple[MeetingRow, ...]
    coming: tuple[MeetingRow, ...]


@dataclass(frozen=True, slots=True)
class OfficeRow:
    """An office in the overview's list."""

    code: str
    name: str
    city: str
    admins: int
    kept: int
    stuck: int
    notice_ends_on: date | None


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything on the overview page."""

    now: datetime
    statuses: tuple[StatusCount, ...]
    ages: tuple[AgeBucket, ...]
    weeks: tuple[WeekCount, ...]
    stuck: tuple[StuckCard, ...]
    meetings: tuple[OfficeMeetings, ...]
    offices: tuple[OfficeRow, ...]
    # Offices that absences leave without bookable time for more than two weeks.
    coverage: tuple[OfficeGap, ...] = ()

    @property
    def total_cards(self) -> int:
        """All cards, whatever their status."""
        return sum(row.count for row in self.statuses)


@dataclass(frozen=True, slots=True)
class AdminView:
    """An administrator on the office page, with their weekly times and absences."""

    admin: Admin
    windows: tuple[WindowView, ...]
    absences: tuple[Absence, ...]
    # The calendar link: since when the live one exists; None with `older_link` the link from
    # before stored links, else none stands.
    feed_since: datetime | None = None
    older_link: bool = False
    # The lifecycle state, the dated onboarding checklist and what is missing.
    onboarding: OnboardingReport | None = None


@dataclass(frozen=True, slots=True)
class OfficePage:
    """Everything on an office's page."""

    office: Office
    notice_ends_on: date | None
    venues: tuple[Venue, ...]
    admins: tuple[AdminView, ...]
    statuses: tuple[StatusCount, ...]
    stuck: tuple[StuckCard, ...]


@dataclass(frozen=True, slots=True)
class CardMeeting:
    """One of the card's meetings."""

    meeting: Meeting
    admin_name: str
    venue_name: str | None


@dataclass(frozen=True, slots=True)
class CardPage:
    """Everything on a card's page: the card, its office, its meetings and its timeline."""

    card: Card
    office: Office
    meetings: tuple[CardMeeting, ...]
    events: tuple[TimelineEntry, ...]


@dataclass(frozen=True, slots=True)
class PayoutRow:
    """One administrator's statement in the payouts table."""

    payee: Payee
    summary: StatementSummary
    locked_at: datetime | None


@dataclass(frozen=True, slots=True)
class PayoutsPage:
    """A month's statements as the export would write them now."""

    month: str
    rows: tuple[PayoutRow, ...]
    total_ore: int
    locked_at: datetime | None
    month_over: bool


def _local_midnight(day: date) -> datetime:
    return local_midnight(day).astimezone(UTC)


async def status_counts(
    session: AsyncSession, *, now: datetime, office_id: int | None = None
) -> list[StatusCount]:
    """Cards per status, with the longest time one has spent in it."""
    query = select(Card.status, func.count(), func.min(Card.status_changed_at)).group_by(
        Card.status
    )
    if office_id is not None:
        query = query.where(Card.office_id == office_id)
    found = {status: (count, oldest) for status, count, oldest in (await session.exec(query))}
    return figures.status_counts(found, now=now)


async def custody_ages(session: AsyncSession, *, now: datetime) -> list[AgeBucket]:
    """Cards in custody (booked or not) per age bucket, counted from their pickup."""
    query = select(Card.in_custody_since).where(
        col(Card.status).in_(KEPT), col(Card.in_custody_since).is_not(None)
    )
    since = (await session.exec(query)).all()
    return figures.age_buckets(figures.age_in_days(moment, now) for moment in since if moment)


async def handouts_per_week(session: AsyncSession, *, now: datetime) -> list[WeekCount]:
    """Meetings that handed a card out, per ISO week over the last 12 weeks."""
    today = local_day(now)
    start = _local_midnight(figures.first_week_shown(today))
    query = select(Meeting.closed_at).where(
        Meeting.status == MeetingStatus.handed_out, col(Meeting.closed_at) >= start
    )
    closed = (await session.exec(query)).all()
    return figures.week_counts((moment for moment in closed if moment), today=today)


async def stuck_cards(
    session: AsyncSession, *, now: datetime, office_id: int | None = None
) -> list[StuckCard]:
    """Cards kept 30 days or more without a booking, the longest-kept first."""
    cards = await uncollected_cards(session, now=now, office_id=office_id)
    offices = {office.id: office for office in (await session.exec(select(Office))).all()}
    stuck = []
    for card in cards:
        office, since = offices[card.office_id], card.in_custody_since
        assert since is not None
        days = figures.age_in_days(since, now)
        stuck.append(StuckCard(card.order_ref, office.code, office.name, since, days))
    return stuck


async def meetings_ahead(session: AsyncSession, *, now: datetime) -> list[OfficeMeetings]:
    """Per office, today's meetings and those of the coming 7 days, in time order."""
    today = local_day(now)
    start = _local_midnight(today)
    end = _local_midnight(today + timedelta(days=figures.UPCOMING_DAYS + 1))
    query = (
        select(Meeting, Card, Admin.name, Venue.name)
        .join(Card, col(Card.id) == col(Meeting.card_id))
        .join(Admin, col(Admin.id) == col(Meeting.admin_id))
        .outerjoin(Venue, col(Venue.id) == col(Meeting.venue_id))
        .where(
            col(Meeting.starts_at) >= start,
            col(Meeting.starts_at) < end,
            col(Meeting.status).in_(LISTED_MEETINGS),
        )
        .order_by(col(Meeting.starts_at), col(Meeting.id))
    )
    grouped: dict[int, dict[str, list[MeetingRow]]] = {}
    for meeting, card, admin_name, venue_name in await session.exec(query):
        when = figures.today_or_coming(meeting.starts_at, today=today)
        # Outcomes are only of interest today; later meetings are booked ones.
        if when is None or (when == "coming" and meeting.status not in ACTIVE_MEETING_STATUSES):
            continue
        assert meeting.id is not None
        row = MeetingRow(
            meeting.id,
            meeting.starts_at,
            meeting.status,
            card.order_ref,
            admin_name,
            venue_name,
            meeting.attendance_confirmed_at,
        )
        grouped.setdefault(card.office_id, {"today": [], "coming": []})[when].append(row)
    offices = await _offices(session)
    return [
        OfficeMeetings(
            office.code,
            office.name,
            tuple(grouped[office.id]["today"]),
            tuple(grouped[office.id]["coming"]),
        )
        for office in offices
        if office.id in grouped
    ]


async def _offices(session: AsyncSession) -> Sequence[Office]:
    query = select(Office).order_by(col(Office.city), col(Office.name), col(Office.id))
    return (await session.exec(query)).all()


async def office_rows(session: AsyncSession, *, stuck: Sequence[StuckCard]) -> list[OfficeRow]:
    """Every office with its number of admins, cards in custody and stuck cards."""
    admins = dict(
        (
            await session.exec(select(Admin.office_id, func.count()).group_by(col(Admin.office_id)))
        ).all()
    )
    kept = dict(
        (
            await session.exec(
                select(Card.office_id, func.count())
                .where(col(Card.status).in_(KEPT))
                .group_by(col(Card.office_id))
            )
        ).all()
    )
    stuck_by_code: dict[str, int] = {}
    for card in stuck:
        stuck_by_code[card.office_code] = stuck_by_code.get(card.office_code, 0) + 1
    return [
        OfficeRow(
            office.code,
            office.name,
            office.city,
            admins.get(office.id or 0, 0),
            kept.get(office.id or 0, 0),
            stuck_by_code.get(office.code, 0),
            notice_ends_on(office),
        )
        for office in await _offices(session)
    ]


async def overview(session: AsyncSession, *, now: datetime) -> Overview:
    """The overview page's figures as of `now`."""
    stuck = await stuck_cards(session, now=now)
    return Overview(
        now=now,
        statuses=tuple(await status_counts(session, now=now)),
        ages=tuple(await custody_ages(session, now=now)),
        weeks=tuple(await handouts_per_week(session, now=now)),
        stuck=tuple(stuck),
        meetings=tuple(await meetings_ahead(session, now=now)),
        offices=tuple(await office_rows(session, stuck=stuck)),
        coverage=tuple(
            await office_gaps(session, offices=await _offices(session), today=local_day(now))
        ),
    )


async def office_page(session: AsyncSession, *, code: str, now: datetime) -> OfficePage | None:
    """An office with its venues, admins (times and absences), cards and notice; None if none."""
    office = await get_office_by_code(session, code=code)
    if office is None or office.id is None:
        return None
    venues = (
        await session.exec(
            select(Venue).where(Venue.office_id == office.id).order_by(col(Venue.name))
        )
    ).all()
    admins = (
        await session.exec(
            select(Admin).where(Admin.office_id == office.id).order_by(col(Admin.name))
        )
    ).all()
    views = []
    for admin in admins:
        assert admin.id is not None
        availability = await availability_of(session, admin_id=admin.id)
        live = await feeds.live_feed(session, admin.id)
        views.append(
            AdminView(
                admin,
                availability.windows,
                availability.absences,
                feed_since=live.created_at if live is not None else None,
                older_link=await feeds.older_link_stands(session, admin.id),
                onboarding=onboarding_report(admin, today=local_day(now)),
            )
        )
    return OfficePage(
        office=office,
        notice_ends_on=notice_ends_on(office),
        venues=tuple(venues),
        admins=tuple(views),
        statuses=tuple(await status_counts(session, now=now, office_id=office.id)),
        stuck=tuple(await stuck_cards(session, now=now, office_id=office.id)),
    )


async def card_page(session: AsyncSession, *, order_ref: str) -> CardPage | None:
    """A card with its office, its meetings and its audit events in words; None if none."""
    card = await get_card_by_order_ref(session, order_ref=order_ref)
    if card is None or card.id is None:
        return None
    office = await session.get(Office, card.office_id)
    assert office is not None
    rows = (
        await session.exec(
            select(Meeting, Admin.name, Venue.name)
            .join(Admin, col(Admin.id) == col(Meeting.admin_id))
            .outerjoin(Venue, col(Venue.id) == col(Meeting.venue_id))
            .where(Meeting.card_id == card.id)
            .order_by(col(Meeting.starts_at), col(Meeting.id))
        )
    ).all()
    meetings = tuple(CardMeeting(meeting, admin, venue) for meeting, admin, venue in rows)
    meeting_ids = [row.meeting.id for row in meetings]
    events = (
        await session.exec(
            select(AuditEvent)
            .where(
                or_(
                    and_(col(AuditEvent.entity) == "card", col(AuditEvent.entity_id) == card.id),
                    and_(
                        col(AuditEvent.entity) == "meeting",
                        col(AuditEvent.entity_id).in_(meeting_ids),
                    ),
                )
            )
            .order_by(col(AuditEvent.seq))
        )
    ).all()
    admin_ids = {e.actor_id for e in events if e.actor_role == "admin" and e.actor_id is not None}
    found = await session.exec(select(Admin.id, Admin.name).where(col(Admin.id).in_(admin_ids)))
    names = {admin_id: name for admin_id, name in found if admin_id is not None}
    return CardPage(card, office, meetings, tuple(timeline(events, names)))


def payout_rows(export: MonthExport) -> list[PayoutRow]:
    """The export's statements as table rows, by administrator's name."""
    rows = [
        PayoutRow(
            export.payees[statement.admin_id],
            figures.summarize(statement),
            export.locked_at.get(statement.admin_id),
        )
        for statement in export.statements
    ]
    return sorted(rows, key=lambda row: (row.payee.name.casefold(), row.payee.admin_id))


async def payouts_page(session: AsyncSession, *, month: str, now: datetime) -> PayoutsPage:
    """The month's statements, locked or as they would be locked now."""
    export = await month_statements(session, month=month)
    return PayoutsPage(
        month=export.month,
        rows=tuple(payout_rows(export)),
        total_ore=export.total_ore,
        locked_at=max(export.locked_at.values(), default=None),
        month_over=month_bounds(export.month)[1] <= now,
    )
