"""The composition root's parts, built once per process from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from kortkontor.settings import Settings
from models.crypto import PersonnummerVault
from models.db import make_engine, make_sessionmaker


@dataclass(frozen=True, slots=True)
class Services:
    """What commands and the service share: settings, database and the personnummer vault."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    vault: PersonnummerVault

    async def close(self) -> None:
        """Release the database connections."""
        await self.engine.dispose()


def build_services(settings: Settings, *, secret_key: str | None = None) -> Services:
    """Engine, sessions and vault; the secret key comes from the settings unless given."""
    engine = make_engine(settings.database_url)
    return Services(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        vault=PersonnummerVault(
            secret_key or settings.secret_key(), old_keys=settings.old_secret_keys()
        ),
    )
