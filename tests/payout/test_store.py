"""Statements from real meeting outcomes: a month loaded, locked on export, adjusted later."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from kortkontor.wiring import Services
from models import audit
from models.audit import AuditEvent
from models.db import transaction
from models.errors import InvalidInput, NotFound
from models.payouts import PayoutKind, PayoutLine, PayoutStatement
from payout import adjust, export_month, month_statements
from payout.store import MonthExport
from tests.bot.world import World

H, X, A = PayoutKind.handout, PayoutKind.extra_meeting, PayoutKind.adjustment
DECEMBER_2 = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
DECEMBER_5 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
JANUARY_4 = datetime(2027, 1, 4, 7, 0, tzinfo=UTC)


async def export(services: Services, month: str, now: datetime) -> MonthExport:
    async with transaction(services.sessions) as session:
        return await export_month(session, month=month, now=now)


async def preview(services: Services, month: str) -> MonthExport:
    async with services.sessions() as session:
        return await month_statements(session, month=month)


async def all_lines(services: Services) -> list[PayoutLine]:
    async with services.sessions() as session:
        return list((await session.exec(select(PayoutLine).order_by(col(PayoutLine.id)))).all())


async def all_statements(services: Services) -> list[PayoutStatement]:
    async with services.sessions() as session:
        query = select(PayoutStatement).order_by(col(PayoutStatement.id))
        return list((await session.exec(query)).all())


async def add_adjustment(
    services: Services, admin_id: int, amount_ore: int, now: datetime, **extra: int
) -> PayoutLine:
    async with transaction(services.sessions) as session:
        return await adjust(
            session, admin_id=admin_id, amount_ore=amount_ore, note="Rättelse", now=now, **extra
        )


def summary(export: MonthExport) -> list[tuple[int, list[tuple[PayoutKind, int, str | None]], int]]:
    return [
        (
            s.admin_id,
            [(line.kind, line.amount_ore, line.order_ref) for line in s.lines],
            s.total_ore,
        )
        for s in export.statements
    ]


async def test_outcomes_make_statements_in_stockholm_months(
    services: Services, seeded: World
) -> None:
    november = await preview(services, "2026-11")
    assert summary(november) == [(seeded.other_admin_id, [(H, 50_000, "SE-3")], 50_000)]
    december = await preview(services, "2026-12")
    # Ahmed's card went at 23:30 UTC on 30 November: 00:30 on 1 December in Stockholm.
    assert summary(december) == [
        (seeded.admin_id, [(H, 50_000, "SE-2"), (H, 50_000, "SE-1"), (X, 25_000, "SE-1")], 125_000)
    ]
    assert december.statements[0].totals == {H: 100_000, X: 25_000, A: 0}
    assert december.payees[seeded.admin_id].email == "anna@example.se"
    assert december.locked_at == {} and december.newly_locked == 0
    assert await all_statements(services) == []  # looking locks nothing


async def test_export_locks_the_month_once_and_audits_it(services: Services, seeded: World) -> None:
    first = await export(services, "2026-11", DECEMBER_2)
    assert first.newly_locked == 1 and first.locked_at == {seeded.other_admin_id: DECEMBER_2}
    (statement,) = await all_statements(services)
    assert (statement.admin_id, statement.month, statement.total_ore) == (
        seeded.other_admin_id,
        "2026-11",
        50_000,
    )
    lines = await all_lines(services)
    assert [line.statement_id for line in lines] == [statement.id, None, None, None]

    again = await export(services, "2026-11", JANUARY_4)
    assert again.newly_locked == 0
    assert summary(again) == summary(first) and again.locked_at == first.locked_at
    assert await all_statements(services) == [statement]
    assert await all_lines(services) == lines

    async with services.sessions() as session:
        locks = (
            await session.exec(
                select(AuditEvent).where(AuditEvent.action == "payout.statement_locked")
            )
        ).all()
        assert await audit.verify_chain(session) == []
    assert [(e.entity_id, e.data) for e in locks] == [
        (
            statement.id,
            {
                "admin_id": seeded.other_admin_id,
                "month": "2026-11",
                "lines": 1,
                "total_ore": 50_000,
            },
        )
    ]


async def test_a_correction_after_the_lock_goes_into_the_next_statement(
    services: Services, seeded: World
) -> None:
    await export(services, "2026-11", DECEMBER_2)
    locked_before = await all_lines(services)
    await add_adjustment(
        services, seeded.other_admin_id, -25_000, DECEMBER_5, card_id=seeded.cards["lena"]
    )

    november = await export(services, "2026-11", DECEMBER_5)
    assert summary(november) == [(seeded.other_admin_id, [(H, 50_000, "SE-3")], 50_000)]
    december = await export(services, "2026-12", JANUARY_4)
    assert december.newly_locked == 2
    assert summary(december) == [
        (seeded.admin_id, [(H, 50_000, "SE-2"), (H, 50_000, "SE-1"), (X, 25_000, "SE-1")], 125_000),
        (seeded.other_admin_id, [(A, -25_000, "SE-3")], -25_000),
    ]
    after = await all_lines(services)
    assert after[0] == locked_before[0]  # the locked November line, as it was
    assert after[-1].note == "Rättelse" and after[-1].kind == A

    # A correction made once December is locked too lands in January.
    await add_adjustment(services, seeded.admin_id, 25_000, JANUARY_4)
    january = await preview(services, "2027-01")
    assert summary(january) == [(seeded.admin_id, [(A, 25_000, None)], 25_000)]
    assert summary(await export(services, "2026-12", JANUARY_4)) == summary(december)


async def test_a_late_line_in_a_locked_month_is_carried_forward(
    services: Services, seeded: World
) -> None:
    await export(services, "2026-11", DECEMBER_2)
    # An outcome committed just as the export ran, dated in November.
    late_at = datetime(2026, 11, 30, 22, 45, tzinfo=UTC)
    async with transaction(services.sessions) as session:
        session.add(
            PayoutLine(
                admin_id=seeded.other_admin_id, kind=H, amount_ore=50_000, occurred_at=late_at
            )
        )
    assert summary(await export(services, "2026-11", DECEMBER_5))[0][2] == 50_000
    december = await export(services, "2026-12", JANUARY_4)
    bo = next(s for s in december.statements if s.admin_id == seeded.other_admin_id)
    assert [(line.occurred_at, line.paid_in) for line in bo.lines] == [(late_at, "2026-12")]


async def test_a_month_that_was_never_exported_is_not_swept_into_a_later_one(
    services: Services, seeded: World
) -> None:
    december = await export(services, "2026-12", JANUARY_4)
    assert [s.admin_id for s in december.statements] == [seeded.admin_id]
    november = await export(services, "2026-11", JANUARY_4)
    assert summary(november) == [(seeded.other_admin_id, [(H, 50_000, "SE-3")], 50_000)]


async def test_a_month_without_lines_locks_nothing(services: Services, seeded: World) -> None:
    empty = await export(services, "2026-10", DECEMBER_2)
    assert empty.statements == () and empty.line_count == 0 and empty.total_ore == 0
    assert await all_statements(services) == []


@pytest.mark.parametrize(
    ("amount", "note", "field"),
    [(0, "Rättelse", "amount_ore"), (100, "   ", "note"), (100, "x" * 301, "note")],
)
async def test_an_adjustment_needs_an_amount_and_a_reason(
    services: Services, seeded: World, amount: int, note: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        async with transaction(services.sessions) as session:
            await adjust(
                session, admin_id=seeded.admin_id, amount_ore=amount, note=note, now=DECEMBER_5
            )
    assert raised.value.field == field


async def test_an_adjustment_is_for_an_existing_admin_and_their_office_s_card(
    services: Services, seeded: World
) -> None:
    with pytest.raises(NotFound):
        await add_adjustment(services, 9999, 100, DECEMBER_5)
    with pytest.raises(InvalidInput) as raised:
        await add_adjustment(
            services, seeded.admin_id, 100, DECEMBER_5, card_id=seeded.cards["lena"]
        )
    assert raised.value.field == "card_id"
    line = await add_adjustment(services, seeded.admin_id, 100, DECEMBER_5)
    async with services.sessions() as session:
        event = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "payout.adjusted"))
        ).one()
    assert event.entity_id == line.id
    assert event.data == {"admin_id": seeded.admin_id, "amount_ore": 100, "card_id": None}
