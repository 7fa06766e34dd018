"""An ID administrator's lifecycle: recruited → onboarding → active → notice_given → ended.

The state is computed, never stored: from the dated onboarding checklist on Admin and, once
given, the notice's days. Two SQL conditions say who may take new work; every query that offers
administrators to card users or routes new cards uses them.

The notice is one calendar month: given on 15 March, the notice month's last day is 15 April
(the same day number; the month's last day when the next month is shorter: 31 January → 28 or
29 February). The administrator hands out through that day and is ended from the day after.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.errors import DomainError, InvalidInput
from models.i18n import N_
from models.lifecycle import Role
from models.network import ONBOARDING_ITEMS, Admin, Office, Payee
from models.zone import local_day, local_midnight

NOTICE_MONTHS = 1


class AdminState(StrEnum):
    """Where an administrator is in their lifecycle."""

    recruited = "recruited"  # in the network, no checklist item done yet
    onboarding = "onboarding"  # some items done, not all
    active = "active"  # every item done: offered to card users, receives new cards
    notice_given = "notice_given"  # the notice month: keeps handing out (the notice work)
    ended = "ended"  # the notice month is over (the notice work)


ADMIN_STATE_NAMES: dict[AdminState, str] = {
    AdminState.recruited: N_("recruited"),
    AdminState.onboarding: N_("onboarding"),
    AdminState.active: N_("active"),
    AdminState.notice_given: N_("notice given"),
    AdminState.ended: N_("ended"),
}

ONBOARDING_ITEM_NAMES: dict[str, str] = {
    "contract_signed": N_("contract signed"),
    "training_completed": N_("web training completed"),
    "record_checked": N_("extract from the criminal-records register checked"),
    "locked_storage": N_("locked storage for cards"),
    "pc_two_usb": N_("own PC (not Mac) with two free USB ports"),
    "internet_at_venue": N_("internet at the handout place"),
}


PAYEE_NAMES: dict[Payee, str] = {
    Payee.frilansfinans: N_("salary through frilansfinans"),
    Payee.company: N_("own company (F-skatt)"),
}
MISSING = N_("missing")
NOT_DONE_YET = N_("must not be after today ({today}): it is the day the item was done")
# The eligibility details a row from before migration 0014 may lack, by their file keys.
ELIGIBILITY_KEYS = ("birth_date", "address", "town", "payee")


@dataclass(frozen=True, slots=True)
class OnboardingReport:
    """What `admin show` and the dashboard tell about one administrator."""

    state: AdminState
    checklist: dict[str, date | None]
    missing: tuple[str, ...]  # checklist items not done
    unrecorded: tuple[str, ...]  # eligibility details not recorded (rows from before 0014)


def checklist(admin: Admin) -> dict[str, date | None]:
    """Each onboarding item with the day it was done, in the order shown."""
    return {item: getattr(admin, item) for item in ONBOARDING_ITEMS}


def missing_items(admin: Admin, *, today: date) -> tuple[str, ...]:
    """The checklist items not done by today (no date, or a date still to come)."""
    return tuple(item for item, day in checklist(admin).items() if day is None or day > today)


def one_month_after(day: date) -> date:
    """The same day one calendar month later; the month's last day when it is shorter."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def notice_end(given_on: date) -> date:
    """The last day of a notice month given on `given_on`."""
    day = given_on
    for _ in range(NOTICE_MONTHS):
        day = one_month_after(day)
    return day


def admin_state(admin: Admin, *, today: date) -> AdminState:
    """The administrator's state on a Stockholm calendar day."""
    # A recorded notice comes before the checklist: notice_given through its last day, ended
    # from the day after.
    if admin.notice_given_on is not None and admin.notice_given_on <= today:
        ends_on = admin.notice_ends_on or notice_end(admin.notice_given_on)
        return AdminState.notice_given if today <= ends_on else AdminState.ended
    missing = missing_items(admin, today=today)
    if not missing:
        return AdminState.active
    if len(missing) == len(ONBOARDING_ITEMS):
        return AdminState.recruited
    return AdminState.onboarding


def onboarding_report(admin: Admin, *, today: date) -> OnboardingReport:
    """The administrator's state, checklist and what is missing, on a Stockholm day."""
    return OnboardingReport(
        state=admin_state(admin, today=today),
        checklist=checklist(admin),
        missing=missing_items(admin, today=today),
        unrecorded=tuple(key for key in ELIGIBILITY_KEYS if getattr(admin, key) is None),
    )


async def set_onboarding_item(
    session: AsyncSession,
    *,
    admin: Admin,
    item: str,
    day: date,
    actor_id: int | None,
    now: datetime,
) -> bool:
    """Date one checklist item (an operator on the dashboard), audited; False when the item
    had that date already."""
    if item not in ONBOARDING_ITEMS:
        raise InvalidInput(
            "item", N_("must be one of: {allowed}"), allowed=", ".join(ONBOARDING_ITEMS)
        )
    today = local_day(now)
    if day > today:
        raise InvalidInput(item, NOT_DONE_YET, today=today.isoformat())
    previous: date | None = getattr(admin, item)
    if previous == day:
        return False
    before = admin_state(admin, today=today)
    setattr(admin, item, day)
    session.add(admin)
    await session.flush()
    assert admin.id is not None
    data: dict[str, Any] = {
        "items": {item: day.isoformat()},
        "previous": previous.isoformat() if previous is not None else None,
        "source": "dashboard",
    }
    after = admin_state(admin, today=today)
    if after != before:
        data["state"] = after.value
    await audit.append(
        session,
        actor_role=Role.operator,
        actor_id=actor_id,
        action="admin.onboarding",
        entity="admin",
        entity_id=admin.id,
        data=data,
        now=now,
    )
    return True


def _onboarded(today: date | ColumnElement[Any]) -> ColumnElement[bool]:
    """SQL: every checklist item done on or before `today` (an empty date never is)."""
    return and_(*(col(getattr(Admin, item)) <= today for item in ONBOARDING_ITEMS))


def gets_slots(today: date | ColumnElement[Any]) -> ColumnElement[bool]:
    """SQL condition on Admin: whose windows are offered to card users today: active, or in
    the notice month (which still hands out); never ended. The days after the notice month
    are not offered either (scheduler.availability)."""
    return and_(
        _onboarded(today),
        or_(col(Admin.notice_ends_on).is_(None), col(Admin.notice_ends_on) >= today),
    )


def receives_new_cards(today: date | ColumnElement[Any]) -> ColumnElement[bool]:
    """SQL condition on Admin: who counts for routing a new card to their office today:
    active and not under notice."""
    return and_(
        _onboarded(today),
        or_(col(Admin.notice_given_on).is_(None), col(Admin.notice_given_on) > today),
    )


async def admins_getting_slots(
    session: AsyncSession, *, office_id: int, today: date
) -> Sequence[Admin]:
    """The office's administrators whose windows card users are offered today."""
    query = select(Admin).where(Admin.office_id == office_id, gets_slots(today))
    return (await session.exec(query.order_by(col(Admin.id)))).all()


async def office_takes_new_cards(session: AsyncSession, *, office_id: int, today: date) -> bool:
    """Whether a new card may be routed to the office: someone there receives new cards."""
    query = select(exists().where(col(Admin.office_id) == office_id, receives_new_cards(today)))
    return bool((await session.exec(query)).one())


class NoticeAlreadyGiven(DomainError):
    """The administrator has given notice already; `ends_on` is the notice month's last day."""

    code = "notice_already_given"

    def __init__(self, ends_on: date) -> None:
        super().__init__(
            N_("Notice has already been given; the notice period ends on {date}."),
            date=ends_on.isoformat(),
        )
        self.ends_on = ends_on


async def give_notice(
    session: AsyncSession,
    *,
    admin_id: int,
    role: Role,
    actor_id: int | None,
    now: datetime,
    on: date | None = None,
) -> date:
    """Record an administrator's notice, given on `on` (default today; never a day to come),
    by the administrator or the operator; returns the notice month's last day. Audited. When
    nobody at the office is left without notice, the office closes with them."""
    today = local_day(now)
    given_on = today if on is None else on
    if given_on > today:
        raise InvalidInput("on", N_("must not be a day to come (today is {today})"), today=today)
    admin = await session.get(Admin, admin_id, with_for_update=True)
    assert admin is not None and admin.id is not None
    if admin.notice_given_on is not None:
        raise NoticeAlreadyGiven(admin.notice_ends_on or notice_end(admin.notice_given_on))
    admin.notice_given_on = given_on
    admin.notice_ends_on = notice_end(given_on)
    session.add(admin)
    await session.flush()
    await audit.append(
        session,
        actor_role=role,
        actor_id=actor_id,
        action="admin.notice_given",
        entity="admin",
        entity_id=admin.id,
        data={"given_on": given_on.isoformat(), "ends_on": admin.notice_ends_on.isoformat()},
        now=now,
    )
    await _close_office_when_all_gave_notice(session, office_id=admin.office_id, now=now)
    return admin.notice_ends_on


async def _close_office_when_all_gave_notice(
    session: AsyncSession, *, office_id: int, now: datetime
) -> None:
    """The office closes when its last administrator without notice gives it: it gets the
    latest notice's moment, so its end is the last administrator's end."""
    admins = (await session.exec(select(Admin).where(Admin.office_id == office_id))).all()
    days = [a.notice_given_on for a in admins]
    office = await session.get(Office, office_id, with_for_update=True)
    assert office is not None and office.id is not None
    if office.notice_given_at is not None or any(day is None for day in days):
        return
    latest = max(day for day in days if day is not None)
    office.notice_given_at = now if latest == local_day(now) else local_midnight(latest)
    session.add(office)
    await session.flush()
    await audit.append(
        session,
        actor_role=Role.system,
        actor_id=None,
        action="office.notice_given",
        entity="office",
        entity_id=office.id,
        data={"given_on": latest.isoformat(), "reason": "every_admin_gave_notice"},
        now=now,
    )
