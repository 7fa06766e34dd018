"""A name with a bidirectional override, a control or a zero-width character is refused by the
CLI like any bad input: exit 2, the file, line and field, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import func, select

from models.cards import Card
from models.network import Office
from models.operators import Operator
from tests.factories import csv_row, network_toml, orders_csv
from tests.kortkontor.cli_helpers import query, run_cli, write

WHY = "ett osynligt tecken eller styrtecken som kan få texten att läsas på ett annat sätt"


def rows(database_url: str, model: type) -> int:
    async def work(session):  # type: ignore[no-untyped-def]
        return (await session.exec(select(func.count()).select_from(model))).one()

    return query(database_url, work)


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"family_name": "Ek\u202eexe.txt"}, "family_name", "U+202E"),
        ({"given_name": "Ma\u200bria"}, "given_name", "U+200B"),
        ({"given_name": "Maria\x85x"}, "given_name", "U+0085"),
        ({"order_ref": "SE-\u20661"}, "order_ref", "U+2066"),
        ({"email": "maria\u200d@example.se"}, "email", "U+200D"),
    ],
)
def test_a_card_users_name_with_a_hidden_character(
    env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str],
    field: str,
    code: str,
) -> None:
    assert (
        run_cli(capsys, "network", "load", str(write(tmp_path, "n.toml", network_toml())))[0] == 0
    )
    path = write(
        tmp_path, "c.csv", orders_csv(csv_row("SE-OK"), csv_row(**{"order_ref": "SE-2", **change}))
    )
    exit_code, _, err = run_cli(capsys, "cards", "import", str(path))
    assert exit_code == 2
    assert f"{path}:3: {field}: innehåller {code}, {WHY}: ta bort det" in err
    assert rows(env, Card) == 0


def test_an_office_venue_or_admin_name_with_a_hidden_character(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = (
        network_toml()
        .replace('name = "Uppsala centrum"', 'name = "Uppsala\u202e centrum"')
        .replace('name = "Café Linné"', 'name = "Café\u200b Linné"')
        .replace('name = "Anna Andersson"', 'name = "Anna\u2067 Andersson"')
    )
    path = write(tmp_path, "n.toml", content)
    exit_code, _, err = run_cli(capsys, "network", "load", str(path))
    assert exit_code == 2
    lines = content.splitlines()
    for code, text in (("U+202E", "Uppsala"), ("U+200B", "Café"), ("U+2067", "Anna")):
        line = next(n for n, line in enumerate(lines, 1) if line.startswith(f'name = "{text}'))
        assert f"{path}:{line}: name: innehåller {code}, {WHY}" in err, err
    assert rows(env, Office) == 0


def test_an_operators_email_with_a_hidden_character(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    exit_code, _, err = run_cli(capsys, "operator", "add", "op\u200berator@example.se")
    assert exit_code == 2
    assert f"innehåller U+200B, {WHY}" in err
    assert rows(env, Operator) == 0
