"""Payout lines and statements in the database: load a month, lock it on export, adjust.

The caller owns the transaction. Exporting a month locks it: every admin with lines gets a
statement row and those lines point at it, frozen from then. A month is locked once any of its
statements is. Exporting a locked month again reads the same lines and changes nothing.
A line that turns up later in a locked month (an adjustment made after the lock, or an outcome
recorded just as the month closed) is carried into the next month that is exported.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.cards import Card
from models.errors import InvalidInput, NotFound
from models.i18n import N_
from models.lifecycle import Role
from models.meetings import Meeting
from models.network import Admin, Office
from models.network import Payee as PaidAs
from models.payouts import PayoutKind, PayoutLine, PayoutStatement
from models.types import utcnow
from payout.statements import Line, Statement, month_bounds, month_of, parse_month, statements

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH = 300


@dataclass(frozen=True, slots=True)
class Payee:
    """Who a statement pays, as the exports name them."""

    admin_id: int
    email: str
    name: str
    office_code: str
    office_name: str
    # Salary through frilansfinans, or an invoice from an own company with its org number; None
    # for an administrator whose payee is not set up yet.
    paid_as: PaidAs | None = None
    org_number: str | None = None


@dataclass(frozen=True, slots=True)
class MonthExport:
    """A month's statements with their payees; `locked_at` is empty for an open month."""

    month: str
    statements: tuple[Statement, ...]
    payees: Mapping[int, Payee] = field(default_factory=dict)
    locked_at: Mapping[int, datetime] = field(default_factory=dict)
    newly_locked: int = 0

    @property
    def line_count(self) -> int:
        """How many lines the statements hold."""
        return sum(len(s.lines) for s in self.statements)

    @property
    def total_ore(self) -> int:
        """What the month pays in all, in öre."""
        return sum(s.total_ore for s in self.statements)


_Row = tuple[PayoutLine, str | None, bool | None]


def _line(found: _Row, paid_in: str | None) -> Line:
    row, order_ref, card_number_checked = found
    assert row.id is not None
    return Line(
        id=row.id,
        admin_id=row.admin_id,
        kind=PayoutKind(row.kind),
        amount_ore=row.amount_ore,
        occurred_at=row.occurred_at,
        order_ref=order_ref,
        note=row.note,
        paid_in=paid_in,
        card_number_checked=card_number_checked if row.kind == PayoutKind.handout else None,
    )


async def _line_rows(session: AsyncSession, *conditions: ColumnElement[bool]) -> Sequence[_Row]:
    """Lines with their card's order reference and whether the meeting checked the card's
    number, oldest first."""
    query = (
        select(PayoutLine, Card.order_ref, Meeting.card_number_checked)
        .outerjoin(Card, col(Card.id) == col(PayoutLine.card_id))
        .outerjoin(Meeting, col(Meeting.id) == col(PayoutLine.meeting_id))
        .where(*conditions)
        .order_by(col(PayoutLine.occurred_at), col(PayoutLine.id))
    )
    return (await session.exec(query)).all()


async def _locked_statements(session: AsyncSession, month: str) -> Sequence[PayoutStatement]:
    query = select(PayoutStatement).where(PayoutStatement.month == month)
    return (await session.exec(query.order_by(col(PayoutStatement.admin_id)))).all()


async def _open_lines(session: AsyncSession, month: str) -> list[tuple[PayoutLine, Line]]:
    """Unlocked lines of the month, and late lines of locked earlier months carried into it."""
    _, end = month_bounds(month)
    locked_months = set(
        (
            await session.exec(
                select(PayoutStatement.month).where(col(PayoutStatement.month) < month).distinct()
            )
        ).all()
    )
    rows = await _line_rows(
        session, col(PayoutLine.statement_id).is_(None), col(PayoutLine.occurred_at) < end
    )
    found: list[tuple[PayoutLine, Line]] = []
    for row in rows:
        own = month_of(row[0].occurred_at)
        if own == month:
            found.append((row[0], _line(row, None)))
        elif own in locked_months:
            found.append((row[0], _line(row, month)))
    return found


async def _payees(session: AsyncSession, admin_ids: set[int]) -> dict[int, Payee]:
    rows = (
        await session.exec(
            select(Admin, Office)
            .join(Office, col(Office.id) == col(Admin.office_id))
            .where(col(Admin.id).in_(admin_ids))
        )
    ).all()
    return {
        admin.id: Payee(
            admin.id,
            admin.email,
            admin.name,
            office.code,
            office.name,
            PaidAs(admin.payee) if admin.payee else None,
            admin.org_number,
        )
        for admin, office in rows
        if admin.id is not None
    }


async def _locked_export(
    session: AsyncSession, month: str, locked: Sequence[PayoutStatement]
) -> MonthExport:
    rows = await _line_rows(session, col(PayoutLine.statement_id).in_([s.id for s in locked]))
    built = statements(_line(row, month) for row in rows)
    computed_totals = {s.admin_id: s.total_ore for s in built}
    for stored in locked:
        if computed_totals.get(stored.admin_id) != stored.total_ore:
            # Locked lines are never edited; if they were, the stored total is what was paid.
            logger.error("payout statement %s: lines no longer add up to its total", stored.id)
    payees = await _payees(session, {s.admin_id for s in locked})
    for stored in locked:
        if stored.payee is not None:
            # Paid as the statement was locked, whatever the network file says now.
            payees[stored.admin_id] = replace(
                payees[stored.admin_id], paid_as=PaidAs(stored.payee), org_number=stored.org_number
            )
    return MonthExport(
        month=month,
        statements=tuple(built),
        payees=payees,
        locked_at={s.admin_id: s.locked_at for s in locked},
    )


async def month_statements(session: AsyncSession, *, month: str) -> MonthExport:
    """The month's statements as an export would show them now, without locking anything."""
    month = parse_month(month)
    locked = await _locked_statements(session, month)
    if locked:
        return await _locked_export(session, month, locked)
    built = statements(line for _, line in await _open_lines(session, month))
    return MonthExport(
        month=month,
        statements=tuple(built),
        payees=await _payees(session, {s.admin_id for s in built}),
    )


async def export_month(
    session: AsyncSession, *, month: str, now: datetime | None = None
) -> MonthExport:
    """The month's statements, locked in the caller's transaction (at once, if not already)."""
    month = parse_month(month)
    moment = now or utcnow()
    locked = await _locked_statements(session, month)
    if locked:
        return await _locked_export(session, month, locked)
    found = await _open_lines(session, month)
    built = statements(line for _, line in found)
    rows_by_admin: dict[int, list[PayoutLine]] = {}
    for row, _ in found:
        rows_by_admin.setdefault(row.admin_id, []).append(row)
    locked_at: dict[int, datetime] = {}
    payees = await _payees(session, {s.admin_id for s in built})
    for computed in built:
        payee = payees[computed.admin_id]
        stored = PayoutStatement(
            admin_id=computed.admin_id,
            month=month,
            total_ore=computed.total_ore,
            locked_at=moment,
            payee=payee.paid_as.value if payee.paid_as else None,
            org_number=payee.org_number,
        )
        session.add(stored)
        await session.flush()
        assert stored.id is not None
        for row in rows_by_admin[computed.admin_id]:
            row.statement_id = stored.id
            session.add(row)
        await audit.append(
            session,
            actor_role=Role.operator,
            actor_id=None,
            action="payout.statement_locked",
            entity="payout_statement",
            entity_id=stored.id,
            data={
                "admin_id": computed.admin_id,
                "month": month,
                "lines": len(computed.lines),
                "total_ore": computed.total_ore,
            },
            now=moment,
        )
        locked_at[computed.admin_id] = moment
    await session.flush()
    return MonthExport(
        month=month,
        statements=tuple(built),
        payees=payees,
        locked_at=locked_at,
        newly_locked=len(built),
    )


async def adjust(
    session: AsyncSession,
    *,
    admin_id: int,
    amount_ore: int,
    note: str,
    now: datetime | None = None,
    card_id: int | None = None,
) -> PayoutLine:
    """A correction, positive or negative, dated now: it is paid in the next open statement."""
    moment = now or utcnow()
    reason = note.strip()
    if amount_ore == 0:
        raise InvalidInput("amount_ore", N_("An adjustment needs an amount other than zero."))
    if not reason:
        raise InvalidInput("note", N_("An adjustment needs a note that says why."))
    if len(reason) > NOTE_MAX_LENGTH:
        raise InvalidInput(
            "note", N_("The note is too long (at most {limit} characters)."), limit=NOTE_MAX_LENGTH
        )
    admin = await session.get(Admin, admin_id)
    if admin is None:
        raise NotFound(N_("That administrator was not found."))
    if card_id is not None:
        card = await session.get(Card, card_id)
        if card is None or card.office_id != admin.office_id:
            raise InvalidInput("card_id", N_("That card is not one of the administrator's office."))
    line = PayoutLine(
        admin_id=admin_id,
        card_id=card_id,
        kind=PayoutKind.adjustment,
        amount_ore=amount_ore,
        occurred_at=moment,
        note=reason,
    )
    session.add(line)
    await session.flush()
    assert line.id is not None
    await audit.append(
        session,
        actor_role=Role.operator,
        actor_id=None,
        action="payout.adjusted",
        entity="payout_line",
        entity_id=line.id,
        # The note is free text and may name someone: it stays out of the audit data.
        data={"admin_id": admin_id, "amount_ore": amount_ore, "card_id": card_id},
        now=moment,
    )
    return line
