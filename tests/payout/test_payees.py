"""Payees in the payout exports: salary through frilansfinans or an invoice basis for an own
company, kept apart in the CSV; amounts right to the öre, CSV and PDF agreeing, over random
months (hypothesis) and over a hand-computed December of real meetings."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel.ext.asyncio.session import AsyncSession

from kortkontor.wiring import Services
from models.db import transaction
from models.network import Payee as PaidAs
from models.network import get_admin_by_email
from models.network_file import read_network_toml, upsert_network
from models.payouts import PayoutKind, PayoutLine
from payout import adjust, export_month
from payout.export_csv import render_csv
from payout.export_pdf import render_pdf
from payout.statements import Line, month_bounds, statements
from payout.store import MonthExport, Payee
from tests.bot.world import WEEKDAY_EVENINGS, World
from tests.factories import eligibility_toml, network_toml
from tests.kortkontor.cli_helpers import query, run_cli, write
from tests.payout.helpers import pdf_texts

JANUARY_4 = datetime(2027, 1, 4, 7, 0, tzinfo=UTC)
ORG_NUMBER = "556016-0680"
TITLES = ("Ersättning", "Fakturaunderlag")


def ore(amount: str) -> int:
    """Öre from «1 000,00 kr» (the PDF) or «1000.00» (the CSV); never a fraction of an öre."""
    cleaned = amount.replace("kr", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    value = Decimal(cleaned) * 100
    assert value == value.to_integral_value(), f"{amount} is not whole öre"
    return int(value)


def csv_rows(export: MonthExport) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(render_csv(export).decode("utf-8"))))


def pdf_pages(export: MonthExport) -> list[list[str]]:
    """The PDF's texts, one list per admin (from one title to the next)."""
    texts = pdf_texts(render_pdf(export, unicode_font=None, compress=False))
    pages: list[list[str]] = []
    for text in texts:
        if text.startswith(TITLES) and text.endswith("2026"):
            pages.append([])
        pages[-1].append(text)
    return pages


def amounts(page: list[str]) -> list[int]:
    return [ore(text) for text in page if text.replace("\xa0", " ").endswith(" kr")]


# -- a hand-computed December ------------------------------------------------------------------


async def bo_invoices(services: Services) -> None:
    """Bo (GBG1) runs an own company, as the network file now says."""
    network = network_toml(
        code="GBG1",
        email="bo@example.se",
        windows=WEEKDAY_EVENINGS,
        absences="[]",
        eligibility=eligibility_toml(payee=f'payee = "company"\norg_number = "{ORG_NUMBER}"'),
    )
    async with transaction(services.sessions) as session:
        await upsert_network(session, read_network_toml(network))


async def test_december_keeps_salary_and_invoice_apart(services: Services, seeded: World) -> None:
    """Anna (frilansfinans): two handouts and an extra meeting, 1 250 kr gross. Bo (company):
    Lena's handout at 23:30 on 30 November is November's; a 99,99 kr correction in December."""
    await bo_invoices(services)
    async with transaction(services.sessions) as session:
        await adjust(
            session,
            admin_id=seeded.other_admin_id,
            amount_ore=9_999,
            note="Resa",
            now=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
        )
        export = await export_month(session, month="2026-12", now=JANUARY_4)
    rows = csv_rows(export)
    assert [
        (r["admin_email"], r["kind"], r["amount_sek"], r["payee"], r["org_number"]) for r in rows
    ] == [
        ("anna@example.se", "handout", "500.00", "frilansfinans", ""),
        ("anna@example.se", "handout", "500.00", "frilansfinans", ""),
        ("anna@example.se", "extra_meeting", "250.00", "frilansfinans", ""),
        ("bo@example.se", "adjustment", "99.99", "company", ORG_NUMBER),
    ]
    anna, bo = pdf_pages(export)
    assert anna[0] == "Ersättning december 2026"
    assert (
        "Betalas ut som lön via Frilans Finans: beloppen är brutto och inkluderar "
        "semesterersättning."
    ) in anna
    assert "Att betala" in anna and "Organisationsnummer: 556016-0680" not in anna
    assert amounts(anna)[-1] == 125_000
    assert bo[0] == "Fakturaunderlag december 2026"
    assert "Organisationsnummer: 556016-0680" in bo
    assert "Godkänd för F-skatt." in bo
    assert "Period: 2026-12-01 till 2026-12-31" in bo
    assert "Att fakturera" in bo and "Att betala" not in bo
    assert amounts(bo) == [9_999, 9_999, 9_999]  # the line, the adjustments, the total


async def test_a_locked_month_keeps_the_payee_it_was_paid_as(
    services: Services, seeded: World
) -> None:
    """Bo invoiced December as a company; switching him to salary later changes January on,
    never the locked December."""
    await bo_invoices(services)
    async with transaction(services.sessions) as session:
        await adjust(
            session,
            admin_id=seeded.other_admin_id,
            amount_ore=10_000,
            note="Resa",
            now=datetime(2026, 12, 7, 9, 0, tzinfo=UTC),
        )
        await export_month(session, month="2026-12", now=JANUARY_4)
    salary = network_toml(
        code="GBG1", email="bo@example.se", windows=WEEKDAY_EVENINGS, absences="[]"
    )
    async with transaction(services.sessions) as session:
        await upsert_network(session, read_network_toml(salary))
        again = await export_month(session, month="2026-12", now=JANUARY_4)
    assert again.payees[seeded.other_admin_id].paid_as == PaidAs.company
    assert again.payees[seeded.other_admin_id].org_number == ORG_NUMBER
    assert {r["payee"] for r in csv_rows(again) if r["admin_email"] == "bo@example.se"} == {
        "company"
    }
    assert pdf_pages(again)[1][0] == "Fakturaunderlag december 2026"


# -- random months -----------------------------------------------------------------------------

MONTH = "2026-03"  # DST begins on its last Sunday
START, END = month_bounds(MONTH)
TARIFF = {PayoutKind.handout: 50_000, PayoutKind.extra_meeting: 25_000}


@st.composite
def months(draw: st.DrawFn) -> MonthExport:
    """A month of outcomes for one to four admins, each paid one way or the other."""
    admins = draw(st.integers(min_value=1, max_value=4))
    lines: list[Line] = []
    payees: dict[int, Payee] = {}
    for admin_id in range(1, admins + 1):
        paid_as = draw(st.sampled_from([PaidAs.frilansfinans, PaidAs.company, None]))
        payees[admin_id] = Payee(
            admin_id,
            f"admin{admin_id}@example.se",
            f"Admin {admin_id}",
            "UPS1",
            "Uppsala centrum",
            paid_as,
            ORG_NUMBER if paid_as == PaidAs.company else None,
        )
        for _ in range(draw(st.integers(min_value=1, max_value=12))):
            kind = draw(st.sampled_from(list(PayoutKind)))
            amount = TARIFF.get(kind) or draw(
                st.integers(min_value=-200_000, max_value=200_000).filter(bool)
            )
            seconds = draw(
                st.integers(min_value=0, max_value=int((END - START).total_seconds()) - 1)
            )
            lines.append(
                Line(
                    id=len(lines) + 1,
                    admin_id=admin_id,
                    kind=kind,
                    amount_ore=amount,
                    occurred_at=START + timedelta(seconds=seconds),
                    order_ref=f"SE-{len(lines) + 1}" if kind != PayoutKind.adjustment else None,
                    note="Rättelse" if kind == PayoutKind.adjustment else None,
                )
            )
    return MonthExport(MONTH, tuple(statements(lines)), payees)


@settings(max_examples=50, deadline=None)
@given(months())
def test_totals_are_the_sum_of_the_lines_in_csv_and_pdf_alike(export: MonthExport) -> None:
    rows = csv_rows(export)
    order = {PaidAs.frilansfinans.value: 0, PaidAs.company.value: 1, "": 2}
    assert [order[r["payee"]] for r in rows] == sorted(order[r["payee"]] for r in rows)
    pages = pdf_pages(export)
    by_admin = sorted(export.statements, key=lambda s: s.admin_id)
    assert len(pages) == len(by_admin)
    for index, statement in enumerate(by_admin):
        payee = export.payees[statement.admin_id]
        lines = [line.amount_ore for line in statement.lines]
        assert all(isinstance(amount, int) for amount in lines)
        assert statement.total_ore == sum(lines)
        own = [r for r in rows if int(r["admin_id"]) == statement.admin_id]
        assert [ore(r["amount_sek"]) for r in own] == lines
        assert {(r["payee"], r["org_number"]) for r in own} == {
            (payee.paid_as.value if payee.paid_as else "", payee.org_number or "")
        }
        shown = amounts(pages[index])
        # The lines, then a sum per kind present, then the total.
        assert shown[: len(lines)] == lines
        assert sum(shown[len(lines) : -1]) == shown[-1] == statement.total_ore
        invoice = pages[index][0].startswith("Fakturaunderlag")
        assert invoice == (payee.paid_as == PaidAs.company)


# -- the command line --------------------------------------------------------------------------


def test_the_cli_export_counts_the_payees_and_keeps_them_apart(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bo (GBG1) invoices as a company; Anna (UPS1) is paid salary. Bo's line comes last."""
    company = eligibility_toml(payee=f'payee = "company"\norg_number = "{ORG_NUMBER}"')
    network = network_toml(code="GBG1", email="bo@example.se", eligibility=company)
    network += network_toml()
    assert run_cli(capsys, "network", "load", str(write(tmp_path, "n.toml", network)))[0] == 0

    async def seed(session: AsyncSession) -> tuple[int, int]:
        anna = await get_admin_by_email(session, email="anna@example.se")
        bo = await get_admin_by_email(session, email="bo@example.se")
        assert anna and anna.id and bo and bo.id
        for admin_id, amount in ((bo.id, 12_345), (anna.id, -5)):
            session.add(
                PayoutLine(
                    admin_id=admin_id,
                    kind=PayoutKind.adjustment,
                    amount_ore=amount,
                    occurred_at=datetime(2026, 10, 5, 12, tzinfo=UTC),
                    note="Rättelse",
                )
            )
        return anna.id, bo.id

    anna, bo = query(env, seed)
    out = tmp_path / "payout.csv"
    code, stdout, stderr = run_cli(
        capsys, "payout", "export", "--month", "2026-10", "--format", "csv", "--out", str(out)
    )
    assert (code, stderr) == (0, "")
    assert (
        "Betalningsmottagare: 1 får lön via Frilans Finans, 1 fakturerar som företag, "
        "0 saknar betalningssätt."
    ) in stdout
    assert out.read_text(encoding="utf-8") == (
        "admin_id,admin_email,date,order_ref,kind,amount_sek,card_number_checked,payee,org_number\n"
        f"{anna},anna@example.se,2026-10-05,,adjustment,-0.05,,frilansfinans,\n"
        f"{bo},bo@example.se,2026-10-05,,adjustment,123.45,,company,{ORG_NUMBER}\n"
    )
