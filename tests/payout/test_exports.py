"""The payroll CSV and the admins' PDF, from a locked month of real meeting outcomes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from kortkontor.wiring import Services
from models.db import transaction
from payout import adjust, export_month
from payout.export_csv import render_csv
from payout.export_pdf import DEJAVU, render_pdf
from payout.store import MonthExport
from tests.bot.world import World
from tests.factories import ALL_TEST_PERSONNUMMER
from tests.payout.helpers import page_count, pdf_texts

JANUARY_4 = datetime(2027, 1, 4, 7, 0, tzinfo=UTC)
CARD_USERS = ("Maria", "Ahmed", "Lena")


@pytest.fixture
async def december(services: Services, seeded: World) -> MonthExport:
    """December 2026 locked, with a deduction for Bo."""
    async with transaction(services.sessions) as session:
        await adjust(
            session,
            admin_id=seeded.other_admin_id,
            amount_ore=-25_000,
            note="Dubbelbetalning – november",
            now=datetime(2026, 12, 5, 10, 0, tzinfo=UTC),
        )
        return await export_month(session, month="2026-12", now=JANUARY_4)


def test_csv_has_one_row_per_line_and_nothing_personal(
    december: MonthExport, seeded: World
) -> None:
    text = render_csv(december).decode("utf-8")
    anna, bo = seeded.admin_id, seeded.other_admin_id
    assert text == (
        "admin_id,admin_email,date,order_ref,kind,amount_sek,card_number_checked,payee,org_number\n"
        f"{anna},anna@example.se,2026-12-01,SE-2,handout,500.00,no,frilansfinans,\n"
        f"{anna},anna@example.se,2026-12-01,SE-1,handout,500.00,no,frilansfinans,\n"
        f"{anna},anna@example.se,2026-12-01,SE-1,extra_meeting,250.00,,frilansfinans,\n"
        f"{bo},bo@example.se,2026-12-05,,adjustment,-250.00,,frilansfinans,\n"
    )
    assert not any(number in text for number in ALL_TEST_PERSONNUMMER)
    assert not any(name in text for name in CARD_USERS)


def test_csv_of_an_empty_month_is_the_header_alone() -> None:
    assert render_csv(MonthExport("2026-10", ())) == (
        b"admin_id,admin_email,date,order_ref,kind,amount_sek,card_number_checked,payee,org_number\n"
    )


def test_pdf_is_a_swedish_statement_per_admin(december: MonthExport) -> None:
    # Uncompressed and in the core font, so that the text can be read back with a regex.
    pdf = render_pdf(december, unicode_font=None, compress=False)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert page_count(pdf) == 2
    texts = pdf_texts(pdf)
    assert texts.count("Ersättning december 2026") == 2
    assert "Kontor: Uppsala centrum (UPS1)" in texts
    assert "ID-administratör: Anna Andersson" in texts
    assert "E-post: bo@example.se" in texts
    assert "Låst: 4 januari 2027 kl. 08:00" in texts
    for heading in ("Datum", "Orderreferens", "Typ", "Anteckning", "Belopp", "Antal"):
        assert heading in texts
    assert {"Utlämning", "Extra möte", "Justering"} <= set(texts)
    assert {"SE-1", "SE-2", "2026-12-01", "2026-12-05"} <= set(texts)
    assert "Dubbelbetalning - november" in texts  # the en dash, as the core font can set it
    # The seeded orders carry no card number: each handout says it was not checked.
    assert texts.count("kortnummer ej kontrollerat") == 2
    assert "Att betala" in texts
    # Babel separates with no-break spaces; fpdf2 sets them as plain ones in a core font.
    amounts = [t.replace("\xa0", " ") for t in texts if t.replace("\xa0", " ").endswith(" kr")]
    assert amounts == [
        "500,00 kr",
        "500,00 kr",
        "250,00 kr",
        "1 000,00 kr",  # handouts
        "250,00 kr",  # extra meetings
        "1 250,00 kr",  # Anna's total
        "-250,00 kr",
        "-250,00 kr",
        "-250,00 kr",  # Bo's total
    ]
    joined = "\n".join(texts)
    assert not any(number in joined for number in ALL_TEST_PERSONNUMMER)
    assert not any(name in joined for name in CARD_USERS)


def test_pdf_is_the_same_file_every_time(december: MonthExport) -> None:
    first = render_pdf(december)
    assert first.startswith(b"%PDF-") and page_count(first) == 2
    assert render_pdf(december) == first


@pytest.mark.skipif(not DEJAVU.is_file(), reason=f"{DEJAVU} is not installed")
def test_pdf_embeds_the_unicode_font_when_the_system_has_it(december: MonthExport) -> None:
    assert b"DejaVu" in render_pdf(december)


def test_pdf_falls_back_to_the_core_font(december: MonthExport, tmp_path: Path) -> None:
    pdf = render_pdf(december, unicode_font=tmp_path / "missing.ttf")
    assert b"/BaseFont /Helvetica" in pdf and b"DejaVu" not in pdf


def test_pdf_of_an_empty_month_says_there_is_nothing() -> None:
    pdf = render_pdf(MonthExport("2026-10", ()), unicode_font=None, compress=False)
    assert page_count(pdf) == 1
    assert pdf_texts(pdf) == [
        "Ersättning oktober 2026",
        "Det finns inga ersättningar för den här månaden.",
    ]
