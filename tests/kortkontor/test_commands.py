"""`cards set-status`, `admin invite`, settings at start-up, and `demo`."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from models.cards import Card, CardStatus
from models.crypto import hash_token
from models.invites import InvitePurpose, InviteToken, redeem_invite
from tests.factories import csv_row, network_toml, orders_csv
from tests.fakes.telegram import FakeBotApi
from tests.kortkontor.cli_helpers import query, run_cli, write


@pytest.fixture
def loaded(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """A network with one ordered card, SE-1."""
    assert (
        run_cli(capsys, "network", "load", str(write(tmp_path, "n.toml", network_toml())))[0] == 0
    )
    assert (
        run_cli(capsys, "cards", "import", str(write(tmp_path, "c.csv", orders_csv(csv_row()))))[0]
        == 0
    )
    return env


def test_set_status_follows_the_state_machine(
    loaded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "cards", "set-status", "SE-1", "shipped")
    assert code == 0 and "ordered → shipped" in out
    code, _, err = run_cli(capsys, "cards", "set-status", "SE-1", "handed_out")
    assert code == 2 and "ogiltig övergång" in err
    code, _, err = run_cli(capsys, "cards", "set-status", "SE-1", "lost")
    assert code == 2 and "Okänd status" in err
    code, _, err = run_cli(capsys, "cards", "set-status", "SE-404", "shipped")
    assert code == 2 and "SE-404" in err

    async def status(session):  # type: ignore[no-untyped-def]
        return (await session.exec(select(Card.status))).one()

    assert query(loaded, status) == CardStatus.shipped
    assert run_cli(capsys, "audit", "verify")[0] == 0


def test_invite_is_random_hashed_single_use_and_expires(
    loaded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "admin", "invite", "anna@example.se")
    assert code == 0
    token = re.search(r"^/start (\S+)$", out, re.MULTILINE).group(1)  # type: ignore[union-attr]
    assert 20 <= len(token) <= 64
    code, again, _ = run_cli(capsys, "admin", "invite", "anna@example.se")
    assert again.split()[1] != token

    async def stored(session):  # type: ignore[no-untyped-def]
        return (await session.exec(select(InviteToken))).all()

    rows = query(loaded, stored)
    assert {r.token_hash for r in rows} >= {hash_token(token)}
    assert all(token not in r.token_hash for r in rows)
    row = next(r for r in rows if r.token_hash == hash_token(token))
    assert row.expires_at - row.created_at == timedelta(days=14)

    async def redeem(session, at=None):  # type: ignore[no-untyped-def]
        return await redeem_invite(session, token=token, purpose=InvitePurpose.admin, now=at)

    assert query(loaded, lambda s: redeem(s, row.expires_at + timedelta(seconds=1))) is None
    assert query(loaded, redeem) is not None
    assert query(loaded, redeem) is None  # used once already
    code, _, err = run_cli(capsys, "admin", "invite", "nobody@example.se")
    assert code == 2 and "nobody@example.se" in err


def test_invite_prints_a_deep_link_with_the_bots_username(
    loaded: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeBotApi(username="kortkontor_test_bot") as api:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", api.token)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", api.base_url)
        code, out, _ = run_cli(capsys, "admin", "invite", "anna@example.se")
        assert api.calls == ["getMe"]
    assert code == 0
    assert re.search(r"^https://t\.me/kortkontor_test_bot\?start=\S{20,64}$", out, re.MULTILINE)


def test_invite_falls_back_when_the_bot_api_is_down(
    loaded: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:abc")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:9/bot")
    code, out, _ = run_cli(capsys, "admin", "invite", "anna@example.se")
    assert code == 0 and re.search(r"^/start \S+$", out, re.MULTILINE)


def test_missing_secret_key_stops_start_up(
    env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KORTKONTOR_SECRET_KEY")
    code, _, err = run_cli(capsys, "audit", "verify")
    assert code == 2 and "KORTKONTOR_SECRET_KEY" in err


def test_demo_seeds_and_prints_the_network(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KORTKONTOR_SECRET_KEY", raising=False)
    code, out, err = run_cli(capsys, "demo")
    assert code == 0, err
    for office in ("Uppsala centrum", "Stockholm Södermalm", "Göteborg Vasastan"):
        assert office in out
    assert "tisdag 16:00–19:00, Café Linné" in out
    assert "finns på kontoret" in out and "returnerat till utfärdaren" in out
    assert (tmp_path / "kortkontor-demo.db").exists()
    # A second run starts from scratch rather than piling up.
    assert run_cli(capsys, "demo")[1] == out
