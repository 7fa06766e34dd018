"""`kortkontor db backup` while `serve` runs, and the restore docs/operations.md describes:
the copy in a fresh folder passes `audit verify`, and `serve` starts on it."""

from __future__ import annotations

import asyncio
import re
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from kortkontor.wiring import Services
from tests.bot.world import build_world
from tests.conftest import POSTGRES_URL
from tests.kortkontor.cli_helpers import run_cli
from tests.kortkontor.test_serve import KORTKONTOR, _environment, _wait_for_line

sqlite_only = pytest.mark.skipif(
    bool(POSTGRES_URL), reason="the backup command copies SQLite; PostgreSQL uses pg_dump"
)


def _audit_events(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM audit_event").fetchone()
    return int(count)


def _serve(database_url: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*KORTKONTOR, "serve"],
        env=_environment(database_url),
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@sqlite_only
async def test_backup_while_serving_restores_verifies_and_serves(
    services: Services, database_url: str, tmp_path: Path
) -> None:
    await build_world(services)  # offices, admins and cards: audited events to carry over
    await services.close()
    await asyncio.to_thread(_back_up_restore_and_serve, database_url, tmp_path)


def _back_up_restore_and_serve(database_url: str, tmp_path: Path) -> None:
    """Back up under serve, restore into a fresh folder, verify it, and serve it."""
    work = tmp_path / "work"
    work.mkdir()
    backup = tmp_path / "kortkontor-backup.db"

    serving = _serve(database_url, work)
    try:
        _wait_for_line(serving, "kortkontor ready")
        done = subprocess.run(
            [*KORTKONTOR, "db", "backup", str(backup)],
            env=_environment(database_url),
            capture_output=True,
            text=True,
            cwd=work,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert f"Databasen är säkerhetskopierad till {backup}." in done.stdout
        assert serving.poll() is None  # serve went on meanwhile
    finally:
        _stop(serving)

    # The restore: the copy, alone, as the database of a fresh folder.
    fresh = tmp_path / "restored"
    fresh.mkdir()
    shutil.copyfile(backup, fresh / "kortkontor.db")
    assert not (fresh / "kortkontor.db-wal").exists()
    assert _audit_events(fresh / "kortkontor.db") > 0
    restored_url = f"sqlite:///{fresh / 'kortkontor.db'}"
    verified = subprocess.run(
        [*KORTKONTOR, "audit", "verify"],
        env=_environment(restored_url),
        capture_output=True,
        text=True,
        cwd=fresh,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stderr
    assert "Granskningsloggens kedja är obruten." in verified.stdout
    restored = _serve(restored_url, fresh)
    try:
        ready = _wait_for_line(restored, "kortkontor ready")[-1]
        # The process serves its probes too: ready, and metrics to this (local) client.
        port = re.search(r"web on 127\.0\.0\.1:(\d+)", ready)
        assert port is not None, ready
        base = f"http://127.0.0.1:{port[1]}"
        readiness = httpx.get(f"{base}/readyz", timeout=10)
        assert readiness.status_code == 200, readiness.text
        metrics = httpx.get(f"{base}/metrics", timeout=10)
        assert metrics.status_code == 200 and "kortkontor_leader 1.0" in metrics.text
    finally:
        _stop(restored)


@sqlite_only
def test_backup_refuses_to_overwrite_a_file(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "taken.db"
    existing.write_bytes(b"keep me")
    code, _, err = run_cli(capsys, "db", "backup", str(existing))
    assert code == 2
    assert "filen finns redan" in err
    assert existing.read_bytes() == b"keep me"
    code, _, err = run_cli(capsys, "db", "backup", str(tmp_path / "no-such-folder" / "x.db"))
    assert code == 2 and "mappen finns inte" in err


def test_backup_of_postgresql_points_to_pg_dump(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://kortkontor@localhost/kortkontor")
    code, out, err = run_cli(capsys, "db", "backup", str(tmp_path / "copy.db"))
    assert code == 2 and out == ""
    assert "Säkerhetskopiera PostgreSQL med pg_dump (se docs/operations.md)." in err
    assert not (tmp_path / "copy.db").exists()
