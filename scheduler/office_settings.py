"""An admin's own availability, changed from the chat: weekly windows, venues, absences, home
delivery, auto-confirm, and their own notice of termination.

Every function takes the acting admin's id and touches only that admin's rows (venues: their
office's); anything else is NotFound. Each change is audited in the caller's
transaction, which the caller owns. The admin's row is locked first, so that one admin's
changes are checked one at a time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.admins import NoticeAlreadyGiven, notice_end, one_month_after
from models.admins import give_notice as record_notice
from models.errors import DomainError, InvalidInput, NotFound
from models.i18n import N_
from models.lifecycle import Role
from models.meetings import ACTIVE_MEETING_STATUSES, Meeting
from models.network import Absence, Admin, AvailabilityWindow, Office, Venue, VenueKind
from models.network_file import MIN_WORKDAYS, WORKDAYS
from models.validation import require_text
from models.zone import STOCKHOLM, local_midnight

__all__ = ["NoticeAlreadyGiven", "one_month_after"]  # the chat and its tests read them here
# An absence is days off; a longer break is a notice of termination.
MAX_ABSENCE_DAYS = 366
VENUE_KEY_LENGTH = 40


class TooFewWeekdays(DomainError):
    """The change would leave the admin fewer than two weekdays (Mon–Fri) a week."""

    code = "too_few_weekdays"

    def __init__(self, remaining: int) -> None:
        super().__init__(
            N_(
                "An ID administrator must be available at least two weekdays (Monday–Friday) "
                "every week. Without this window you would be available {count} weekday(s) a "
                "week. Add a window on another weekday first, then remove this one."
            ),
            count=remaining,
        )
        self.remaining = remaining


class ClashesWithMeetings(DomainError):
    """Booked (requested or confirmed) meetings stand in the way; `meetings` lists them."""

    code = "clashes_with_meetings"

    def __init__(self, message_id: str, *, meetings: Sequence[Meeting]) -> None:
        super().__init__(message_id, count=len(meetings))
        self.meetings = tuple(meetings)


class OverlappingWindow(DomainError):
    """A new window overlaps one the admin already has on that weekday."""

    code = "overlapping_window"


class OverlappingAbsence(DomainError):
    """A new absence overlaps one the admin already has."""

    code = "overlapping_absence"


class VenueInUse(DomainError):
    """A venue that windows (or the records of earlier meetings) still refer to."""

    code = "venue_in_use"


@dataclass(frozen=True, slots=True)
class WindowView:
    """A weekly window with its venue."""

    window: AvailabilityWindow
    venue: Venue


@dataclass(frozen=True, slots=True)
class AdminAvailability:
    """What /tider shows: the admin's windows, the office's venues, absences and settings."""

    admin: Admin
    office: Office
    windows: tuple[WindowView, ...]
    venues: tuple[Venue, ...]
    absences: tuple[Absence, ...]

    @property
    def notice_ends_on(self) -> date | None:
        """The last day of the admin's own notice month, once notice is given."""
        return self.admin.notice_ends_on


def notice_ends_on(office: Office) -> date | None:
    """The office's closing day: the end of its last administrator's notice month, once every
    administrator there has given notice (models.admins.give_notice sets the moment)."""
    if office.notice_given_at is None:
        return None
    return notice_end(office.notice_given_at.astimezone(STOCKHOLM).date())


# ---------------------------------------------------------------- ownership


async def _admin(session: AsyncSession, admin_id: int, *, lock: bool = True) -> Admin:
    """The acting admin, locked so that their changes are checked one at a time."""
    admin = await session.get(Admin, admin_id, with_for_update=lock)
    if admin is None or admin.id is None:
        raise NotFound(N_("That administrator was not found."))
    return admin


async def _own_window(session: AsyncSession, admin: Admin, window_id: int) -> AvailabilityWindow:
    window = await session.get(AvailabilityWindow, window_id)
    if window is None or window.admin_id != admin.id:
        raise NotFound(N_("That time window was not found."))
    return window


async def _own_venue(session: AsyncSession, admin: Admin, venue_id: int) -> Venue:
    venue = await session.get(Venue, venue_id)
    if venue is None or venue.office_id != admin.office_id:
        raise NotFound(N_("That venue was not found."))
    return venue


async def _own_absence(session: AsyncSession, admin: Admin, absence_id: int) -> Absence:
    absence = await session.get(Absence, absence_id)
    if absence is None or absence.admin_id != admin.id:
        raise NotFound(N_("That absence was not found."))
    return absence


async def _office(session: AsyncSession, admin: Admin, *, lock: bool = False) -> Office:
    office = await session.get(Office, admin.office_id, with_for_update=lock)
    assert office is not None
    return office


async def _audit(
    session: AsyncSession,
    admin: Admin,
    *,
    action: str,
    entity: str,
    entity_id: int | None,
    data: dict[str, Any],
    now: datetime,
) -> None:
    """One audit event by the admin; ids, codes and clock times only."""
    assert entity_id is not None
    await audit.append(
        session,
        actor_role=Role.admin,
        actor_id=admin.id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        data=data,
        now=now,
    )


# ---------------------------------------------------------------- reading


async def _windows(session: AsyncSession, admin_id: int) -> list[AvailabilityWindow]:
    query = (
        select(AvailabilityWindow)
        .where(AvailabilityWindow.admin_id == admin_id)
        .order_by(
            col(AvailabilityWindow.weekday),
            col(AvailabilityWindow.start),
            col(AvailabilityWindow.id),
        )
    )
    return list((await session.exec(query)).all())


async def _active_meetings(session: AsyncSession, admin_id: int, *, now: datetime) -> list[Meeting]:
    """The admin's requested and confirmed meetings that have not ended yet."""
    query = select(Meeting).where(
        Meeting.admin_id == admin_id,
        col(Meeting.status).in_(ACTIVE_MEETING_STATUSES),
        col(Meeting.ends_at) > now,
    )
    return list((await session.exec(query.order_by(col(Meeting.starts_at)))).all())


async def availability_of(session: AsyncSession, *, admin_id: int) -> AdminAvailability:
    """The admin's windows (with venues), the office's venues, absences and notice."""
    admin = await _admin(session, admin_id, lock=False)
    office = await _office(session, admin)
    venues = (
        await session.exec(
            select(Venue)
            .where(Venue.office_id == admin.office_id)
            .order_by(col(Venue.name), col(Venue.id))
        )
    ).all()
    by_id = {venue.id: venue for venue in venues}
    absences = (
        await session.exec(
            select(Absence)
            .where(Absence.admin_id == admin_id)
            .order_by(col(Absence.first_day), col(Absence.id))
        )
    ).all()
    windows = tuple(
        WindowView(window, by_id[window.venue_id])
        for window in await _windows(session, admin_id)
        if window.venue_id in by_id
    )
    return AdminAvailability(
        admin=admin, office=office, windows=windows, venues=tuple(venues), absences=tuple(absences)
    )


# ---------------------------------------------------------------- weekly windows


def _clock(moment: time) -> str:
    return moment.strftime("%H:%M")


async def add_window(
    session: AsyncSession,
    *,
    admin_id: int,
    weekday: int,
    start: time,
    end: time,
    venue_id: int,
    now: datetime,
) -> AvailabilityWindow:
    """A new weekly window at one of the office's venues; it may not overlap another."""
    admin = await _admin(session, admin_id)
    venue = await _own_venue(session, admin, venue_id)
    if not 0 <= weekday <= 6:
        raise InvalidInput("weekday", N_("The weekday must be Monday to Sunday."))
    if end <= start:
        raise InvalidInput("end", N_("The window must end after it starts."))
    office = await _office(session, admin)
    minutes = (end.hour - start.hour) * 60 + end.minute - start.minute
    if minutes < office.slot_minutes:
        raise InvalidInput(
            "end",
            N_("The window must be at least {minutes} minutes long, the length of one meeting."),
            minutes=office.slot_minutes,
        )
    for other in await _windows(session, admin_id):
        if other.weekday == weekday and other.start < end and start < other.end:
            raise OverlappingWindow(
                N_("It overlaps your window {start}–{end} on the same weekday."),
                start=_clock(other.start),
                end=_clock(other.end),
            )
    window = AvailabilityWindow(
        admin_id=admin_id, weekday=weekday, start=start, end=end, venue_id=venue_id
    )
    session.add(window)
    await session.flush()
    await _audit(
        session,
        admin,
        action="window.added",
        entity="availability_window",
        entity_id=window.id,
        data={"weekday": weekday, "start": _clock(start), "end": _clock(end), "venue_id": venue.id},
        now=now,
    )
    return window


def _in_window(meeting: Meeting, window: AvailabilityWindow) -> bool:
    """Whether the meeting's local time overlaps the window on its weekday."""
    starts = meeting.starts_at.astimezone(STOCKHOLM)
    ends = meeting.ends_at.astimezone(STOCKHOLM)
    if starts.weekday() != window.weekday:
        return False
    end_clock = ends.time() if ends.date() == starts.date() else time.max
    return starts.time() < window.end and window.start < end_clock


async def remove_window(
    session: AsyncSession, *, admin_id: int, window_id: int, now: datetime
) -> None:
    """Remove a window, unless booked meetings lie in it or too few weekdays would be left."""
    admin = await _admin(session, admin_id)
    window = await _own_window(session, admin, window_id)
    windows = await _windows(session, admin_id)
    before = {w.weekday for w in windows} & WORKDAYS
    after = {w.weekday for w in windows if w.id != window.id} & WORKDAYS
    # Refused only when this removal takes the admin below the rule: removing a Saturday
    # window from a week that was already short does not make it shorter.
    if len(after) < MIN_WORKDAYS and len(after) < len(before):
        raise TooFewWeekdays(len(after))
    meetings = await _active_meetings(session, admin_id, now=now)
    clashes = [meeting for meeting in meetings if _in_window(meeting, window)]
    if clashes:
        raise ClashesWithMeetings(
            N_("{count} booked meeting(s) fall in this window, so it cannot be removed yet."),
            meetings=clashes,
        )
    data = {
        "weekday": window.weekday,
        "start": _clock(window.start),
        "end": _clock(window.end),
        "venue_id": window.venue_id,
    }
    await session.delete(window)
    await session.flush()
    await _audit(
        session,
        admin,
        action="window.removed",
        entity="availability_window",
        entity_id=window_id,
        data=data,
        now=now,
    )


# ---------------------------------------------------------------- venues


def _key_of(name: str) -> str:
    """A venue key from its name: «Café Linné» → «cafe-linne»."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return key[:VENUE_KEY_LENGTH].strip("-") or "venue"


async def add_venue(
    session: AsyncSession,
    *,
    admin_id: int,
    name: str,
    address: str,
    kind: VenueKind,
    now: datetime,
) -> Venue:
    """A new venue for the admin's office (never the admin's home)."""
    admin = await _admin(session, admin_id)
    name = require_text(name, field="name", max_length=200)
    address = require_text(address, field="address", max_length=300)
    kind = VenueKind(kind)
    keys = await session.exec(select(Venue.key).where(Venue.office_id == admin.office_id))
    taken = set(keys.all())
    base = key = _key_of(name)
    n = 1
    while key in taken:
        n += 1
        key = f"{base}-{n}"
    venue = Venue(office_id=admin.office_id, key=key, name=name, address=address, kind=kind)
    session.add(venue)
    await session.flush()
    await _audit(
        session,
        admin,
        action="venue.added",
        entity="venue",
        entity_id=venue.id,
        data={"office_id": admin.office_id, "kind": kind.value},
        now=now,
    )
    return venue


async def remove_venue(
    session: AsyncSession, *, admin_id: int, venue_id: int, now: datetime
) -> None:
    """Remove an office venue that no window, booked meeting or earlier meeting uses."""
    admin = await _admin(session, admin_id)
    venue = await _own_venue(session, admin, venue_id)
    windows = (
        await session.exec(
            select(AvailabilityWindow).where(AvailabilityWindow.venue_id == venue_id)
        )
    ).all()
    if windows:
        raise VenueInUse(
            N_(
                "{count} time window(s) use this venue (other administrators' windows "
                "included). Remove those windows first, then the venue."
            ),
            count=len(windows),
        )
    booked = (
        await session.exec(
            select(Meeting)
            .where(
                Meeting.venue_id == venue_id,
                col(Meeting.status).in_(ACTIVE_MEETING_STATUSES),
            )
            .order_by(col(Meeting.starts_at))
        )
    ).all()
    if booked:
        raise ClashesWithMeetings(
            N_("{count} booked meeting(s) take place at this venue, so it cannot be removed yet."),
            meetings=booked,
        )
    earlier = await session.exec(select(Meeting.id).where(Meeting.venue_id == venue_id).limit(1))
    if earlier.first() is not None:
        # The records of earlier meetings name their place, so the row has to stay.
        raise VenueInUse(
            N_(
                "Earlier meetings took place at this venue, and their records keep it. Without "
                "time windows it is not offered to anyone."
            )
        )
    await session.delete(venue)
    await session.flush()
    await _audit(
        session,
        admin,
        action="venue.removed",
        entity="venue",
        entity_id=venue_id,
        data={"office_id": admin.office_id},
        now=now,
    )


# ---------------------------------------------------------------- absences


async def add_absence(
    session: AsyncSession, *, admin_id: int, first_day: date, last_day: date, now: datetime
) -> Absence:
    """Days off (both ends included), unless booked meetings fall inside them."""
    admin = await _admin(session, admin_id)
    if last_day < first_day:
        raise InvalidInput("last_day", N_("The absence must not end before it starts."))
    if last_day < now.astimezone(STOCKHOLM).date():
        raise InvalidInput("last_day", N_("Those days have already passed."))
    if (last_day - first_day).days + 1 > MAX_ABSENCE_DAYS:
        raise InvalidInput(
            "last_day", N_("An absence can be at most {days} days long."), days=MAX_ABSENCE_DAYS
        )
    existing = (await session.exec(select(Absence).where(Absence.admin_id == admin_id))).all()
    for other in existing:
        if other.first_day <= last_day and first_day <= other.last_day:
            raise OverlappingAbsence(
                N_("It overlaps your absence {first} – {last}. Remove that one first."),
                first=other.first_day.isoformat(),
                last=other.last_day.isoformat(),
            )
    begins, ends = local_midnight(first_day), local_midnight(last_day + timedelta(days=1))
    meetings = await _active_meetings(session, admin_id, now=now)
    clashes = [m for m in meetings if m.starts_at < ends and begins < m.ends_at]
    if clashes:
        raise ClashesWithMeetings(
            N_("{count} booked meeting(s) fall in the absence, so it cannot be added."),
            meetings=clashes,
        )
    absence = Absence(admin_id=admin_id, first_day=first_day, last_day=last_day)
    session.add(absence)
    await session.flush()
    await _audit(
        session,
        admin,
        action="absence.added",
        entity="absence",
        entity_id=absence.id,
        data={"admin_id": admin_id},
        now=now,
    )
    return absence


async def remove_absence(
    session: AsyncSession, *, admin_id: int, absence_id: int, now: datetime
) -> None:
    """Remove one of the admin's absences: those days are open again."""
    admin = await _admin(session, admin_id)
    absence = await _own_absence(session, admin, absence_id)
    await session.delete(absence)
    await session.flush()
    await _audit(
        session,
        admin,
        action="absence.removed",
        entity="absence",
        entity_id=absence_id,
        data={"admin_id": admin_id},
        now=now,
    )


# ---------------------------------------------------------------- settings and notice


async def _set_flag(
    session: AsyncSession, *, admin_id: int, name: str, enabled: bool, now: datetime
) -> Admin:
    """Set one of the admin's on/off settings; audited only when it changes."""
    admin = await _admin(session, admin_id)
    if getattr(admin, name) == enabled:
        return admin
    setattr(admin, name, enabled)
    session.add(admin)
    await session.flush()
    await _audit(
        session,
        admin,
        action=f"admin.{name}_set",
        entity="admin",
        entity_id=admin.id,
        data={"enabled": enabled},
        now=now,
    )
    return admin


async def set_home_delivery(
    session: AsyncSession, *, admin_id: int, enabled: bool, now: datetime
) -> Admin:
    """Offer home delivery, or stop offering it; meetings already booked stay."""
    return await _set_flag(
        session, admin_id=admin_id, name="home_delivery", enabled=enabled, now=now
    )


async def set_auto_confirm(
    session: AsyncSession, *, admin_id: int, enabled: bool, now: datetime
) -> Admin:
    """Confirm new bookings at once, or by hand; requests already waiting stay as they are."""
    return await _set_flag(
        session, admin_id=admin_id, name="auto_confirm", enabled=enabled, now=now
    )


async def give_notice(session: AsyncSession, *, admin_id: int, now: datetime) -> date:
    """The admin gives their own notice today (once); returns the notice month's last day.

    They keep handing out for the month; new cards go to their office only while a colleague
    there has not given notice."""
    admin = await _admin(session, admin_id)
    assert admin.id is not None
    return await record_notice(
        session, admin_id=admin.id, role=Role.admin, actor_id=admin.id, now=now
    )
