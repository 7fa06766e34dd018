"""`kortkontor keys rotate`: a new secret key without losing a single personnummer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select

from models.audit import AuditEvent
from models.cards import CardUser
from models.crypto import PersonnummerVault
from models.validation import normalize_personnummer
from tests.conftest import TEST_SECRET_KEY
from tests.factories import PERSONNUMMER, csv_row, network_toml, orders_csv
from tests.kortkontor.cli_helpers import query, run_cli, write

NEW_KEY = "a-new-secret-key-for-the-rotation-test-0123456789"
WRITTEN = [PERSONNUMMER["maria"][0], PERSONNUMMER["ahmed"][0]]
NUMBERS = [normalize_personnummer(number) for number in WRITTEN]


def orders(tmp_path: Path) -> Path:
    rows = [
        csv_row(order_ref=f"SE-{n}", personnummer=number, email=f"u{n}@example.se")
        for n, number in enumerate(WRITTEN)
    ]
    return write(tmp_path, "orders.csv", orders_csv(*rows))


@pytest.fixture
def imported(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """Two card users imported under the test's (old) key."""
    assert (
        run_cli(capsys, "network", "load", str(write(tmp_path, "n.toml", network_toml())))[0] == 0
    )
    path = orders(tmp_path)
    assert run_cli(capsys, "cards", "import", str(path))[0] == 0
    return path


def stored(database_url: str) -> list[CardUser]:
    async def work(session):  # type: ignore[no-untyped-def]
        return list((await session.exec(select(CardUser).order_by(col(CardUser.id)))).all())

    return query(database_url, work)


def test_rotation_writes_every_personnummer_under_the_new_key(
    env: str, imported: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = stored(env)
    monkeypatch.setenv("KORTKONTOR_SECRET_KEY", NEW_KEY)
    monkeypatch.setenv("KORTKONTOR_OLD_SECRET_KEYS", TEST_SECRET_KEY)
    code, out, err = run_cli(capsys, "keys", "rotate")
    assert code == 0, err
    assert out.startswith("2 personnummer")
    after = stored(env)
    new_only = PersonnummerVault(NEW_KEY)
    assert [new_only.decrypt(user.personnummer_encrypted) for user in after] == NUMBERS
    assert [user.personnummer_hmac for user in after] == [new_only.lookup_key(n) for n in NUMBERS]
    assert all(
        a.personnummer_encrypted != b.personnummer_encrypted
        for a, b in zip(after, before, strict=True)
    )
    # Again: nothing left to rotate. Without the old key, the same file finds the same people.
    assert run_cli(capsys, "keys", "rotate")[1].startswith("0 personnummer")
    monkeypatch.delenv("KORTKONTOR_OLD_SECRET_KEYS")
    assert run_cli(capsys, "cards", "import", str(imported))[0] == 0
    assert [user.id for user in stored(env)] == [user.id for user in before]

    async def events(session):  # type: ignore[no-untyped-def]
        query_ = select(AuditEvent).where(AuditEvent.action == "keys.rotated")
        return [event.data for event in (await session.exec(query_)).all()]

    assert query(env, events) == [
        {"card_users": 2, "home_addresses": 0},
        {"card_users": 0, "home_addresses": 0},
    ]
    assert run_cli(capsys, "audit", "verify")[0] == 0


def test_without_the_old_key_nothing_is_written(
    env: str, imported: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = stored(env)
    monkeypatch.setenv("KORTKONTOR_SECRET_KEY", NEW_KEY)
    code, _, err = run_cli(capsys, "keys", "rotate")
    assert code == 2
    assert "2 lagrade personnummer" in err and "KORTKONTOR_OLD_SECRET_KEYS" in err
    assert [u.personnummer_encrypted for u in stored(env)] == [
        u.personnummer_encrypted for u in before
    ]


def test_a_reimport_during_the_rotation_finds_people_under_the_old_key(
    env: str, imported: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the new key and `keys rotate`, an import still matches its card users (and
    writes them under the new key) instead of adding them again."""
    before = stored(env)
    monkeypatch.setenv("KORTKONTOR_SECRET_KEY", NEW_KEY)
    monkeypatch.setenv("KORTKONTOR_OLD_SECRET_KEYS", TEST_SECRET_KEY)
    assert run_cli(capsys, "cards", "import", str(imported))[0] == 0
    after = stored(env)
    assert [user.id for user in after] == [user.id for user in before]
    assert all(PersonnummerVault(NEW_KEY).is_current(u.personnummer_encrypted) for u in after)


def test_home_delivery_addresses_are_rotated_too(
    env: str, imported: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime

    from models.cards import Card
    from models.meetings import Meeting
    from models.network import Admin
    from tests.factories import meeting

    address = "Storgatan 12, 753 20 Uppsala"

    async def book(session):  # type: ignore[no-untyped-def]
        card = (await session.exec(select(Card))).first()
        admin = (await session.exec(select(Admin))).first()
        at = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
        old = PersonnummerVault(TEST_SECRET_KEY).encrypt(address)
        session.add(meeting(card, admin, at, home_address_encrypted=old))

    query(env, book)
    monkeypatch.setenv("KORTKONTOR_SECRET_KEY", NEW_KEY)
    code, _, err = run_cli(capsys, "keys", "rotate")
    assert code == 2, err  # without the old key: nothing written
    monkeypatch.setenv("KORTKONTOR_OLD_SECRET_KEYS", TEST_SECRET_KEY)
    assert run_cli(capsys, "keys", "rotate")[0] == 0

    async def stored_address(session):  # type: ignore[no-untyped-def]
        return (await session.exec(select(Meeting.home_address_encrypted))).one()

    assert PersonnummerVault(NEW_KEY).decrypt(query(env, stored_address)) == address
