"""`kortkontor cards import`: validation, all-or-nothing, re-import."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, func, select

from models.audit import AuditEvent
from models.cards import Card, CardStatus, CardUser
from models.outbox import Notification
from tests.factories import CSV_HEADER, PERSONNUMMER, csv_row, network_toml, orders_csv
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
    assert ":2: status: Ett kort med status «skickat» kan inte få status «utlämnat» av en " in err
    assert "ogiltig övergång" in err


DEMO_DATA = Path(__file__).resolve().parents[2] / "kortkontor" / "demo_data"
STATUS_HEADER = f"{CSV_HEADER},status"


def card_status(database_url: str, order_ref: str) -> CardStatus:
    async def work(session):  # type: ignore[no-untyped-def]
        return (await session.exec(select(Card.status).where(Card.order_ref == order_ref))).one()

    return CardStatus(query(database_url, work))


def test_the_readmes_own_steps_hold_an_older_status_is_a_note(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cards = DEMO_DATA / "cards.csv"
    assert run_cli(capsys, "network", "load", str(DEMO_DATA / "network.toml"))[0] == 0
    assert run_cli(capsys, "cards", "import", str(cards))[0] == 0
    assert run_cli(capsys, "cards", "set-status", "SE-1004", "shipped")[0] == 0
    code, out, err = run_cli(capsys, "cards", "import", str(cards))
    assert code == 0, err
    assert err == ""
    assert (
        f"{cards}:5: status: «beställt» är äldre än kortets status «skickat»: "
        "kortet lämnas som det är"
    ) in out
    assert "10 oförändrade" in out
    assert card_status(env, "SE-1004") == CardStatus.shipped


def test_a_card_whose_life_here_is_over_is_not_moved_by_the_file(
    network: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run_cli(capsys, "cards", "import", str(write(tmp_path, "a.csv", orders_csv(csv_row()))))[0]
        == 0
    )
    assert run_cli(capsys, "cards", "set-status", "SE-1", "revoked")[0] == 0
    shipped = write(tmp_path, "b.csv", orders_csv(csv_row() + ",shipped", header=STATUS_HEADER))
    code, out, _ = run_cli(capsys, "cards", "import", str(shipped))
    assert code == 0
    assert f"{shipped}:2: status: kortet är redan «spärrat», och det är slutgiltigt" in out
    assert card_status(network, "SE-1") == CardStatus.revoked


@pytest.mark.parametrize("picked_up", ["in_custody", "i förvaring"])
def test_an_import_that_puts_a_card_in_custody_invites_its_user(
    network: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], picked_up: str
) -> None:
    shipped = write(tmp_path, "a.csv", orders_csv(csv_row() + ",shipped", header=STATUS_HEADER))
    assert run_cli(capsys, "cards", "import", str(shipped))[0] == 0
    kept = write(tmp_path, "b.csv", orders_csv(f"{csv_row()},{picked_up}", header=STATUS_HEADER))
    code, out, err = run_cli(capsys, "cards", "import", str(kept))
    assert code == 0, err
    assert "1 uppdaterade" in out and "1 kortanvändare bjuds in att boka en tid." in out
    assert card_status(network, "SE-1") == CardStatus.in_custody

    async def invitations(session):  # type: ignore[no-untyped-def]
        query = select(Notification.channel).where(Notification.template == "card_arrived")
        return set((await session.exec(query)).all())

    assert query(network, invitations) == {"sms", "email"}


def test_an_unknown_office_is_reported_with_every_other_problem(
    network: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = orders_csv(
        csv_row("SE-1", phone="1"),
        csv_row("SE-2", office_code="NOPE", personnummer=PERSONNUMMER["ahmed"][0]),
        csv_row("SE-3", office_code="GONE", personnummer="1", email="x"),
        csv_row("SE-4", personnummer=PERSONNUMMER["lena"][0]),
    )
    path = write(tmp_path, "c.csv", content)
    code, out, err = run_cli(capsys, "cards", "import", str(path))
    assert code == 2 and out == ""
    assert [line.split(": ", 2)[:2] for line in err.splitlines()[:-1]] == [
        [f"{path}:2", "phone"],
        [f"{path}:3", "office_code"],
        [f"{path}:4", "email"],
        [f"{path}:4", "office_code"],
        [f"{path}:4", "personnummer"],
    ]
    assert "inget kontor har koden «NOPE»" in err and "«GONE»" in err
    assert "Ingenting sparades (5 fel)." in err
    assert count(network, Card) == 0 and count(network, CardUser) == 0


def test_status_problems_name_the_statuses_in_swedish(
    network: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = orders_csv(
        csv_row("SE-1") + ",in_custody",
        csv_row("SE-2", personnummer=PERSONNUMMER["ahmed"][0]) + ",lost",
        header=STATUS_HEADER,
    )
    code, _, err = run_cli(capsys, "cards", "import", str(write(tmp_path, "c.csv", content)))
    assert code == 2
    assert ":2: status: ett nytt kort kan bara börja som: beställt, skickat" in err
    assert ":3: status: måste vara en av: beställt, skickat, avi mottagen, i förvaring" in err
    assert "in_custody" not in err and "ordered" not in err


def test_the_card_number_is_optional_validated_and_kept_as_digits(
    network: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = f"{CSV_HEADER},card_number"
    bad = orders_csv(
        f"{csv_row('SE-1')},9752 2699 0012 3456", f"{csv_row('SE-2')},12AB", header=header
    )
    path = write(tmp_path, "bad.csv", bad)
    code, _, err = run_cli(capsys, "cards", "import", str(path))
    assert code == 2
    assert f"{path}:3: card_number:" in err and "8 till 20 siffror" in err
    assert count(network, Card) == 0

    good = orders_csv(
        f"{csv_row('SE-1')},9752-2699-0012-3456", f"{csv_row('SE-2')},", header=header
    )
    code, _, err = run_cli(capsys, "cards", "import", str(write(tmp_path, "good.csv", good)))
    assert code == 0, err
    # A file without the column leaves the stored number as it is.
    plain = orders_csv(csv_row("SE-1"), csv_row("SE-2"))
    code, _, err = run_cli(capsys, "cards", "import", str(write(tmp_path, "plain.csv", plain)))
    assert code == 0, err

    async def numbers(session):  # type: ignore[no-untyped-def]
        query = select(Card.order_ref, Card.card_number).order_by(col(Card.order_ref))
        return (await session.exec(query)).all()

    assert query(network, numbers) == [("SE-1", "9752269900123456"), ("SE-2", None)]
