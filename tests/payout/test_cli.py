"""`kortkontor payout export`: exit codes, Swedish messages, files, and the lock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cards import get_card_by_order_ref
from models.network import get_admin_by_email
from models.payouts import PayoutKind, PayoutLine, PayoutStatement
from models.types import utcnow
from payout.statements import month_of
from tests.factories import csv_row, network_toml, orders_csv
from tests.kortkontor.cli_helpers import query, run_cli, write
from tests.payout.helpers import page_count

HEADER = (
    "admin_id,admin_email,date,order_ref,kind,amount_sek,card_number_checked,payee,org_number\n"
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def october(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, int]:
    """Anna (UPS1) and Bo (GBG1) with payout lines around the end of October 2026."""
    network = network_toml() + network_toml(code="GBG1", email="bo@example.se")
    cards = orders_csv(
        csv_row(),
        csv_row(order_ref="SE-2", office_code="GBG1", personnummer="920505-2344", email="a@b.se"),
    )
    assert run_cli(capsys, "network", "load", str(write(tmp_path, "n.toml", network)))[0] == 0
    assert run_cli(capsys, "cards", "import", str(write(tmp_path, "c.csv", cards)))[0] == 0

    async def seed(session: AsyncSession) -> tuple[int, int]:
        anna = await get_admin_by_email(session, email="anna@example.se")
        bo = await get_admin_by_email(session, email="bo@example.se")
        se1 = await get_card_by_order_ref(session, order_ref="SE-1")
        se2 = await get_card_by_order_ref(session, order_ref="SE-2")
        assert anna and anna.id and bo and bo.id and se1 and se2
        for admin_id, card_id, kind, amount, at in (
            (anna.id, se1.id, PayoutKind.handout, 50_000, utc(2026, 10, 5, 14)),
            (anna.id, se1.id, PayoutKind.extra_meeting, 25_000, utc(2026, 10, 5, 14)),
            (bo.id, se2.id, PayoutKind.handout, 50_000, utc(2026, 10, 31, 22, 30)),  # 23:30 CET
            (bo.id, None, PayoutKind.adjustment, -10_000, utc(2026, 10, 31, 23, 30)),  # November
        ):
            session.add(
                PayoutLine(
                    admin_id=admin_id, card_id=card_id, kind=kind, amount_ore=amount, occurred_at=at
                )
            )
        return anna.id, bo.id

    return query(env, seed)


def statement_count(database_url: str) -> int:
    async def count(session: AsyncSession) -> int:
        return (await session.exec(select(func.count(col(PayoutStatement.id))))).one()

    return query(database_url, count)


def test_export_locks_the_month_and_writes_the_payroll_csv(
    env: str, october: tuple[int, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anna, bo = october
    out = tmp_path / "oktober.csv"
    code, said, _ = run_cli(
        capsys, "payout", "export", "--month", "2026-10", "--format", "csv", "--out", str(out)
    )
    assert code == 0
    assert (
        "Ersättning 2026-10: 2 ID-administratör(er), 3 rad(er), totalt 1\xa0250,00\xa0kr." in said
    )
    assert "2 sammanställning(ar) låstes nu." in said
    assert f"Skrevs till {out}." in said
    assert out.read_text(encoding="utf-8") == (
        HEADER
        + f"{anna},anna@example.se,2026-10-05,SE-1,handout,500.00,,frilansfinans,\n"
        + f"{anna},anna@example.se,2026-10-05,SE-1,extra_meeting,250.00,,frilansfinans,\n"
        + f"{bo},bo@example.se,2026-10-31,SE-2,handout,500.00,,frilansfinans,\n"
    )
    assert statement_count(env) == 2

    # Again, as CSV and as PDF: the same statements, nothing changed.
    again = tmp_path / "igen.csv"
    code, said, _ = run_cli(
        capsys, "payout", "export", "--month", "2026-10", "--format", "CSV", "--out", str(again)
    )
    assert code == 0 and "Månaden var redan låst" in said
    assert again.read_bytes() == out.read_bytes()
    pdf = tmp_path / "oktober.pdf"
    code, said, _ = run_cli(
        capsys, "payout", "export", "--month", "2026-10", "--format", "pdf", "--out", str(pdf)
    )
    assert code == 0 and "3 rad(er)" in said
    assert pdf.read_bytes().startswith(b"%PDF-") and page_count(pdf.read_bytes()) == 2
    assert statement_count(env) == 2
    assert run_cli(capsys, "audit", "verify")[0] == 0

    # Bo's November deduction was left open for November.
    november = tmp_path / "november.csv"
    code, said, _ = run_cli(
        capsys, "payout", "export", "--month", "2026-11", "--format", "csv", "--out", str(november)
    )
    assert code == 0 and "totalt -100,00\xa0kr" in said
    assert november.read_text(encoding="utf-8") == (
        HEADER + f"{bo},bo@example.se,2026-11-01,,adjustment,-100.00,,frilansfinans,\n"
    )


@pytest.mark.parametrize("form", ["csv", "pdf"])
def test_a_month_without_lines_gives_an_empty_file(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    out = tmp_path / f"tom.{form}"
    code, said, _ = run_cli(
        capsys, "payout", "export", "--month", "2026-09", "--format", form, "--out", str(out)
    )
    assert code == 0
    assert "0 ID-administratör(er), 0 rad(er), totalt 0,00\xa0kr" in said
    assert "Det finns inga ersättningsrader för 2026-09: ingenting låstes." in said
    if form == "csv":
        assert out.read_text(encoding="utf-8") == HEADER
    else:
        assert out.read_bytes().startswith(b"%PDF-") and page_count(out.read_bytes()) == 1


def test_the_running_month_is_exported_with_a_warning(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    month = month_of(utcnow())
    out = tmp_path / "nu.csv"
    code, said, _ = run_cli(
        capsys, "payout", "export", "--month", month, "--format", "csv", "--out", str(out)
    )
    assert code == 0 and f"{month} är inte slut än" in said


@pytest.mark.parametrize(
    ("month", "form", "out", "field", "named"),
    [
        ("2026-13", "csv", "ok.csv", "--month", "«2026-13» är inte en månad"),
        ("oktober", "csv", "ok.csv", "--month", "ÅÅÅÅ-MM"),
        ("2026-10", "xlsx", "ok.csv", "--format", "okänt format «xlsx»"),
        ("2026-10", "csv", "saknas/ok.csv", "--out", "mappen finns inte"),
    ],
)
def test_bad_input_exits_2_naming_the_field_and_writes_nothing(
    october: tuple[int, int],
    env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    month: str,
    form: str,
    out: str,
    field: str,
    named: str,
) -> None:
    target = tmp_path / out
    code, said, err = run_cli(
        capsys, "payout", "export", "--month", month, "--format", form, "--out", str(target)
    )
    assert code == 2 and said == ""
    assert err.startswith(f"{field}: ") and named in err
    assert not target.exists()
    assert statement_count(env) == 0


def test_a_file_that_cannot_be_written_leaves_the_month_open(
    october: tuple[int, int], env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        capsys, "payout", "export", "--month", "2026-10", "--format", "csv", "--out", str(tmp_path)
    )
    assert code == 2 and "filen kan inte skrivas" in err
    assert statement_count(env) == 0
