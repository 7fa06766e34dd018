"""Administrators at `network load` and `admin show`: eligibility (age, home town, payee), the
dated onboarding checklist, and the coverage checks on windows and venues."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from models.admins import notice_end
from models.audit import AuditEvent
from models.network import Admin, Payee
from models.types import utcnow
from models.zone import local_day
from tests.factories import csv_row, eligibility_toml, network_toml, orders_csv
from tests.kortkontor.cli_helpers import query, run_cli, write

PARTLY_ONBOARDED = "contract_signed = 2026-10-01\ntraining_completed = 2026-10-15"


def line_of(content: str, text: str, *, after: str = "") -> int:
    """The 1-based line where `text` first stands (after the first line holding `after`)."""
    lines = content.splitlines()
    start = next(n for n, line in enumerate(lines) if after in line)
    return next(n for n, line in enumerate(lines[start:], start + 1) if text in line)


def _load(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str
) -> tuple[int, str, str, Path]:
    path = write(tmp_path, "n.toml", content)
    code, out, err = run_cli(capsys, "network", "load", str(path))
    return code, out, err, path


def _admins(env: str) -> list[Admin]:
    async def work(session):  # type: ignore[no-untyped-def]
        return list((await session.exec(select(Admin))).all())

    return query(env, work)


def _years_ago(years: int, *, days: int = 0) -> str:
    today = local_day(utcnow())
    return (today.replace(year=today.year - years) + timedelta(days=days)).isoformat()


# ---------------------------------------------------------------- eligibility


def test_an_eligible_onboarded_administrator_is_loaded_with_every_field(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    company = eligibility_toml(payee='payee = "company"\norg_number = "5560160680"')
    code, _, err, _ = _load(capsys, tmp_path, network_toml(eligibility=company))
    assert code == 0, err
    (anna,) = _admins(env)
    assert (anna.birth_date, anna.town, anna.payee) == (date(1985, 3, 12), "Uppsala", Payee.company)
    assert anna.org_number == "556016-0680"  # stored as it is written on paper
    assert anna.contract_signed == date(2020, 1, 15) and anna.internet_at_venue is not None


def test_an_administrator_turning_18_today_is_accepted_and_one_a_day_younger_refused(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    adult = network_toml(eligibility=eligibility_toml(birth_date=_years_ago(18)))
    assert _load(capsys, tmp_path, adult)[0] == 0
    young = network_toml(
        email="ung@example.se", eligibility=eligibility_toml(birth_date=_years_ago(18, days=1))
    )
    code, out, err, path = _load(capsys, tmp_path, young)
    assert code == 2 and out == ""
    line = line_of(young, "birth_date")
    assert (
        f"{path}:{line}: birth_date: en ID-administratör måste vara minst 18 år (är 17 den" in err
    )
    assert "Ingenting sparades" in err
    assert [a.email for a in _admins(env)] == ["anna@example.se"]  # nothing was written


@pytest.mark.parametrize(
    ("eligibility", "field", "words"),
    [
        (eligibility_toml(town="Stockholm"), "town", "måste vara kontorets ort, Uppsala"),
        (
            eligibility_toml(payee='payee = "company"'),
            "org_number",
            "ett företag behöver sitt organisationsnummer",
        ),
        (
            eligibility_toml(payee='payee = "company"\norg_number = "556016-0681"'),
            "org_number",
            "inte ett giltigt organisationsnummer",
        ),
        (
            eligibility_toml(payee='payee = "frilansfinans"\norg_number = "556016-0680"'),
            "org_number",
            'gäller bara payee = "company"',
        ),
        (eligibility_toml(payee='payee = "swish"'), "payee", "frilansfinans, company"),
        (eligibility_toml(birth_date="1985-02-30"), "birth_date", "ÅÅÅÅ-MM-DD"),
        (eligibility_toml(address=""), "address", "saknas"),
    ],
)
def test_an_ineligible_administrator_is_refused_with_file_line_and_field(
    env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    eligibility: str,
    field: str,
    words: str,
) -> None:
    content = network_toml(eligibility=eligibility)
    code, _, err, path = _load(capsys, tmp_path, content)
    assert code == 2
    admin = content[content.index("[[office.admin]]") :]
    # A missing key is reported on the administrator's header line.
    named = f"{field} =" if f"{field} =" in admin else "[[office.admin]]"
    line = line_of(content, named, after="[[office.admin]]")
    assert f"{path}:{line}: {field}: " in err and words in err, err
    assert _admins(env) == []


def test_the_new_fields_are_required(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = network_toml(eligibility="")
    code, _, err, path = _load(capsys, tmp_path, content)
    assert code == 2
    admin_line = line_of(content, "[[office.admin]]")
    for field in ("birth_date", "address", "town", "payee"):
        assert f"{path}:{admin_line}: {field}: saknas" in err, err


def test_the_town_is_compared_without_case_or_extra_spaces(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = network_toml(eligibility=eligibility_toml(town="  uppSALA "))
    code, _, err, _ = _load(capsys, tmp_path, content)
    assert code == 0, err


# ---------------------------------------------------------------- the checklist


def test_a_checklist_date_after_today_or_a_misspelt_item_is_refused(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tomorrow = (local_day(utcnow()) + timedelta(days=1)).isoformat()
    content = network_toml(
        eligibility=eligibility_toml(
            onboarding=f"contract_signed = {tomorrow}\npc_two_ubs = 2026-10-01"
        )
    )
    code, _, err, path = _load(capsys, tmp_path, content)
    assert code == 2
    assert (
        f"{path}:{line_of(content, 'contract_signed')}: contract_signed: får inte vara efter i dag"
        in err
    )
    assert f"{path}:{line_of(content, 'pc_two_ubs')}: pc_two_ubs: okänd nyckel" in err


def test_admin_show_prints_the_state_the_checklist_and_what_is_missing(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = network_toml(eligibility=eligibility_toml(onboarding=PARTLY_ONBOARDED))
    assert _load(capsys, tmp_path, content)[0] == 0
    code, out, err = run_cli(capsys, "admin", "show", "Anna@Example.se")
    assert code == 0, err
    assert "Anna Andersson <anna@example.se>, Uppsala centrum (UPS1)" in out
    assert "Läge: under introduktion" in out
    assert "Född: 1985-03-12" in out and "Ort: Uppsala" in out
    assert "Utbetalning: lön via frilansfinans" in out
    assert "  avtal undertecknat: 2026-10-01" in out
    assert "  webbutbildning genomförd: 2026-10-15" in out
    assert "  utdrag ur belastningsregistret kontrollerat: saknas" in out
    assert (
        "Saknas: utdrag ur belastningsregistret kontrollerat, låst förvaring för kort, egen pc "
        "(inte Mac) med två lediga USB-portar, internet på utlämningsplatsen"
    ) in out

    assert _load(capsys, tmp_path, network_toml())[0] == 0
    code, out, _ = run_cli(capsys, "admin", "show", "anna@example.se")
    assert code == 0 and "Läge: aktiv" in out and "Inget saknas." in out


def test_admin_show_of_an_unknown_email_exits_2(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "admin", "show", "ingen@example.se")
    assert code == 2 and out == ""
    assert "Ingen ID-administratör har e-postadressen «ingen@example.se»." in err


def test_admin_show_of_a_recruited_administrator(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = network_toml(eligibility=eligibility_toml(onboarding=""))
    assert _load(capsys, tmp_path, content)[0] == 0
    out = run_cli(capsys, "admin", "show", "anna@example.se")[1]
    assert "Läge: rekryterad" in out
    assert out.count(": saknas") == 6


def test_a_reload_keeps_the_dates_the_file_leaves_out_and_audits_what_it_sets(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A date set on the dashboard stays when the file has no date for that item; a date in
    the file wins."""
    full = network_toml()
    assert _load(capsys, tmp_path, full)[0] == 0
    partial = network_toml(eligibility=eligibility_toml(onboarding="contract_signed = 2021-02-03"))
    assert _load(capsys, tmp_path, partial)[0] == 0
    (anna,) = _admins(env)
    assert anna.contract_signed == date(2021, 2, 3)
    assert anna.record_checked == date(2020, 1, 15)  # left out of the file: kept

    async def events(session):  # type: ignore[no-untyped-def]
        query_ = select(AuditEvent).where(AuditEvent.action == "admin.onboarding")
        return [e.data for e in (await session.exec(query_.order_by(col(AuditEvent.seq)))).all()]

    first, second = query(env, events)
    assert first["source"] == "network_file" and len(first["items"]) == 6
    assert second["items"] == {"contract_signed": "2021-02-03"}


def test_an_office_with_only_onboarding_administrators_takes_no_new_cards(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = network_toml(eligibility=eligibility_toml(onboarding=PARTLY_ONBOARDED))
    assert _load(capsys, tmp_path, content)[0] == 0
    orders = write(tmp_path, "o.csv", orders_csv(csv_row()))
    code, _, err = run_cli(capsys, "cards", "import", str(orders))
    assert code == 2
    assert f"{orders}:2: office_code: kontoret «UPS1» har ingen aktiv ID-administratör" in err
    assert _load(capsys, tmp_path, network_toml())[0] == 0  # onboarding finished
    assert run_cli(capsys, "cards", "import", str(orders))[0] == 0


# ---------------------------------------------------------------- coverage at load


def test_a_window_shorter_than_one_slot_is_refused(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    windows = (
        '[ { weekday = "tue", start = "16:00", end = "16:10", venue = "cafe" },\n'
        '  { weekday = "thu", start = "08:00", end = "10:00", venue = "cafe" } ]'
    )
    content = network_toml(windows=windows)
    code, _, err, path = _load(capsys, tmp_path, content)
    assert code == 2
    assert (
        f"{path}:{line_of(content, 'windows =')}: end: tiden är 10 minuter, kortare än ett möte "
        "(slot_minutes = 15)"
    ) in err
    assert _admins(env) == []


def test_a_venue_in_another_town_is_loaded_with_a_warning(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content = network_toml().replace("753 33 Uppsala", "171 45 Solna")
    code, out, err, path = _load(capsys, tmp_path, content)
    assert code == 0, err
    line = line_of(content, 'address = "Svartbäcksgatan 22')
    assert f"varning: {path}:{line}: address: ligger i Solna, inte i kontorets ort Uppsala" in out
    assert "Läste in 1 kontor" in out
    same_town = network_toml().replace("753 33 Uppsala", "753 33  UPPSALA")
    code, out, _, _ = _load(capsys, tmp_path, same_town)
    assert code == 0 and "varning" not in out


def test_admin_show_tells_a_notice_and_its_end(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _load(capsys, tmp_path, network_toml())[0] == 0
    given = local_day(utcnow()) - timedelta(days=3)
    code, _, err = run_cli(capsys, "admin", "notice", "anna@example.se", "--on", given.isoformat())
    assert code == 0, err
    out = run_cli(capsys, "admin", "show", "anna@example.se")[1]
    assert "Läge: uppsagd" in out
    ends = notice_end(given).isoformat()
    assert f"Uppsagt {given.isoformat()}; uppsägningstiden slutar {ends}." in out
    assert "Inget saknas." in out
