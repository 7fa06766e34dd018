"""What happened at a meeting: the card handed out after the identity check, or not, and why.
Each outcome records what the admin is paid: a handout, and an extra meeting when the meeting
was needed because an earlier one failed (for a reason the tariffs name)."""

from __future__ import annotations

import hmac
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
    IdCheck,
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
    """What the outcome pays: the handout, and an extra meeting whatever its outcome; every
    extra meeting in a chain is paid, as the seed pays each further meeting needed."""
    earned = []
    if meeting.status == MeetingStatus.handed_out:
        earned.append((PayoutKind.handout, tariffs.handout_ore))
    if meeting.is_extra:
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
    audited: dict[str, str | bool]
    failed_check: IdCheck | None = None
    card_number_checked: bool = False


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
    meeting.failed_check = outcome.failed_check
    meeting.card_number_checked = outcome.card_number_checked
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
    card_number_checked: bool = False,
) -> Meeting:
    """The identity check passed and the card was handed over (after its number was checked,
    when the order carries one)."""
    if document == IdDocument.other:
        raise InvalidInput(
            "document", N_("The card cannot be handed out without an accepted ID document.")
        )
    meeting = await meeting_to_record(session, admin_id=admin_id, meeting_id=meeting_id, now=now)
    card = await session.get(Card, meeting.card_id)
    assert card is not None
    if card.card_number and not card_number_checked:
        raise InvalidInput(
            "card_number", N_("Check the last four digits printed on the card first.")
        )
    outcome = _Outcome(
        MeetingStatus.handed_out,
        document,
        None,
        {"id_document": document.value, "card_number_checked": card_number_checked},
        card_number_checked=card_number_checked,
    )
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
    failed_check: IdCheck | None = None,
) -> Meeting:
    """No handout: the card goes back to the drawer and the user is asked to book again. When
    a step of the identity check got a «Nej», the meeting and its audit event keep which."""
    audited: dict[str, str | bool] = {"reason": reason.value}
    if failed_check is not None:
        audited["failed_check"] = failed_check.value
    outcome = _Outcome(MeetingStatus.failed, document, reason, audited, failed_check)
    return await _record(
        session, outcome, admin_id=admin_id, meeting_id=meeting_id, tariffs=tariffs, now=now
    )


def _last_four(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())[-4:]


async def check_card_number(
    session: AsyncSession, *, admin_id: int, meeting_id: int, last_four: str, now: datetime
) -> bool:
    """Whether the last four digits typed match the number printed on the meeting's card; a
    mismatch is audited (without the digits), since it may be a card about to go astray."""
    meeting = await meeting_to_record(session, admin_id=admin_id, meeting_id=meeting_id, now=now)
    card = await session.get(Card, meeting.card_id)
    assert card is not None and meeting.id is not None
    if not card.card_number or len(last_four) != 4 or not last_four.isdigit():
        raise InvalidInput("card_number", N_("Type the four last digits, for example 1234."))
    if hmac.compare_digest(_last_four(card.card_number), last_four):
        return True
    await audit.append(
        session,
        actor_role=Role.admin,
        actor_id=admin_id,
        action="card_number.mismatch",
        entity="meeting",
        entity_id=meeting.id,
        data={"card_id": card.id},
        now=now,
    )
    return False


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
