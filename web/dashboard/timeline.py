"""A card's audit events told in Swedish words: pure functions over the stored events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.audit import AuditEvent
from models.i18n import N_
from models.lifecycle import Role
from models.meetings import FailureReason, IdDocument
from scheduler.wording import FAILURE_LABELS, ID_DOCUMENT_NAMES, format_slot_time
from web.dashboard.texts import LOCALE, card_status_name, meeting_status_name, tr

ROLE_NAMES = {
    Role.operator: N_("Operator"),
    Role.admin: N_("ID administrator"),
    Role.card_user: N_("Card user"),
    Role.system: N_("System"),
}


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of the timeline: when, who and what."""

    seq: int
    occurred_at: datetime
    who: str
    what: str


def _when(raw: object) -> str:
    try:
        return format_slot_time(datetime.fromisoformat(str(raw)), LOCALE)
    except ValueError:
        return str(raw)


def _meeting_details(data: Mapping[str, Any]) -> list[str]:
    """The extras a meeting's status change carries: reason, document, how it came about."""
    details = []
    if data.get("reason") in set(FailureReason):
        details.append(
            tr(N_("Reason: {reason}.")).format(
                reason=tr(FAILURE_LABELS[FailureReason(data["reason"])])
            )
        )
    if data.get("id_document") in set(IdDocument):
        details.append(
            tr(N_("ID document: {document}.")).format(
                document=tr(ID_DOCUMENT_NAMES[IdDocument(data["id_document"])])
            )
        )
    if data.get("moved"):
        details.append(tr(N_("The card user moved the meeting to another time.")))
    if data.get("moved_to"):
        details.append(
            tr(N_("The administrator confirmed its move to meeting {meeting}.")).format(
                meeting=data["moved_to"]
            )
        )
    if data.get("outcome_of"):
        details.append(
            tr(
                N_("The move was withdrawn when the outcome of meeting {meeting} was recorded.")
            ).format(meeting=data["outcome_of"])
        )
    if data.get("auto_confirm"):
        details.append(tr(N_("Confirmed automatically.")))
    if data.get("proposed_by_admin"):
        details.append(tr(N_("The administrator had proposed the time.")))
    return details


def describe(action: str, entity_id: int, data: Mapping[str, Any]) -> str:
    """What an audit event on a card or one of its meetings means, in Swedish."""
    if action == "card.imported":
        return tr(N_("Order imported as «{status}».")).format(
            status=card_status_name(str(data.get("status", "")))
        )
    if action == "card.updated":
        return tr(N_("Order updated."))
    if action == "card.status":
        text = tr(N_("Card: {before} → {after}.")).format(
            before=card_status_name(str(data.get("from", ""))),
            after=card_status_name(str(data.get("to", ""))),
        )
        if data.get("via") == "cli":
            text += " " + tr(N_("Changed on the command line."))
        return text
    if action == "meeting.requested":
        text = tr(N_("Meeting {meeting} requested for {when}.")).format(
            meeting=entity_id, when=_when(data.get("starts_at"))
        )
        if data.get("replaces"):
            text += " " + tr(N_("It is to replace meeting {meeting} once confirmed.")).format(
                meeting=data["replaces"]
            )
        return text
    if action == "meeting.status":
        text = tr(N_("Meeting {meeting}: {before} → {after}.")).format(
            meeting=entity_id,
            before=meeting_status_name(str(data.get("from", ""))),
            after=meeting_status_name(str(data.get("to", ""))),
        )
        return " ".join([text, *_meeting_details(data)])
    if action == "meeting.attendance_confirmed":
        answered = N_("Meeting {meeting}: the card user answered the reminder that they come.")
        return tr(answered).format(meeting=entity_id)
    if action == "personnummer.viewed":
        viewed = N_("The administrator viewed the full personnummer at meeting {meeting}.")
        return tr(viewed).format(meeting=entity_id)
    return tr(N_("Event «{action}».")).format(action=action)


def actor(role: str, actor_id: int | None, admin_names: Mapping[int, str]) -> str:
    """Who acted: the role in Swedish, and the administrator's name when it is one."""
    try:
        name = tr(ROLE_NAMES[Role(role)])
    except ValueError:
        return role
    if role == Role.admin and actor_id is not None and actor_id in admin_names:
        return f"{name} {admin_names[actor_id]}"
    return name


def timeline(events: Iterable[AuditEvent], admin_names: Mapping[int, str]) -> list[TimelineEntry]:
    """The events in the order they were recorded, told in words."""
    return [
        TimelineEntry(
            seq=event.seq,
            occurred_at=event.occurred_at,
            who=actor(event.actor_role, event.actor_id, admin_names),
            what=describe(event.action, event.entity_id, event.data),
        )
        for event in sorted(events, key=lambda event: event.seq)
    ]
