"""The card's life as a state machine: which role may move a card from which state to which."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.cards import CARD_STATUS_NAMES, Card, CardStatus
from models.errors import IllegalTransition, Term
from models.i18n import N_
from models.meetings import MEETING_STATUS_NAMES, Meeting, MeetingStatus
from models.types import utcnow


class Role(StrEnum):
    """Who acts."""

    operator = "operator"
    admin = "admin"
    card_user = "card_user"
    system = "system"


ROLE_NAMES: dict[Role, str] = {
    Role.operator: N_("an operator"),
    Role.admin: N_("an ID administrator"),
    Role.card_user: N_("a card user"),
    Role.system: N_("the system"),
}
CARD_REFUSED = N_(
    "A card with status «{current}» cannot get status «{target}» from {role} (illegal transition)."
)
MEETING_REFUSED = N_(
    "A meeting with status «{current}» cannot get status «{target}» from {role} "
    "(illegal transition)."
)


def _refused(
    message_id: str, names: Mapping[Any, str], current: StrEnum, target: StrEnum, role: Role
) -> IllegalTransition:
    """The error for a move the table does not allow, with the states and the role in words."""
    return IllegalTransition(
        message_id,
        current=Term(names[current]),
        target=Term(names[target]),
        role=Term(ROLE_NAMES[role]),
    )


S = CardStatus
R = Role

# (from, to) → the roles allowed to make that move. Anything not listed is illegal.
CARD_TRANSITIONS: dict[tuple[CardStatus, CardStatus], frozenset[Role]] = {
    (S.ordered, S.shipped): frozenset({R.operator, R.system}),
    (S.shipped, S.notified): frozenset({R.admin, R.operator}),
    # Not every admin logs the avi, so a pickup may come straight after shipping.
    (S.shipped, S.in_custody): frozenset({R.admin, R.operator}),
    (S.notified, S.in_custody): frozenset({R.admin, R.operator}),
    # A confirmed meeting books the card: the admin confirms, or auto-confirm does it for the user.
    (S.in_custody, S.booked): frozenset({R.admin, R.card_user, R.system}),
    (S.booked, S.handed_out): frozenset({R.admin}),
    # A failed, cancelled, declined or expired meeting puts the card back in the locked drawer.
    (S.booked, S.in_custody): frozenset({R.admin, R.card_user, R.system, R.operator}),
    # Not collected in time, or the office closed: back to the issuer.
    (S.shipped, S.returned): frozenset({R.operator}),
    (S.notified, S.returned): frozenset({R.admin, R.operator}),
    (S.in_custody, S.returned): frozenset({R.admin, R.operator}),
    # The office closed with the time booked: the operator sends the card back, and the meeting
    # is cancelled with it.
    (S.booked, S.returned): frozenset({R.operator}),
    # A custody hand-over (scheduler.handover): the giver marks the card handed over, the
    # receiver confirms it; the operator may do either, or send the card back instead.
    (S.in_custody, S.in_transfer): frozenset({R.admin, R.operator}),
    (S.in_transfer, S.in_custody): frozenset({R.admin, R.operator}),
    (S.in_transfer, S.returned): frozenset({R.operator}),
    (S.in_transfer, S.revoked): frozenset({R.operator}),
    # Lost or stolen, at any point before the handout.
    (S.ordered, S.revoked): frozenset({R.operator}),
    (S.shipped, S.revoked): frozenset({R.operator}),
    (S.notified, S.revoked): frozenset({R.operator}),
    (S.in_custody, S.revoked): frozenset({R.operator}),
    (S.booked, S.revoked): frozenset({R.operator}),
}

FINAL_CARD_STATES = frozenset({S.handed_out, S.returned, S.revoked})
# DESIGN.md's main path in order; returned and revoked are side paths out of it.
CARD_PATH = (S.ordered, S.shipped, S.notified, S.in_custody, S.booked, S.handed_out)


def is_behind(current: CardStatus, stated: CardStatus) -> bool:
    """Whether a card that is `current` has passed `stated`: it is earlier on the main path,
    or the card's life here is over (handed out, returned or revoked) and `stated` is another
    status. Returned and revoked are never behind a card that is still on its way or kept."""
    if current in FINAL_CARD_STATES:
        return stated != current
    if current == S.in_transfer:
        # Kept, between two administrators: as far along as in_custody.
        current = S.in_custody
    return stated in CARD_PATH and CARD_PATH.index(stated) < CARD_PATH.index(current)


def may_transition(current: CardStatus, target: CardStatus, role: Role) -> bool:
    """Whether this role may move a card from `current` to `target`."""
    return role in CARD_TRANSITIONS.get((current, target), frozenset())


def check_transition(current: CardStatus, target: CardStatus, role: Role) -> None:
    """Raise IllegalTransition unless the move is allowed."""
    if not may_transition(current, target, role):
        raise _refused(CARD_REFUSED, CARD_STATUS_NAMES, current, target, role)


async def transition_card(
    session: AsyncSession,
    card: Card,
    target: CardStatus,
    *,
    role: Role,
    actor_id: int | None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Move a card and append the audit event, in the caller's transaction."""
    current = CardStatus(card.status)
    check_transition(current, target, role)
    moment = now or utcnow()
    card.status = target
    card.status_changed_at = moment
    if target == S.in_custody and current in (S.shipped, S.notified):
        card.in_custody_since = moment
    await _store_and_audit(session, card, "card", current, target, role, actor_id, data, moment)


async def _store_and_audit(
    session: AsyncSession,
    row: Card | Meeting,
    entity: str,
    current: StrEnum,
    target: StrEnum,
    role: Role,
    actor_id: int | None,
    data: dict[str, Any] | None,
    moment: datetime,
) -> None:
    """Flush the changed row and append its `<entity>.status` event."""
    session.add(row)
    await session.flush()
    assert row.id is not None
    await audit.append(
        session,
        actor_role=role,
        actor_id=actor_id,
        action=f"{entity}.status",
        entity=entity,
        entity_id=row.id,
        data={"from": current.value, "to": target.value, **(data or {})},
        now=moment,
    )


M = MeetingStatus

# (from, to) → roles. requested and confirmed are the active statuses; the rest are final.
MEETING_TRANSITIONS: dict[tuple[MeetingStatus, MeetingStatus], frozenset[Role]] = {
    (M.requested, M.confirmed): frozenset({R.admin, R.system}),
    (M.requested, M.declined): frozenset({R.admin}),
    (M.requested, M.cancelled): frozenset({R.card_user, R.operator, R.system}),
    (M.requested, M.expired): frozenset({R.system}),
    (M.confirmed, M.cancelled): frozenset({R.card_user, R.admin, R.operator, R.system}),
    (M.confirmed, M.handed_out): frozenset({R.admin}),
    (M.confirmed, M.failed): frozenset({R.admin}),
}


async def transition_meeting(
    session: AsyncSession,
    meeting: Meeting,
    target: MeetingStatus,
    *,
    role: Role,
    actor_id: int | None,
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> None:
    """Move a meeting and append the audit event, in the caller's transaction."""
    current = MeetingStatus(meeting.status)
    if role not in MEETING_TRANSITIONS.get((current, target), frozenset()):
        raise _refused(MEETING_REFUSED, MEETING_STATUS_NAMES, current, target, role)
    moment = now or utcnow()
    meeting.status = target
    if target == MeetingStatus.confirmed:
        meeting.confirmed_at = moment
    else:
        meeting.closed_at = moment
    await _store_and_audit(
        session,
        meeting,
        "meeting",
        current,
        target,
        role,
        actor_id,
        {"card_id": meeting.card_id, **(data or {})},
        moment,
    )
