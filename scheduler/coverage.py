"""Coverage: stretches of days on which an office has no bookable time because of absences.

An absence is accepted whatever it does to the office; a gap longer than GAP_DAYS is flagged to
the operator (the dashboard's overview), with its dates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.admins import gets_slots
from models.network import Absence, Admin, AvailabilityWindow, Office
from scheduler.slots import AbsenceSpan, is_closed_day

GAP_DAYS = 14  # longer than this without a bookable day is flagged
# How far ahead absences are looked at: a year's absence declared today still shows.
LOOK_AHEAD_DAYS = 400


@dataclass(frozen=True, slots=True)
class Gap:
    """Days in a row (both ends included) on which nobody at the office can be booked."""

    first_day: date
    last_day: date

    @property
    def days(self) -> int:
        """How many days the gap lasts."""
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True, slots=True)
class OfficeGap:
    """A flagged gap at one office."""

    code: str
    name: str
    gap: Gap


def coverage_gaps(
    weekdays: Iterable[tuple[int, int]],
    absences: Iterable[AbsenceSpan],
    *,
    today: date,
    longer_than: int = GAP_DAYS,
) -> list[Gap]:
    """Runs of more than `longer_than` days, from today on, with no bookable day that an
    absence causes or lengthens. `weekdays` are (admin id, weekday) pairs of the
    administrators who get slots; holidays and eves are never bookable."""
    days_of: dict[int, set[int]] = {}
    for admin_id, weekday in weekdays:
        days_of.setdefault(admin_id, set()).add(weekday)
    # Only the absences of those who would be offered: an office with nobody offered at all
    # has no time for another reason than an absence.
    spans = [a for a in absences if a.last_day >= today and a.admin_id in days_of]
    if not spans:
        return []
    last = min(
        max(a.last_day for a in spans) + timedelta(days=7), today + timedelta(LOOK_AHEAD_DAYS)
    )
    away: dict[int, list[AbsenceSpan]] = {}
    for span in spans:
        away.setdefault(span.admin_id, []).append(span)

    def bookable(day: date) -> bool:
        if is_closed_day(day):
            return False
        return any(
            day.weekday() in weekdays_
            and not any(a.first_day <= day <= a.last_day for a in away.get(admin_id, ()))
            for admin_id, weekdays_ in days_of.items()
        )

    def absent_any(first: date, final: date) -> bool:
        return any(a.first_day <= final and first <= a.last_day for a in spans)

    gaps: list[Gap] = []
    start: date | None = None
    day = today
    while day <= last:
        if not bookable(day):
            start = start or day
        elif start is not None:
            gaps.append(Gap(start, day - timedelta(days=1)))
            start = None
        day += timedelta(days=1)
    if start is not None:
        gaps.append(Gap(start, last))
    return [g for g in gaps if g.days > longer_than and absent_any(g.first_day, g.last_day)]


async def office_gaps(
    session: AsyncSession, *, offices: Sequence[Office], today: date
) -> list[OfficeGap]:
    """The flagged gaps of these offices, office by office, earliest first."""
    ids = [office.id for office in offices if office.id is not None]
    windows = (
        await session.exec(
            select(Admin.office_id, AvailabilityWindow.admin_id, AvailabilityWindow.weekday)
            .join(Admin, col(Admin.id) == col(AvailabilityWindow.admin_id))
            .where(col(Admin.office_id).in_(ids), gets_slots(today))
        )
    ).all()
    absences = (
        await session.exec(
            select(Admin.office_id, Absence)
            .join(Admin, col(Admin.id) == col(Absence.admin_id))
            .where(col(Admin.office_id).in_(ids), col(Absence.last_day) >= today)
        )
    ).all()
    weekdays: dict[int, list[tuple[int, int]]] = {}
    for office_id, admin_id, weekday in windows:
        weekdays.setdefault(office_id, []).append((admin_id, weekday))
    spans: dict[int, list[AbsenceSpan]] = {}
    for office_id, absence in absences:
        spans.setdefault(office_id, []).append(
            AbsenceSpan(absence.admin_id, absence.first_day, absence.last_day)
        )
    flagged: list[OfficeGap] = []
    for office in offices:
        if office.id is None or office.id not in spans:
            continue
        for gap in coverage_gaps(weekdays.get(office.id, []), spans[office.id], today=today):
            flagged.append(OfficeGap(office.code, office.name, gap))
    return flagged
