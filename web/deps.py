"""FastAPI dependencies: the services the app was built with, its settings, a session per request.

`web` sits below the composition root (`kortkontor`), so it names what it needs as protocols;
`kortkontor.wiring.Services` and `kortkontor.settings.Settings` satisfy them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Protocol

from fastapi import Depends, Request
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models.crypto import PersonnummerVault
from models.db import transaction


class WebSettings(Protocol):
    """The settings the web app reads."""

    @property
    def twilio_auth_token(self) -> SecretStr | None: ...

    @property
    def public_base_url(self) -> str | None: ...

    @property
    def kortkontor_api_token(self) -> SecretStr | None: ...

    @property
    def kortkontor_secret_key(self) -> SecretStr | None: ...

    @property
    def dashboard_idle_minutes(self) -> int: ...

    @property
    def metrics_token(self) -> SecretStr | None: ...

    @property
    def cookie_secure(self) -> bool: ...


class WebServices(Protocol):
    """What the web app needs from the composition root."""

    @property
    def settings(self) -> WebSettings: ...

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def vault(self) -> PersonnummerVault: ...


def get_services(request: Request) -> WebServices:
    """The services `create_app` was given."""
    services: WebServices = request.app.state.services
    return services


ServicesDep = Annotated[WebServices, Depends(get_services)]


def get_settings(services: ServicesDep) -> WebSettings:
    """The process's one settings object."""
    return services.settings


SettingsDep = Annotated[WebSettings, Depends(get_settings)]


def get_vault(services: ServicesDep) -> PersonnummerVault:
    """The personnummer vault: encrypts and fingerprints what the API receives."""
    return services.vault


VaultDep = Annotated[PersonnummerVault, Depends(get_vault)]


def get_secret_key(settings: SettingsDep) -> str | None:
    """KORTKONTOR_SECRET_KEY, which signs links; None when unset (signed links are then off)."""
    key = settings.kortkontor_secret_key
    return key.get_secret_value() if key is not None and key.get_secret_value() else None


SecretKeyDep = Annotated[str | None, Depends(get_secret_key)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """A session in one transaction: committed after the handler, rolled back if it raises."""
    async with transaction(services.sessions) as session:
        yield session


# scope="function" commits before the response goes out: a 2xx means the change is stored,
# and a failed commit answers 500 (so Twilio, say, retries) instead of a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
