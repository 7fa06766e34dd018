"""Personnummer: validated, encrypted at rest, fingerprinted, masked, and never leaked."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from models.cards import CardUser
from models.crypto import PersonnummerVault, mask_personnummer
from models.errors import InvalidInput
from models.validation import birth_date, normalize_personnummer
from tests.conftest import POSTGRES_URL, TEST_SECRET_KEY
from tests.factories import ALL_TEST_PERSONNUMMER, PERSONNUMMER, csv_row, network_toml, orders_csv
from tests.kortkontor.cli_helpers import query, run_cli, write


@given(st.from_regex(r"\d{12}", fullmatch=True))
def test_encryption_round_trips(plain: str) -> None:
    vault = PersonnummerVault(TEST_SECRET_KEY)
    ciphertext = vault.encrypt(plain)
    assert plain not in ciphertext
    assert vault.decrypt(ciphertext) == plain


def test_lookup_key_is_stable_and_keyed() -> None:
    one, other = PersonnummerVault(TEST_SECRET_KEY), PersonnummerVault("another key")
    number = PERSONNUMMER["maria"][1]
    assert one.lookup_key(number) == one.lookup_key(number)
    assert one.lookup_key(number) != other.lookup_key(number)
    assert one.encrypt(number) != one.encrypt(number)  # random IV: equal numbers look different


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("850312-1231", "198503121231"),
        ("8503121231", "198503121231"),
        ("198503121231", "198503121231"),
        ("19850312-1231", "198503121231"),
        ("20011120-4566", "200111204566"),
        ("011120-4566", "200111204566"),  # century inferred: 2001, not 1901
        ("121212+1212", "191212121212"),  # "+" means a hundred years or more
        ("701063-2391", "197010632391"),  # samordningsnummer: day + 60
    ],
)
def test_personnummer_forms_are_stored_as_12_digits(raw: str, stored: str) -> None:
    assert normalize_personnummer(raw) == stored


@pytest.mark.parametrize(
    "raw", ["850312-1232", "851312-1231", "12345", "abcdefghij", "", "8503121231999"]
)
def test_bad_personnummer_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        normalize_personnummer(raw)
    assert raised.value.field == "personnummer"


def test_masking_and_birth_date() -> None:
    assert mask_personnummer("198503121231") == "19850312-****"
    assert birth_date("198503121231") == date(1985, 3, 12)
    assert birth_date("197010632391") == date(1970, 10, 3)


def test_no_personnummer_in_the_database_file_or_the_logs(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # logs every statement's values
    try:
        assert (
            run_cli(capsys, "network", "load", str(write(tmp_path, "n.toml", network_toml())))[0]
            == 0
        )
        rows = [
            csv_row(f"SE-{name}", personnummer=raw, email=f"{name}@example.se")
            for name, (raw, _) in PERSONNUMMER.items()
        ]
        code, out, err = run_cli(
            capsys, "cards", "import", str(write(tmp_path, "c.csv", orders_csv(*rows)))
        )
        assert code == 0, err
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert "INSERT INTO card_user" in caplog.text  # the statement log really ran
    logged = caplog.text + out + err
    for number in ALL_TEST_PERSONNUMMER:
        assert number not in logged
    if not POSTGRES_URL:
        database = Path(env.removeprefix("sqlite:///"))
        on_disk = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
        for number in ALL_TEST_PERSONNUMMER:
            assert number.encode() not in on_disk

    async def decrypted(session):  # type: ignore[no-untyped-def]
        users = (await session.exec(select(CardUser))).all()
        vault = PersonnummerVault(TEST_SECRET_KEY)
        return {vault.decrypt(u.personnummer_encrypted) for u in users}

    assert query(env, decrypted) == {long for _, long in PERSONNUMMER.values()}


def test_only_ascii_digits_make_a_personnummer() -> None:
    from models.errors import InvalidInput
    from models.validation import normalize_personnummer

    with pytest.raises(InvalidInput):
        normalize_personnummer("٨٥٠٣١٢١٢٣١")
