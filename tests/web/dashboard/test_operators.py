"""Operators: argon2 passwords and roles in the model, and `kortkontor operator add EMAIL
[--role viewer|payroll|admin]`."""

from __future__ import annotations

import getpass
import io
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.audit import AuditEvent
from models.errors import InvalidInput
from models.operator_sessions import EndReason, OperatorSession, open_session
from models.operators import (
    MIN_PASSWORD_LENGTH,
    Operator,
    OperatorRole,
    check_password,
    hash_password,
    operator_email,
    rehashed,
    verify_password,
)
from models.types import utcnow
from tests.kortkontor.cli_helpers import query, run_cli

PASSWORD = "en lång lösenfras 2027"


def test_a_password_is_stored_as_an_argon2id_hash() -> None:
    stored = hash_password(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD)
    assert not verify_password(stored, PASSWORD + " ")
    assert not verify_password("not a hash", PASSWORD)


@pytest.mark.parametrize("password", ["", "x" * (MIN_PASSWORD_LENGTH - 1), "y" * 1025])
def test_too_short_or_absurd_passwords_are_refused(password: str) -> None:
    with pytest.raises(InvalidInput):
        check_password(password)


def test_a_weak_hash_is_renewed_at_login() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    renewed = rehashed(weak, PASSWORD)
    assert renewed is not None and verify_password(renewed, PASSWORD)
    assert rehashed(renewed, PASSWORD) is None


def test_emails_are_kept_lower_case() -> None:
    assert operator_email(" Operator@Example.SE ") == "operator@example.se"
    with pytest.raises(InvalidInput):
        operator_email("not an address")


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """A piped standard input (not a terminal)."""
    piped = io.StringIO()
    monkeypatch.setattr("sys.stdin", piped)
    yield piped


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


async def _operators(session: AsyncSession) -> list[Operator]:
    return list((await session.exec(select(Operator).order_by(col(Operator.id)))).all())


async def _operator_events(session: AsyncSession) -> list[tuple[str, int]]:
    rows = await session.exec(
        select(AuditEvent).where(AuditEvent.entity == "operator").order_by(col(AuditEvent.seq))
    )
    return [(event.action, event.entity_id) for event in rows]


def test_operator_add_reads_the_password_from_stdin(
    env: str, stdin: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin.write(PASSWORD + "\n")
    stdin.seek(0)
    code, out, err = run_cli(capsys, "operator", "add", "Operator@Example.se")
    assert (code, err) == (0, "")
    assert "Operatören operator@example.se är tillagd" in out
    assert PASSWORD not in out
    (operator,) = query(env, _operators)
    assert operator.email == "operator@example.se"
    assert verify_password(operator.password_hash, PASSWORD)
    assert operator.last_login_at is None
    assert query(env, _operator_events) == [("operator.added", operator.id)]


def test_adding_again_sets_a_new_password(
    env: str, stdin: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin.write(PASSWORD + "\n")
    stdin.seek(0)
    assert run_cli(capsys, "operator", "add", "operator@example.se")[0] == 0
    stdin.seek(0)
    stdin.truncate()
    stdin.write("ett annat långt lösenord\n")
    stdin.seek(0)
    code, out, _ = run_cli(capsys, "operator", "add", "operator@example.se")
    assert code == 0 and "har fått ett nytt lösenord" in out
    (operator,) = query(env, _operators)
    assert verify_password(operator.password_hash, "ett annat långt lösenord")
    assert not verify_password(operator.password_hash, PASSWORD)
    assert [action for action, _ in query(env, _operator_events)] == [
        "operator.added",
        "operator.password_set",
    ]


@pytest.mark.parametrize(
    ("email", "typed", "message"),
    [
        ("inte-en-adress", PASSWORD + "\n", "inte-en-adress: är ingen giltig e-postadress"),
        ("operator@example.se", "för kort\n", "Lösenordet måste vara minst 12 tecken långt."),
        ("operator@example.se", "", "Inget lösenord på standardinmatningen (stdin). Inget skrevs."),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    env: str,
    stdin: io.StringIO,
    capsys: pytest.CaptureFixture[str],
    email: str,
    typed: str,
    message: str,
) -> None:
    stdin.write(typed)
    stdin.seek(0)
    code, out, err = run_cli(capsys, "operator", "add", email)
    assert code == 2
    assert message in err and out == ""
    assert query(env, _operators) == []


def test_at_a_terminal_the_password_is_typed_twice(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typed = iter([PASSWORD, PASSWORD])
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(typed)

    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    assert run_cli(capsys, "operator", "add", "operator@example.se")[0] == 0
    assert prompts == ["Lösenord: ", "Lösenord igen: "]
    (operator,) = query(env, _operators)
    assert verify_password(operator.password_hash, PASSWORD)


def test_two_different_passwords_at_a_terminal_write_nothing(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typed = iter([PASSWORD, PASSWORD + "!"])
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(typed))
    code, _, err = run_cli(capsys, "operator", "add", "operator@example.se")
    assert code == 2 and "Lösenorden skiljer sig åt" in err
    assert query(env, _operators) == []


# -- roles ----------------------------------------------------------------------------------------


def _type(stdin: io.StringIO, password: str = PASSWORD) -> None:
    stdin.seek(0)
    stdin.truncate()
    stdin.write(password + "\n")
    stdin.seek(0)


def test_a_new_operator_is_a_viewer(
    env: str, stdin: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    _type(stdin)
    code, out, _ = run_cli(capsys, "operator", "add", "operator@example.se")
    assert code == 0 and "är tillagd som läsare" in out
    (operator,) = query(env, _operators)
    assert operator.role == OperatorRole.viewer


@pytest.mark.parametrize(
    ("role", "name"), [("payroll", "lönehandläggare"), ("ADMIN", "huvudanvändare")]
)
def test_operator_add_takes_a_role(
    env: str, stdin: io.StringIO, capsys: pytest.CaptureFixture[str], role: str, name: str
) -> None:
    _type(stdin)
    code, out, _ = run_cli(capsys, "operator", "add", "operator@example.se", "--role", role)
    assert code == 0 and f"är tillagd som {name}" in out
    (operator,) = query(env, _operators)
    assert operator.role == role.lower()
    events = query(env, _operator_event_data)
    assert events == [("operator.added", {"role": role.lower()})]


def test_adding_again_keeps_the_role_unless_one_is_given(
    env: str, stdin: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    _type(stdin)
    assert run_cli(capsys, "operator", "add", "operator@example.se", "--role", "admin")[0] == 0
    _type(stdin)
    assert run_cli(capsys, "operator", "add", "operator@example.se")[0] == 0
    assert query(env, _operators)[0].role == OperatorRole.admin
    _type(stdin)
    assert run_cli(capsys, "operator", "add", "operator@example.se", "--role", "viewer")[0] == 0
    assert query(env, _operators)[0].role == OperatorRole.viewer
    assert query(env, _operator_event_data) == [
        ("operator.added", {"role": "admin"}),
        ("operator.password_set", {}),
        ("operator.password_set", {}),
        ("operator.role_set", {"role": "viewer", "previous": "admin"}),
    ]


def test_an_unknown_role_exits_2_and_writes_nothing(
    env: str, stdin: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    _type(stdin)
    code, out, err = run_cli(capsys, "operator", "add", "operator@example.se", "--role", "boss")
    assert code == 2 and out == ""
    assert "boss: «boss» är ingen roll: använd viewer, payroll eller admin." in err
    assert query(env, _operators) == []


def test_a_new_password_ends_the_operators_sessions_and_no_one_elses(
    env: str, stdin: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    for email in ("operator@example.se", "colleague@example.se"):
        _type(stdin)
        assert run_cli(capsys, "operator", "add", email)[0] == 0

    async def log_in_both(session: AsyncSession) -> None:
        for number, operator in enumerate(await _operators(session)):
            assert operator.id is not None
            for device in range(2):
                token = f"token-{number}-{device}"
                await open_session(session, operator_id=operator.id, token=token, now=utcnow())

    query(env, log_in_both)
    _type(stdin, "ett annat långt lösenord")
    code, out, _ = run_cli(capsys, "operator", "add", "operator@example.se")
    assert code == 0 and "alla öppna sessioner har avslutats" in out

    async def sessions(session: AsyncSession) -> list[tuple[int, EndReason | None]]:
        rows = await session.exec(select(OperatorSession).order_by(col(OperatorSession.id)))
        return sorted((row.operator_id, row.end_reason) for row in rows)

    operator, colleague = sorted(
        query(env, _operators), key=lambda o: o.email != "operator@example.se"
    )
    assert query(env, sessions) == sorted(
        [(operator.id, EndReason.password)] * 2 + [(colleague.id, None)] * 2
    )


async def _operator_event_data(session: AsyncSession) -> list[tuple[str, dict[str, object]]]:
    rows = await session.exec(
        select(AuditEvent).where(AuditEvent.entity == "operator").order_by(col(AuditEvent.seq))
    )
    return [(event.action, event.data) for event in rows]
