"""A database that does not exist, has no tables, or cannot be written: one Swedish line with
the cause and the fix, exit 2; the traceback only with --debug."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command

from models.migrate import alembic_config
from tests.kortkontor.cli_helpers import run_cli
from tests.kortkontor.processes import KORTKONTOR, environment

UPGRADE = "kör `kortkontor db upgrade`"


def _without_write_override() -> list[str]:
    """Root writes anywhere: drop that capability, so that file modes count (as for a
    service user)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: a read-only folder cannot be simulated")
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", "--"]


def _serve(database: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_without_write_override(), *KORTKONTOR, *args, "serve"],
        env=environment(f"sqlite:///{database}"),
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """A migrated SQLite database in a folder the service may read but not write (SQLite's
    own files, so whatever database the rest of the suite runs on)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    database = folder / "kortkontor.db"
    command.upgrade(alembic_config(f"sqlite:///{database}"), "head")
    folder.chmod(0o555)
    yield database
    folder.chmod(0o755)


def test_serve_on_a_database_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    done = _serve(missing, tmp_path)
    assert done.returncode == 2
    assert done.stderr == f"Databasen {missing} finns inte: {UPGRADE} för att skapa den.\n"
    assert not missing.exists()  # not created as a side effect


def test_serve_on_a_database_without_tables(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    done = _serve(empty, tmp_path)
    assert done.returncode == 2
    assert done.stderr == f"Databasen saknar tabeller: {UPGRADE}.\n"


def test_serve_on_a_read_only_folder(read_only_folder: Path, tmp_path: Path) -> None:
    done = _serve(read_only_folder, tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        f"Databasen {read_only_folder} är skrivskyddad: ge tjänsten skrivrätt till filen och "
        f"till mappen {read_only_folder.parent} (där SQLite har sin journal).\n"
    )


def test_debug_adds_the_traceback(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    done = _serve(empty, tmp_path, "--debug")
    assert done.returncode == 2
    assert "Traceback" in done.stderr and "DatabaseUnusable" in done.stderr
    assert done.stderr.endswith(f"Databasen saknar tabeller: {UPGRADE}.\n")


@pytest.mark.parametrize(
    "argv",
    [
        ("status",),
        ("outbox", "list"),
        ("audit", "verify"),
        ("cards", "set-status", "SE-1", "shipped"),
    ],
)
def test_other_commands_say_the_same(
    env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    argv: tuple[str, ...],
) -> None:
    missing = tmp_path / "missing.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    code, out, err = run_cli(capsys, *argv)
    assert (code, out) == (2, "")
    assert err == f"Databasen {missing} finns inte: {UPGRADE} för att skapa den.\n"
    assert not missing.exists()
    assert "Traceback" not in caplog.text
    # `--debug` after the command works too (in-process, the traceback goes to pytest's log).
    code, _, err = run_cli(capsys, *argv, "--debug")
    assert code == 2 and "DatabaseUnusable" in caplog.text


def test_an_older_schema_asks_for_the_upgrade(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0010")
    monkeypatch.setenv("DATABASE_URL", url)
    code, _, err = run_cli(capsys, "status")
    assert code == 2
    assert err.startswith("Databasens schema har version 0010, men den här versionen")
    assert err.endswith(f": {UPGRADE}.\n")
    assert run_cli(capsys, "db", "upgrade")[:2] == (0, "Databasen är uppdaterad.\n")
    assert run_cli(capsys, "status")[0] != 2


def test_upgrade_needs_an_existing_folder(
    env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "nowhere"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{folder / 'k.db'}")
    code, _, err = run_cli(capsys, "db", "upgrade")
    assert code == 2
    assert err == (
        f"Databasens mapp {folder} finns inte: skapa den, eller låt DATABASE_URL peka på en "
        "fil i en mapp som finns.\n"
    )


def test_an_unreachable_server_is_one_line(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Port 9 (discard) has no PostgreSQL behind it.
    monkeypatch.setenv("DATABASE_URL", "postgresql://kortkontor:hemligt@127.0.0.1:9/kortkontor")
    code, _, err = run_cli(capsys, "status")
    assert code == 2
    assert err.startswith("Databasservern går inte att nå (") and err.count("\n") == 1
    assert "hemligt" not in err


def test_a_setting_out_of_range_is_named_without_its_value(
    env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DASHBOARD_IDLE_MINUTES", "0")
    code, out, err = run_cli(capsys, "status")
    assert (code, out) == (2, "")
    assert err.startswith("Inställningen DASHBOARD_IDLE_MINUTES har ett värde som inte är tillåtet")
    assert err.endswith(": ändra det.\n") and "Traceback" not in err
