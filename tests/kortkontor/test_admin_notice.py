"""`kortkontor admin notice`: an office where one of two administrators gives notice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.admins import AdminState, admin_state
from models.audit import AuditEvent
from models.network import Admin, Office
from models.types import utcnow
from models.zone import local_day, local_midnight
from scheduler.availability import load_availability
from tests.factories import csv_row, eligibility_toml, network_toml, orders_csv, windows_toml
from tests.kortkontor.cli_helpers import query, run_cli, write

EVERY_DAY = windows_toml(("mon", "tue", "wed", "thu", "fri", "sat", "sun"), "08:00", "20:00")
CECILIA = f"""
[[office.admin]]
email = "cecilia@example.se"
name = "Cecilia Berg"
phone = "+46701234568"
windows = {EVERY_DAY}
absences = []
home_delivery = false
auto_confirm = false
{eligibility_toml()}"""


@pytest.fixture
def two_admins(env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """UPS1 with Anna and Cecilia, both open every day 08–20."""
    network = network_toml(windows=EVERY_DAY, absences="[]") + CECILIA
    assert run_cli(capsys, "network", "load", str(write(tmp_path, "n.toml", network)))[0] == 0
    return env


def _import(tmp_path: Path, capsys: pytest.CaptureFixture[str], ref: str) -> tuple[int, str]:
    row = csv_row(order_ref=ref)
    code, _, err = run_cli(
        capsys, "cards", "import", str(write(tmp_path, f"{ref}.csv", orders_csv(row)))
    )
    return code, err


def test_one_of_two_gives_notice_and_keeps_handing_out_until_the_end(
    two_admins: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    today = local_day(utcnow())
    given = today - timedelta(days=20)
    code, out, err = run_cli(
        capsys, "admin", "notice", "anna@example.se", "--on", given.isoformat()
    )
    assert code == 0, err
    assert "Uppsägningen för anna@example.se är registrerad" in out

    async def read(session: AsyncSession) -> tuple[Admin, Office, list[AuditEvent]]:
        anna = (await session.exec(select(Admin).where(Admin.email == "anna@example.se"))).one()
        office = (await session.exec(select(Office))).one()
        events = (
            await session.exec(select(AuditEvent).where(AuditEvent.action == "admin.notice_given"))
        ).all()
        return anna, office, list(events)

    anna, office, events = query(two_admins, read)
    assert anna.notice_given_on == given and anna.notice_ends_on is not None
    assert anna.notice_ends_on.isoformat() in out
    assert 28 <= (anna.notice_ends_on - given).days <= 31
    assert admin_state(anna, today=today) is AdminState.notice_given
    assert admin_state(anna, today=anna.notice_ends_on + timedelta(days=1)) is AdminState.ended
    assert office.notice_given_at is None  # Cecilia has not given notice: the office is open
    [event] = events
    assert (event.actor_role, event.entity_id) == ("operator", anna.id)

    # Cecilia still receives new cards for the office.
    assert _import(tmp_path, capsys, "SE-1") == (0, "")

    # Anna is offered in her notice month, never after its last day; Cecilia is after it too.
    async def slots(session: AsyncSession) -> list[tuple[int, object]]:
        office = (await session.exec(select(Office))).one()
        availability = await load_availability(session, office, now=utcnow())
        return [(s.admin_id, s.starts_at) for s in availability.free(now=utcnow())]

    free = query(two_admins, slots)
    after_end = local_midnight(anna.notice_ends_on + timedelta(days=1))
    annas = [at for who, at in free if who == anna.id]
    assert annas and all(at < after_end for at in annas)  # type: ignore[operator]
    assert any(at >= after_end for who, at in free if who != anna.id)  # type: ignore[operator]

    # Once more: refused, nothing changes.
    code, _, err = run_cli(capsys, "admin", "notice", "anna@example.se")
    assert code == 2 and "Uppsägning är redan gjord" in err
    assert len(query(two_admins, read)[2]) == 1

    # Cecilia too: now nobody at UPS1 is without notice, so no new cards go there.
    assert run_cli(capsys, "admin", "notice", "cecilia@example.se")[0] == 0
    code, err = _import(tmp_path, capsys, "SE-2")
    assert code == 2 and "UPS1" in err and "tar inte emot nya kort" in err
    assert query(two_admins, read)[1].notice_given_at is not None


def test_bad_notice_input_exits_2_and_writes_nothing(
    two_admins: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(capsys, "admin", "notice", "nobody@example.se")
    assert code == 2 and "nobody@example.se" in err
    code, _, err = run_cli(capsys, "admin", "notice", "anna@example.se", "--on", "2026-13-01")
    assert code == 2 and err.startswith("--on: ") and "ÅÅÅÅ-MM-DD" in err
    tomorrow = local_day(utcnow()) + timedelta(days=1)
    code, _, err = run_cli(
        capsys, "admin", "notice", "anna@example.se", "--on", tomorrow.isoformat()
    )
    assert code == 2 and err.startswith("--on: ") and "framtiden" in err

    async def notices(session: AsyncSession) -> list[object]:
        return [a.notice_given_on for a in (await session.exec(select(Admin))).all()]

    assert query(two_admins, notices) == [None, None]
