"""The issuer's monthly report from the database: read the rows, compute, audit the export.

The caller owns the transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.audit import AuditEvent
from models.cards import Card, CardStatus
from models.lifecycle import Role
from models.meetings import FailureReason, Meeting, MeetingStatus
from models.network import Office
from models.payouts import PayoutKind, PayoutLine
from payout.report import MeetingRow, MonthReport, OfficeRow, PaidLine, StatusChange, month_report
from payout.statements import month_bounds, parse_month

TAKEN_PLACE = (MeetingStatus.handed_out, MeetingStatus.failed)


async def _offices(session: AsyncSession) -> list[OfficeRow]:
    rows = (await session.exec(select(Office))).all()
    return [OfficeRow(office.id, office.code, office.name) for office in rows if office.id]


async def _meetings(session: AsyncSession, start: datetime, end: datetime) -> list[MeetingRow]:
    query = (
        select(Meeting, Card.office_id)
        .join(Card, col(Card.id) == col(Meeting.card_id))
        .where(
            col(Meeting.status).in_(TAKEN_PLACE),
            col(Meeting.closed_at) >= start,
            col(Meeting.closed_at) < end,
        )
    )
    return [
        MeetingRow(
            office_id=office_id,
            status=MeetingStatus(meeting.status),
            closed_at=meeting.closed_at,
            failure_reason=FailureReason(meeting.failure_reason)
            if meeting.failure_reason
            else None,
            attendance_confirmed_at=meeting.attendance_confirmed_at,
        )
        for meeting, office_id in (await session.exec(query)).all()
    ]


async def _changes(session: AsyncSession, end: datetime) -> list[StatusChange]:
    """Every card's audited status changes before `end`, in the order they were made."""
    query = (
        select(AuditEvent, Card.office_id, Card.order_ref)
        .join(Card, col(Card.id) == col(AuditEvent.entity_id))
        .where(
            AuditEvent.entity == "card",
            AuditEvent.action == "card.status",
            col(AuditEvent.occurred_at) < end,
        )
        .order_by(col(AuditEvent.seq))
    )
    return [
        StatusChange(
            card_id=event.entity_id,
            office_id=office_id,
            order_ref=order_ref,
            occurred_at=event.occurred_at,
            from_status=CardStatus(event.data["from"]),
            to_status=CardStatus(event.data["to"]),
        )
        for event, office_id, order_ref in (await session.exec(query)).all()
    ]


async def _lines(session: AsyncSession, start: datetime, end: datetime) -> list[PaidLine]:
    query = (
        select(PayoutLine, Card.office_id)
        .join(Card, col(Card.id) == col(PayoutLine.card_id))
        .where(
            PayoutLine.kind == PayoutKind.extra_meeting,
            col(PayoutLine.occurred_at) >= start,
            col(PayoutLine.occurred_at) < end,
        )
    )
    return [
        PaidLine(office_id, PayoutKind(line.kind), line.occurred_at)
        for line, office_id in (await session.exec(query)).all()
    ]


async def load_report(session: AsyncSession, *, month: str, now: datetime) -> MonthReport:
    """The month's report as the database holds it now."""
    month = parse_month(month)
    start, end = month_bounds(month)
    return month_report(
        month,
        offices=await _offices(session),
        meetings=await _meetings(session, start, end),
        changes=await _changes(session, end),
        lines=await _lines(session, start, end),
        now=now,
    )


async def record_export(
    session: AsyncSession,
    report: MonthReport,
    *,
    file_format: str,
    actor_role: Role,
    actor_id: int | None,
    now: datetime,
) -> None:
    """Audit that the report left the service, like a payout export: who, which month, how."""
    year, number = (int(part) for part in report.month.split("-"))
    await audit.append(
        session,
        actor_role=actor_role,
        actor_id=actor_id,
        action="report.exported",
        entity="report",
        # The month as a number (202612): an audit event names its entity by an integer.
        entity_id=year * 100 + number,
        data={"month": report.month, "format": file_format, "offices": len(report.offices)},
        now=now,
    )
