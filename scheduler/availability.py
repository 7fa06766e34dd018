"""Reading an office's declared availability and bookings into the pure slot inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Date, bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.admins import gets_slots
from models.meetings import ACTIVE_MEETING_STATUSES, Meeting
from models.network import Absence, Admin, AvailabilityWindow, Office
from models.zone import local_day
from scheduler.slots import (
    AbsenceSpan,
    Busy,
    OfficeRules,
    Slot,
    WeeklyWindow,
    free_slots,
    slot_is_free,
)


@dataclass(frozen=True, slots=True)
class OfficeAvailability:
    """Everything free_slots needs for one office, read in one go."""

    windows: tuple[WeeklyWindow, ...]
    busy: tuple[Busy, ...]
    absences: tuple[AbsenceSpan, ...]
    rules: OfficeRules
    home_delivery_admins: frozenset[int]

    def free(self, *, now: datetime, home_delivery: bool = False) -> list[Slot]:
        """The office's free slots."""
        return free_slots(
            windows=self.windows,
            busy=self.busy,
            absences=self.absences,
            rules=self.rules,
            now=now,
            home_delivery_admins=self.home_delivery_admins,
            home_delivery=home_delivery,
        )

    def is_free(self, slot: Slot, *, now: datetime) -> bool:
        """Whether this exact slot is still offered."""
        return slot_is_free(
            slot,
            windows=self.windows,
            busy=self.busy,
            absences=self.absences,
            rules=self.rules,
            now=now,
            home_delivery_admins=self.home_delivery_admins,
        )


def office_rules(office: Office) -> OfficeRules:
    """The office's own slot length, buffer, notice and horizon."""
    return OfficeRules(
        slot_minutes=office.slot_minutes,
        buffer_minutes=office.buffer_minutes,
        min_notice=timedelta(hours=office.min_notice_hours),
        horizon_days=office.horizon_days,
    )


# Three queries, built once with parameters (composing them cost more than running them),
# each filtering by the office's admins in SQL. Admins only matter through their windows (no
# window, no slot), so they come with them, and only those who get slots today (models.admins:
# an administrator still onboarding is never offered).
_OFFICE_ADMINS = select(Admin.id).where(Admin.office_id == bindparam("office_id"))
_WINDOWS = (
    select(AvailabilityWindow, Admin)
    .join(Admin, col(Admin.id) == AvailabilityWindow.admin_id)
    .where(Admin.office_id == bindparam("office_id"), gets_slots(bindparam("today", type_=Date)))
)
_ABSENCES = select(Absence).where(col(Absence.admin_id).in_(_OFFICE_ADMINS))
_MEETINGS = select(Meeting).where(
    col(Meeting.admin_id).in_(_OFFICE_ADMINS),
    col(Meeting.status).in_(ACTIVE_MEETING_STATUSES),
    col(Meeting.ends_at) > bindparam("since"),
)


async def load_availability(
    session: AsyncSession, office: Office, *, now: datetime
) -> OfficeAvailability:
    """Windows, absences and active meetings of the office's admins, from now on."""
    params = {"office_id": office.id, "since": now - timedelta(days=1), "today": local_day(now)}
    rows = (await session.exec(_WINDOWS, params=params)).all()
    windows = [window for window, _ in rows]
    admins = {admin.id: admin for _, admin in rows}.values()
    absences = (await session.exec(_ABSENCES, params=params)).all()
    meetings = (await session.exec(_MEETINGS, params=params)).all()
    # An administrator under notice is offered up to the notice month's last day, never after.
    after_notice = tuple(
        AbsenceSpan(a.id, a.notice_ends_on + timedelta(days=1), date.max)
        for a in admins
        if a.id is not None and a.notice_ends_on is not None
    )
    return OfficeAvailability(
        windows=tuple(
            WeeklyWindow(w.admin_id, w.weekday, w.start, w.end, w.venue_id) for w in windows
        ),
        busy=tuple(Busy(m.admin_id, m.starts_at, m.ends_at) for m in meetings),
        absences=tuple(AbsenceSpan(a.admin_id, a.first_day, a.last_day) for a in absences)
        + after_notice,
        rules=office_rules(office),
        home_delivery_admins=frozenset(a.id for a in admins if a.home_delivery and a.id),
    )
