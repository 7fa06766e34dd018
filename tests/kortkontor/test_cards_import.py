"""`kortkontor cards import`: validation, all-or-nothing, re-import."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, func, select

from models.audit import AuditEvent
from models.cards import Card, CardStatus, CardUser
from tests.factories import PERSONNUMMER, csv_row, network_toml, orders_csv
from tests.kortkontor.cli_helpers import query, run_cli, write


@pytest.fixture
def network(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A loaded one-office network (UPS1)."""
    code, _, err = run_cli(
        capsys, "network", "load", str(write(tmp_path, "n.toml", network_toml()))
    )
    assert code == 0, err
    return env


def count(database_url: str, model: type) -> int:
    async def work(session):  # type: ignore[no-untyped-def]
        return (await session.exec(select(func.count()).select_from(model))).one()

    return query(database_url, work)


def test_good_file_imports_every_order(
    network: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = orders_csv(
        csv_row("SE-1"),
        csv_row(
            "SE-2",
            given_name="Ahmed",
            family_name="Hassan",
            personnummer=PERSONNUMMER["ahmed"][1],
            phone="+46 70-222 33 44",
            email="ahmed@example.se",
        ),
        csv_row(
            "SE-3",
            given_name="Pia",
            personnummer=PERSONNUMMER["samordning"][0],
            email="pia@example.se",
        ),
    )
    code, out, err = run_cli(capsys, "cards", "import", str(write(tmp_path, "c.csv", content)))
    assert code == 0, err
    assert "3 nya" in out
    assert count(network, Card) == 3

    async def users(session):  # type: ignore[no-untyped-def]
        return (await session.exec(select(CardUser).order_by(col(CardUser.id)))).all()

    stored = query(network, users)
    assert [u.phone for u in stored] == ["+46701112233", "+46702223344", "+46701112233"]
    # Stored encrypted and fingerprinted, never as the plain number.
    assert all(PERSONNUMMER["maria"][1] not in u.personnummer_encrypted for u in stored)


def test_semicolon_separator_and_optional_status(
    network: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = "order_ref;office_code;given_name;family_name;personnummer;phone;email;status"
    row = "SE-9;UPS1;Lena;Holm;780914-3451;0703334455;lena@example.se;shipped"
    code, _, err = run_cli(
        capsys, "cards", "import", str(write(tmp_path, "c.csv", f"{header}\n{row}\n"))
    )
    assert code == 0, err

    async def status(session):  # type: ignore[no-untyped-def]
        return (await session.exec(select(Card.status))).one()

    assert query(network, status) == CardStatus.shipped


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        (csv_row(personnummer="850312-1232"), "personnummer", "kontrollsiffra"),
        (csv_row(personnummer="12345"), "personnummer", "10 eller 12 siffror"),
        (csv_row(personnummer="851312-1231"), "personnummer", "giltigt personnummer"),
        (csv_row(phone="123"), "phone", "telefonnummer"),
        (csv_row(phone="hej hopp"), "phone", "telefonnummer"),
        (csv_row(email="maria.example.se"), "email", "e-postadress"),
        (csv_row(email="maria@"), "email", "e-postadress"),
        (csv_row(office_code="NOPE"), "office_code", "inget kontor"),
        (csv_row(given_name=""), "given_name", "saknas"),
        (csv_row(order_ref=""), "order_ref", "saknas"),
        (csv_row(order_ref="SE-" + "9" * 60), "order_ref", "50"),
        (csv_row(personnummer="٨٥٠٣١٢-١٢٣١"), "personnummer", "10 eller 12 siffror"),
    ],
)
def test_bad_row_exits_2_names_line_and_field_and_writes_nothing(
    network: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    row: str,
    field: str,
    words: str,
) -> None:
    path = write(tmp_path, "c.csv", orders_csv(csv_row("SE-OK"), row))
    code, _, err = run_cli(capsys, "cards", "import", str(path))
    assert code == 2
    assert f"{path}:3: {field}:" in err
    assert words in err
    assert "Ingenting sparades" in err
    assert count(network, Card) == 0
    assert count(network, CardUser) == 0


def test_every_problem_is_reported_at_once(
    network: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = orders_csv(csv_row("SE-1", phone="1"), csv_row("SE-2", email="x", personnummer="1"))
    code, _, err = run_cli(capsys, "cards", "import", str(write(tmp_path, "c.csv", content)))
    assert code == 2
    assert ":2: phone:" in err and ":3: email:" in err and ":3: personnummer:" in err


def test_missing_column_and_duplicate_order_ref(
    network: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_email = orders_csv(
        "SE-1,UPS1,A,B,850312-1231,0701112233",
        header="order_ref,office_code,given_name,family_name,personnummer,phone",
    )
    code, _, err = run_cli(capsys, "cards", "import", str(write(tmp_path, "a.csv", no_email)))
    assert code == 2 and ":1: email: kolumnen saknas" in err
    twice = orders_csv(csv_row("SE-1"), csv_row("SE-1"))
    code, _, err = run_cli(capsys, "cards", "import", str(write(tmp_path, "b.csv", twice)))
    assert code == 2 and ":3: order_ref:" in err and "rad 2" in err


def test_missing_file_and_non_utf8(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "cards", "import", str(tmp_path / "nope.csv"))
    assert code == 2 and "filen finns inte" in err
    path = tmp_path / "latin1.csv"
    path.write_bytes("order_ref\nS\xe5\n".encode("latin-1"))
    code, _, err = run_cli(capsys, "cards", "import", str(path))
    assert code == 2 and f"{path}:1:" in err


def test_reimport_updates_and_never_duplicates(
    network: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write(
        tmp_path,
        "1.csv",
        orders_csv(csv_row("SE-1"), csv_row("SE-2", personnummer=PERSONNUMMER["lena"][0])),
    )
    assert run_cli(capsys, "cards", "import", str(first))[0] == 0
    events = count(network, AuditEvent)
    code, out, _ = run_cli(capsys, "cards", "import", str(first))
    assert code == 0 and "2 oförändrade" in out
    assert count(network, AuditEvent) == events  # nothing changed, nothing audited
    moved = write(
        tmp_path,
        "2.csv",
        orders_csv(
            csv_row("SE-1", phone="0709998877"),
            csv_row("SE-2", personnummer=PERSONNUMMER["lena"][0]),
        ),
    )
    code, out, _ = run_cli(capsys, "cards", "import", str(moved))
    assert code == 0
    assert count(network, Card) == 2
    assert count(network, CardUser) == 2

    async def phone(session):  # type: ignore[no-untyped-def]
        return (await session.exec(select(CardUser.phone).order_by(col(CardUser.id)))).first()

    assert query(network, phone) == "+46709998877"


def test_reimport_status_goes_through_the_state_machine(
    network: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = "order_ref,office_code,given_name,family_name,personnummer,phone,email,status"
    base = "SE-1,UPS1,Maria,Ek,850312-1231,0701112233,maria@example.se"
    assert (
        run_cli(
            capsys, "cards", "import", str(write(tmp_path, "a.csv", f"{header}\n{base},ordered\n"))
        )[0]
        == 0
    )
    assert (
        run_cli(
            capsys, "cards", "import", str(write(tmp_path, "b.csv", f"{header}\n{base},shipped\n"))
        )[0]
        == 0
    )
    code, _, err = run_cli(
        capsys, "cards", "import", str(write(tmp_path, "c.csv", f"{header}\n{base},handed_out\n"))
    )
    assert code == 2
    assert ":2: status:" in err and "ogiltig övergång" in err
