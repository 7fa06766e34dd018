"""Whether the database can serve this version: its file (SQLite), the server, the schema.

Checked before a command touches the database, so that a database that does not exist, has no
tables or cannot be written is one sentence with the cause and the fix, not a traceback from
deep inside a query. A missing SQLite file is never created as a side effect.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from models.errors import DomainError
from models.i18n import N_
from models.migrate import alembic_config

MISSING = N_("The database {path} does not exist: run `kortkontor db upgrade` to create it.")
NO_FOLDER = N_(
    "The database's folder {folder} does not exist: create it, or set DATABASE_URL to a file "
    "in a folder that exists."
)
READ_ONLY = N_(
    "The database {path} is read-only: let the service write to the file and to its folder "
    "{folder} (SQLite keeps its journal there)."
)
NO_TABLES = N_("The database has no tables: run `kortkontor db upgrade`.")
BEHIND = N_(
    "The database schema is at version {current}; this version of Kortkontor needs {head}: "
    "run `kortkontor db upgrade`."
)
AHEAD = N_(
    "The database schema ({current}) is newer than this version of Kortkontor knows: "
    "update Kortkontor."
)
NO_SUCH_DATABASE = N_(
    "The database {name} does not exist on the server: create it (e.g. `createdb {name}`), "
    "then run `kortkontor db upgrade`."
)
UNREACHABLE = N_(
    "The database server cannot be reached ({cause}): check DATABASE_URL and that the server "
    "is running."
)
UNUSABLE = N_("The database cannot be used ({cause}): check DATABASE_URL.")

# PostgreSQL's error codes: no such database, no such table.
INVALID_CATALOG_NAME = "3D000"
UNDEFINED_TABLE = "42P01"


class DatabaseUnusable(DomainError):
    """The database cannot serve this version as it is; the message says why and what to do."""

    code = "database_unusable"


def sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL; None for other databases and in-memory ones."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.query.get("mode") == "memory":
        return None
    return Path(parsed.database).absolute()


def check_sqlite_file(url: str, *, creating: bool = False) -> None:
    """The file exists (or, `creating`, may be made) and the service may write it and its
    folder; DatabaseUnusable when not."""
    path = sqlite_file(url)
    if path is None:
        return
    folder = path.parent
    if not folder.is_dir():
        raise DatabaseUnusable(NO_FOLDER, folder=str(folder))
    if not path.exists() and not creating:
        raise DatabaseUnusable(MISSING, path=str(path))
    writable = os.access(folder, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))
    if not writable:
        raise DatabaseUnusable(READ_ONLY, path=str(path), folder=str(folder))


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def _current_heads(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


async def check_schema(engine: AsyncEngine) -> None:
    """The schema is at this version's newest migration; DatabaseUnusable when not (or when
    the database cannot be reached)."""
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(_current_heads)
    except (DBAPIError, OSError) as error:
        raise explained(error, engine.url.render_as_string()) from error
    if not current:
        raise DatabaseUnusable(NO_TABLES)
    script = _script()
    heads = tuple(script.get_heads())
    if set(current) == set(heads):
        return
    shown = ", ".join(current)
    if any(_unknown(script, revision) for revision in current):
        raise DatabaseUnusable(AHEAD, current=shown)
    raise DatabaseUnusable(BEHIND, current=shown, head=", ".join(heads))


def _unknown(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is None
    except Exception:  # alembic's own errors for a revision it has never heard of
        return True


def _first_line(error: BaseException) -> str:
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__


def explained(error: BaseException, url: str) -> DatabaseUnusable:
    """The database problem behind a driver's error, said as the operator can act on it."""
    if isinstance(error, OSError):
        return DatabaseUnusable(UNREACHABLE, cause=_first_line(error))
    cause = getattr(error, "orig", None)
    code = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    text = str(cause or error).lower()
    if code == INVALID_CATALOG_NAME:
        return DatabaseUnusable(NO_SUCH_DATABASE, name=make_url(url).database or "?")
    if code == UNDEFINED_TABLE or "no such table" in text:
        return DatabaseUnusable(NO_TABLES)
    path = sqlite_file(url)
    if path is not None and ("readonly database" in text or "unable to open" in text):
        if not path.parent.is_dir():
            return DatabaseUnusable(NO_FOLDER, folder=str(path.parent))
        return DatabaseUnusable(READ_ONLY, path=str(path), folder=str(path.parent))
    return DatabaseUnusable(UNUSABLE, cause=_first_line(error))


def database_error(error: BaseException, url: str) -> DatabaseUnusable | None:
    """A query's error that says the database is unusable (as opposed to a bug), explained."""
    if not isinstance(error, DBAPIError):
        return None
    found = explained(error, url)
    return None if found.message_id == UNUSABLE else found
