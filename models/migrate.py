"""Running Alembic from code: `kortkontor db upgrade` and the tests use this."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(url: str) -> None:
    """Bring the schema to the newest migration (blocking; Alembic runs its own loop)."""
    command.upgrade(alembic_config(url), "head")


async def upgrade_to_head_async(url: str) -> None:
    """The same, from inside a running event loop."""
    await asyncio.to_thread(upgrade_to_head, url)


def script_head() -> str:
    """The newest migration's revision, as the code knows it (read the files once per process)."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "the migrations have one head"
    return head


def database_revisions(connection: Connection) -> tuple[str, ...]:
    """The revisions the database is at: none before its first migration."""
    return tuple(MigrationContext.configure(connection).get_current_heads())
