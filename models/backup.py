"""An online copy of a SQLite database with SQLite's backup API, safe while `serve` writes."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy.engine import make_url

# How long the copy waits for a writer's lock before it gives up (milliseconds).
BUSY_TIMEOUT_MS = 10_000


class NotSqlite(ValueError):
    """The database is not a SQLite file (PostgreSQL is backed up with pg_dump)."""


def sqlite_path(url: str) -> Path:
    """The file a `sqlite:///…` URL names (relative to the working folder, like the engine)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        raise NotSqlite(parsed.get_backend_name())
    return Path(parsed.database)


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy `source` into the new file `target` in one consistent step, then check the copy.

    In WAL mode the copy reads one snapshot while writers go on. The copy is written beside
    the target and renamed into place, so a target that exists is always whole; it leaves WAL
    for a rollback journal, so the backup is one self-contained file.
    """
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with (
            closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000)) as original,
            closing(sqlite3.connect(partial)) as copy,
        ):
            original.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            (verdict,) = copy.execute("PRAGMA quick_check").fetchone()
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"the copy does not check out: {verdict}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
