"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import models  # noqa: F401  registers every table
from kortkontor.wiring import Services


async def test_models_and_migrations_do_not_drift(services: Services) -> None:
    def diff(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with services.engine.connect() as connection:
        changes = await connection.run_sync(diff)
    assert changes == [], f"run `alembic revision --autogenerate`: {changes}"


async def test_upgrade_reaches_head(services: Services) -> None:
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from models.migrate import MIGRATIONS_DIR, alembic_config

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert MIGRATIONS_DIR.is_dir()
    async with services.engine.connect() as connection:
        current = (
            await connection.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar()
    assert current == head
