"""What happened at a meeting: the card handed out after the identity check, or not, and why.
Each outcome records what the admin is paid: a handout, and an extra meeting when the meeting
was needed because an earlier one failed through no fault of the admin."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.cards import Card, CardStatus, CardUser
from models.crypto import PersonnummerVault
from models.errors import DomainError, Forbidden, InvalidInput
from models.i18n import N_
from models.lifecycle import Role, transition_card, transition_meeting
from models.meetings import (
    FailureReason,
    IdDocument,
    Meeting,
    MeetingStatus,
)
from models.payouts import PayoutKind, PayoutLine, Tariffs
from scheduler import notifications
from scheduler.booking import drop_pending_move, meeting_for_actor
from scheduler.slots import STOCKHOLM


class TooEarly(DomainError):
    """Outcomes are recorded from the start of the meeting's day."""

    code = "too_early"


def _day(moment: datetime) -> date:
    return moment.astimezone(STOCKHOLM).date()


async def meeting_to_record(
    session: AsyncSession, *, admin_id: int, meeting_id: int, now: datetime
) -> Meeting:
    """A confirmed meeting of the admin's office whose day has come."""
    meeting = await meeting_for_actor(
        session, meeting_id=meeting_id, role=Role.admin, actor_id=admin_id
    )
    if meeting.status != MeetingStatus.confirmed:
        raise DomainError(N_("That meeting is not waiting for an outcome."))
    if _day(now) < _day(meeting.starts_at):
        raise TooEarly(N_("The outcome can be recorded from the day of the meeting."))
    return meeting


def _line(meeting: Meeting, kind: PayoutKind, amount: int, now: datetime) -> PayoutLine:
    return PayoutLine(
        admin_id=meeting.admin_id,
        meeting_id=meeting.id,
        card_id=meeting.card_id,
        kind=kind,
        amount_ore=amount,
        occurred_at=now,
    )


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
    meeting = await meeting_to_record(session, admin_id=admin_id, meeting_id=meeting_id, now=now)
    meeting.id_document = document
    await transition_meeting(
        session,
        meeting,
        MeetingStatus.handed_out,
        role=Role.admin,
        actor_id=admin_id,
        data={"id_document": document.value},
        now=now,
    )
    await drop_pending_move(session, meeting, now=now)
    card = await session.get(Card, meeting.card_id)
    assert card is not None
    await transition_card(
        session, card, CardStatus.handed_out, role=Role.admin, actor_id=admin_id, now=now
    )
    session.add(_line(meeting, PayoutKind.handout, tariffs.handout_ore, now))
    if meeting.is_extra:
        session.add(_line(meeting, PayoutKind.extra_meeting, tariffs.extra_meeting_ore, now))
    await notifications.outcome_recorded(session, meeting, now=now)
    return meeting


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
    meeting = await meeting_to_record(session, admin_id=admin_id, meeting_id=meeting_id, now=now)
    meeting.failure_reason = reason
    meeting.id_document = document
    await transition_meeting(
        session,
        meeting,
        MeetingStatus.failed,
        role=Role.admin,
        actor_id=admin_id,
        data={"reason": reason.value},
        now=now,
    )
    await drop_pending_move(session, meeting, now=now)
    card = await session.get(Card, meeting.card_id)
    assert card is not None
    await transition_card(
        session, card, CardStatus.in_custody, role=Role.admin, actor_id=admin_id, now=now
    )
    # An extra meeting that took place is paid, whatever its outcome; a no-show is not a meeting.
    if meeting.is_extra and reason != FailureReason.no_show:
        session.add(_line(meeting, PayoutKind.extra_meeting, tariffs.extra_meeting_ore, now))
    await notifications.outcome_recorded(session, meeting, now=now)
    return meeting


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
    if meeting.admin_id != admin_id or _day(now) != _day(meeting.starts_at):
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
