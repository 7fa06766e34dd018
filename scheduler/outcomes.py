"""What happened at a meeting: the card handed out after the identity check, or not, and why.
Each outcome records what the admin is paid: a handout, and an extra meeting when the meeting
was needed because an earlier one failed through no fault of the admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.cards import Card, CardStatus, CardUser
from models.crypto import PersonnummerVault
from models.errors import DomainError, Forbidden, InvalidInput
from models.i18n import N_
from models.lifecycle import Role, transition_meeting
from models.meetings import (
    FailureReason,
    IdDocument,
    Meeting,
    MeetingStatus,
)
from models.payouts import PayoutKind, PayoutLine, Tariffs
from models.zone import local_day
from scheduler import notifications
from scheduler.booking import drop_pending_move, meeting_for_actor
from scheduler.cards import change_status


class TooEarly(DomainError):
    """Outcomes are recorded from the start of the meeting's day."""

    code = "too_early"


async def meeting_to_record(
    session: AsyncSession, *, admin_id: int, meeting_id: int, now: datetime
) -> Meeting:
    """A confirmed meeting of the admin's office whose day has come."""
    meeting = await meeting_for_actor(
        session, meeting_id=meeting_id, role=Role.admin, actor_id=admin_id
    )
    if meeting.status != MeetingStatus.confirmed:
        raise DomainError(N_("That meeting is not waiting for an outcome."))
    if local_day(now) < local_day(meeting.starts_at):
        raise TooEarly(N_("The outcome can be recorded from the day of the meeting."))
    return meeting


def _earned(meeting: Meeting, tariffs: Tariffs) -> list[tuple[PayoutKind, int]]:
    """What the outcome pays: the handout, and an extra meeting that took place, whatever its
    outcome (a no-show is not a meeting)."""
    earned = []
    if meeting.status == MeetingStatus.handed_out:
        earned.append((PayoutKind.handout, tariffs.handout_ore))
    if meeting.is_extra and meeting.failure_reason != FailureReason.no_show:
        earned.append((PayoutKind.extra_meeting, tariffs.extra_meeting_ore))
    return earned


# Where the card goes after each outcome: to its user, or back to the locked drawer.
CARD_AFTER = {
    MeetingStatus.handed_out: CardStatus.handed_out,
    MeetingStatus.failed: CardStatus.in_custody,
}


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What the admin recorded, and what of it the audit event keeps."""

    status: MeetingStatus
    document: IdDocument | None
    reason: FailureReason | None
    audited: dict[str, str]


async def _record(
    session: AsyncSession,
    outcome: _Outcome,
    *,
    admin_id: int,
    meeting_id: int,
    tariffs: Tariffs,
    now: datetime,
) -> Meeting:
    """Close the meeting with its outcome, move the card, pay the admin and tell the user."""
    meeting = await meeting_to_record(session, admin_id=admin_id, meeting_id=meeting_id, now=now)
    meeting.id_document = outcome.document
    meeting.failure_reason = outcome.reason
    await transition_meeting(
        session,
        meeting,
        outcome.status,
        role=Role.admin,
        actor_id=admin_id,
        data=outcome.audited,
        now=now,
    )
    await drop_pending_move(session, meeting, now=now)
    card = await session.get(Card, meeting.card_id)
    assert card is not None
    await change_status(
        session, card, CARD_AFTER[outcome.status], role=Role.admin, actor_id=admin_id, now=now
    )
    for kind, amount in _earned(meeting, tariffs):
        session.add(
            PayoutLine(
                admin_id=meeting.admin_id,
                meeting_id=meeting.id,
                card_id=meeting.card_id,
                kind=kind,
                amount_ore=amount,
                occurred_at=now,
            )
        )
    await notifications.outcome_recorded(session, meeting, now=now)
    return meeting


async def record_handout(
    session: AsyncSession,
    *,
    admin_id: int,
    meeting_id: int,
    document: IdDocument,
    tariffs: Tariffs,
    now: datetime,
) -> Meeting:
    """The identity check passed and the card was handed over."""
    if document == IdDocument.other:
        raise InvalidInput(
            "document", N_("The card cannot be handed out without an accepted ID document.")
        )
    outcome = _Outcome(MeetingStatus.handed_out, document, None, {"id_document": document.value})
    return await _record(
        session, outcome, admin_id=admin_id, meeting_id=meeting_id, tariffs=tariffs, now=now
    )


async def record_failure(
    session: AsyncSession,
    *,
    admin_id: int,
    meeting_id: int,
    reason: FailureReason,
    tariffs: Tariffs,
    now: datetime,
    document: IdDocument | None = None,
) -> Meeting:
    """No handout: the card goes back to the drawer and the user is asked to book again."""
    outcome = _Outcome(MeetingStatus.failed, document, reason, {"reason": reason.value})
    return await _record(
        session, outcome, admin_id=admin_id, meeting_id=meeting_id, tariffs=tariffs, now=now
    )


async def reveal_personnummer(
    session: AsyncSession,
    vault: PersonnummerVault,
    *,
    admin_id: int,
    meeting_id: int,
    now: datetime,
) -> str:
    """The full personnummer, for the meeting's own admin on the meeting's day; audited."""
    meeting = await meeting_for_actor(
        session, meeting_id=meeting_id, role=Role.admin, actor_id=admin_id
    )
    if meeting.admin_id != admin_id or local_day(now) != local_day(meeting.starts_at):
        raise Forbidden(
            N_("The full personnummer is shown only to the meeting's administrator, on its day.")
        )
    card = await session.get(Card, meeting.card_id)
    assert card is not None and meeting.id is not None
    holder = await session.get(CardUser, card.card_user_id)
    assert holder is not None
    await audit.append(
        session,
        actor_role=Role.admin,
        actor_id=admin_id,
        action="personnummer.viewed",
        entity="meeting",
        entity_id=meeting.id,
        data={"card_id": card.id},
        now=now,
    )
    return vault.decrypt(holder.personnummer_encrypted)
