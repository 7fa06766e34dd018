"""`cards set-status`, `admin invite`, settings at start-up, and `demo`."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cards import Card, CardStatus
from models.crypto import hash_token
from models.invites import InvitePurpose, InviteToken, redeem_invite
from models.meetings import Meeting, MeetingStatus
from models.network import Office
from models.outbox import Channel, Notification, NotificationStatus
from models.types import utcnow
from scheduler import booking
from scheduler.availability import load_availability
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
    assert code == 0 and "Kort SE-1: beställt → skickat." in out
    code, _, err = run_cli(capsys, "cards", "set-status", "SE-1", "handed_out")
    assert code == 2
    assert err.strip() == (
        "Ett kort med status «skickat» kan inte få status «utlämnat» av en operatör "
        "(ogiltig övergång)."
    )
    code, _, err = run_cli(capsys, "cards", "set-status", "SE-1", "lost")
    assert code == 2 and "Okänd status «lost»" in err
    assert "beställt, skickat, avi mottagen, i förvaring, bokat, under överlämning, utlämnat" in err
    code, _, err = run_cli(capsys, "cards", "set-status", "SE-404", "shipped")
    assert code == 2 and "SE-404" in err

    async def status(session):  # type: ignore[no-untyped-def]
        return (await session.exec(select(Card.status))).one()

    assert query(loaded, status) == CardStatus.shipped
    assert run_cli(capsys, "audit", "verify")[0] == 0


def test_set_status_takes_the_swedish_names_too(
    loaded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "cards", "set-status", "SE-1", "Skickat")
    assert code == 0 and "beställt → skickat" in out
    code, out, _ = run_cli(capsys, "cards", "set-status", "SE-1", "i förvaring")
    assert code == 0 and "skickat → i förvaring" in out
    # The card reached the office: its user is invited to book.
    assert "Kortanvändaren bjuds in att boka en tid." in out
    assert {r.channel for r in query(loaded, outbox_rows) if r.template == "card_arrived"} == {
        "sms",
        "email",
    }


def test_outbox_list_speaks_swedish(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    run_cli(capsys, "cards", "set-status", "SE-1", "shipped")
    assert run_cli(capsys, "cards", "set-status", "SE-1", "in_custody")[0] == 0  # invites
    for name in ("pending", "väntar"):
        code, out, _ = run_cli(capsys, "outbox", "list", "--status", name)
        assert code == 0
        lines = out.strip().splitlines()
        assert len(lines) == 3 and all(" väntar " in line for line in lines[:2])
        assert "pending" not in out
        assert lines[-1] == (
            "Totalt: 2 väntar, 0 skickas nu, 0 skickade, 0 misslyckade, 0 avbrutna"
        )
    code, _, err = run_cli(capsys, "outbox", "list", "--status", "lost")
    assert code == 2 and "Okänd status «lost»" in err and "väntar, skickas nu, skickad" in err


async def outbox_rows(session: AsyncSession) -> list[Notification]:
    return list((await session.exec(select(Notification).order_by(col(Notification.id)))).all())


def book_first_free_time(database_url: str) -> int:
    """SE-1's user books the first free time; the admin confirms it automatically."""

    async def work(session: AsyncSession) -> int:
        card = (await session.exec(select(Card).where(Card.order_ref == "SE-1"))).one()
        office = await session.get(Office, card.office_id)
        assert office is not None and card.id is not None
        now = utcnow()
        slot = (await load_availability(session, office, now=now)).free(now=now)[0]
        result = await booking.request_booking(
            session, card_id=card.id, card_user_id=card.card_user_id, slot=slot, now=now
        )
        assert isinstance(result, booking.Booked) and result.meeting.id is not None
        return result.meeting.id

    return query(database_url, work)


@pytest.mark.parametrize(("status", "name"), [("revoked", "spärrat"), ("returned", "returnerat")])
def test_set_status_on_a_booked_card_cancels_its_meeting_and_tells_both_sides(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], status: str, name: str
) -> None:
    network = write(tmp_path, "n.toml", network_toml(auto_confirm=True))
    assert run_cli(capsys, "network", "load", str(network))[0] == 0
    orders = write(tmp_path, "c.csv", orders_csv(csv_row()))
    assert run_cli(capsys, "cards", "import", str(orders))[0] == 0
    for step in ("shipped", "in_custody"):
        assert run_cli(capsys, "cards", "set-status", "SE-1", step)[0] == 0
    meeting_id = book_first_free_time(env)

    code, out, err = run_cli(capsys, "cards", "set-status", "SE-1", status)
    assert code == 0, err
    assert f"Kort SE-1: bokat → {name}." in out
    assert re.search(
        r"^Utlämningstiden \w+dag \d+ \w+ kl\. \d\d:\d\d är avbokad\. "
        r"Kortanvändaren och ID-administratören får besked\.$",
        out,
        re.MULTILINE,
    )

    async def meeting(session: AsyncSession) -> Meeting | None:
        return await session.get(Meeting, meeting_id)

    assert query(env, meeting).status == MeetingStatus.cancelled  # type: ignore[union-attr]
    states = {(r.template, r.channel): r.status for r in query(env, outbox_rows)}
    assert states[("booking_cancelled", Channel.sms)] == NotificationStatus.pending  # the card user
    assert states[("admin_cancelled", Channel.email)] == NotificationStatus.pending  # the admin
    # Whichever reminders the clock allowed (SMS keep quiet at night) are cancelled.
    reminders = {v for (template, _), v in states.items() if template.startswith("reminder")}
    assert reminders <= {NotificationStatus.cancelled}
    assert (
        states[("card_arrived", Channel.sms)] == NotificationStatus.cancelled
    )  # no more invitations
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
    assert code == 2 and "KORTKONTOR_SECRET_KEY saknas." in err and "is not set" not in err


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
    assert "i förvaring" in out and "returnerat" in out
    # One administrator is still onboarding: shown with what is missing.
    assert (
        "  ID-administratör: Lina Ek\n    under introduktion, erbjuds inte kortanvändare än; "
        "saknas: utdrag ur belastningsregistret kontrollerat, egen pc (inte Mac) med två lediga "
        "USB-portar"
    ) in out
    assert out.count("under introduktion") == 1
    assert (tmp_path / "kortkontor-demo.db").exists()
    # A second run starts from scratch rather than piling up.
    assert run_cli(capsys, "demo")[1] == out
