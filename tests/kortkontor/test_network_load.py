"""`kortkontor network load`: the TOML network, validated and upserted idempotently."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import func, select

from models.network import Absence, Admin, AvailabilityWindow, Office, Venue
from tests.factories import network_toml
from tests.kortkontor.cli_helpers import query, run_cli, write


def counts(database_url: str) -> tuple[int, ...]:
    async def work(session):  # type: ignore[no-untyped-def]
        models = (Office, Venue, Admin, AvailabilityWindow, Absence)
        return tuple(
            [(await session.exec(select(func.count()).select_from(m))).one() for m in models]
        )

    return query(database_url, work)


def test_load_is_idempotent_and_updates(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "n.toml", network_toml())
    code, out, err = run_cli(capsys, "network", "load", str(path))
    assert code == 0, err
    assert "1 kontor ändrades" in out
    assert counts(env) == (1, 1, 1, 2, 1)
    code, out, _ = run_cli(capsys, "network", "load", str(path))
    assert code == 0 and "0 kontor ändrades" in out
    assert counts(env) == (1, 1, 1, 2, 1)
    three_days = (
        '[ { weekday = "mon", start = "16:00", end = "19:00", venue = "cafe" },\n'
        '  { weekday = "wed", start = "16:00", end = "19:00", venue = "cafe" },\n'
        '  { weekday = "fri", start = "08:00", end = "10:00", venue = "cafe" } ]'
    )
    path = write(tmp_path, "n2.toml", network_toml(windows=three_days, auto_confirm=True))
    assert run_cli(capsys, "network", "load", str(path))[0] == 0
    assert counts(env) == (1, 1, 1, 3, 1)

    async def admin(session):  # type: ignore[no-untyped-def]
        return (await session.exec(select(Admin))).one()

    assert query(env, admin).auto_confirm is True


@pytest.mark.parametrize(
    ("change", "line", "field", "words"),
    [
        ({"kind": "home"}, 11, "kind", "måste vara en av: cafe"),
        ({"email": "anna-at-example"}, 14, "email", "e-postadress"),
        (
            {
                "windows": '[ { weekday = "tue", start = "16:00", end = "15:00", venue = "cafe" },\n { weekday = "thu", start = "08:00", end = "10:00", venue = "cafe" } ]'
            },
            17,
            "end",
            "efter starttiden",
        ),
        (
            {
                "windows": '[ { weekday = "tue", start = "16.00", end = "19:00", venue = "cafe" },\n { weekday = "thu", start = "08:00", end = "10:00", venue = "cafe" } ]'
            },
            17,
            "start",
            "TT:MM",
        ),
        (
            {
                "windows": '[ { weekday = "tis", start = "16:00", end = "19:00", venue = "cafe" },\n { weekday = "thu", start = "08:00", end = "10:00", venue = "cafe" } ]'
            },
            17,
            "weekday",
            "mon, tue",
        ),
        (
            {
                "windows": '[ { weekday = "tue", start = "16:00", end = "19:00", venue = "bar" },\n { weekday = "thu", start = "08:00", end = "10:00", venue = "cafe" } ]'
            },
            17,
            "venue",
            "mötesplats «bar»",
        ),
        (
            {
                "windows": '[ { weekday = "tue", start = "16:00", end = "19:00", venue = "cafe" },\n { weekday = "tue", start = "18:00", end = "20:00", venue = "cafe" } ]'
            },
            18,
            "start",
            "överlappar",
        ),
        (
            {
                "windows": '[ { weekday = "tue", start = "16:00", end = "19:00", venue = "cafe" },\n { weekday = "sat", start = "08:00", end = "10:00", venue = "cafe" } ]'
            },
            17,
            "windows",
            "två vardagar",
        ),
        (
            {"absences": '[ { from = "2027-01-06", to = "2026-12-21" } ]'},
            19,
            "to",
            "får inte vara före",
        ),
        ({"absences": '[ { from = "2027-13-06", to = "2027-12-21" } ]'}, 19, "from", "ÅÅÅÅ-MM-DD"),
    ],
)
def test_bad_network_exits_2_with_line_and_field(
    env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str],
    line: int,
    field: str,
    words: str,
) -> None:
    path = write(tmp_path, "n.toml", network_toml(**change))  # type: ignore[arg-type]
    code, _, err = run_cli(capsys, "network", "load", str(path))
    assert code == 2
    assert f"{path}:{line}: {field}:" in err, err
    assert words in err
    assert counts(env) == (0, 0, 0, 0, 0)


def test_broken_toml_names_its_line(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "n.toml", '[[office]]\ncode = "A"\nname = \n')
    code, _, err = run_cli(capsys, "network", "load", str(path))
    assert code == 2 and f"{path}:3: toml: är inte giltig TOML: något är fel i kolumn 8" in err
    assert "Invalid value" not in err  # tomllib's own English stays out
    path = write(tmp_path, "open.toml", '[[office]]\ncode = "A"\nwindows = [\n')
    code, _, err = run_cli(capsys, "network", "load", str(path))
    assert code == 2 and f"{path}:3: toml: är inte giltig TOML: filen tar slut för tidigt" in err


def line_of(content: str, text: str) -> int:
    """The 1-based line where `text` first stands."""
    return next(n for n, line in enumerate(content.splitlines(), 1) if text in line)


def test_a_misspelt_key_is_refused_and_changes_nothing(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    two_admins = network_toml(auto_confirm=True) + network_toml(
        code="GBG1", email="bo@example.se", auto_confirm=True
    )
    assert run_cli(capsys, "network", "load", str(write(tmp_path, "a.toml", two_admins)))[0] == 0
    misspelt = two_admins.replace("auto_confirm = true", "auto_confrim = false")
    path = write(tmp_path, "b.toml", misspelt)
    code, out, err = run_cli(capsys, "network", "load", str(path))
    assert code == 2 and out == ""
    first = line_of(misspelt, "auto_confrim")
    second = line_of(misspelt.replace("auto_confrim", "x", 1), "auto_confrim")
    assert f"{path}:{first}: auto_confrim: okänd nyckel" in err
    assert f"{path}:{second}: auto_confrim: okänd nyckel" in err
    assert "home_delivery, auto_confirm" in err  # the keys it could have meant

    async def auto_confirm(session):  # type: ignore[no-untyped-def]
        return (await session.exec(select(Admin.auto_confirm))).all()

    assert query(env, auto_confirm) == [True, True]


WINDOWS = (
    '[ { weekday = "tue", start = "16:00", end = "19:00", venue = "cafe" },\n'
    '  { weekday = "thu", start = "08:00", end = "10:00", venue = "cafe", plats = "x" } ]'
)


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda t: "version = 1\n" + t, "version"),
        (lambda t: t.replace("slot_minutes = 15", "slot_minuts = 15"), "slot_minuts"),
        (lambda t: t.replace('kind = "cafe"', 'kind = "cafe"\nadress = "Gatan 1"'), "adress"),
        (lambda t: t.replace("birth_date =", "birthdate ="), "birthdate"),
        # A checklist item misspelt in [office.admin.onboarding] is refused, not left undone.
        (lambda t: t.replace("contract_signed =", "contract_sigend ="), "contract_sigend"),
        (lambda t: t.replace('to = "2027-01-06"', 'to = "2027-01-06", why = "jul"'), "why"),
    ],
)
def test_unknown_keys_are_refused_at_every_level(
    env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: Callable[[str], str],
    key: str,
) -> None:
    content = edit(network_toml())
    path = write(tmp_path, "n.toml", content)
    code, _, err = run_cli(capsys, "network", "load", str(path))
    assert code == 2
    pattern = rf"^\[?\[?({key}|office\.admin\.{key})\]?|[\s{{,]{key} = "
    line = next(n for n, text in enumerate(content.splitlines(), 1) if re.search(pattern, text))
    assert f"{path}:{line}: {key}: okänd nyckel" in err, err
    assert counts(env) == (0, 0, 0, 0, 0)


def test_an_unknown_key_in_a_window_names_the_windows_own_line(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = network_toml(windows=WINDOWS)
    path = write(tmp_path, "n.toml", content)
    code, _, err = run_cli(capsys, "network", "load", str(path))
    assert code == 2
    assert f"{path}:{line_of(content, 'plats')}: plats: okänd nyckel" in err
    assert "weekday, start, end, venue" in err
