"""Shared fixtures: a fresh, migrated database per test (SQLite, or PostgreSQL when
TEST_DATABASE_URL is set), the services on it, and a guard against personnummer in logs."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from kortkontor.settings import Settings
from kortkontor.wiring import Services, build_services
from models.migrate import upgrade_to_head
from tests.factories import ALL_TEST_PERSONNUMMER, made_personnummer

TEST_SECRET_KEY = "test-secret-key-not-for-production-0123456789"
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
requires_postgres = pytest.mark.skipif(
    not POSTGRES_URL, reason="PostgreSQL test: set TEST_DATABASE_URL (.ci/run does when it answers)"
)


def _pg_admin_conninfo(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate once per run; every test then copies the result."""
    if POSTGRES_URL:
        name = f"kk_template_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(_pg_admin_conninfo(POSTGRES_URL), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        upgrade_to_head(url)
        yield name
        with psycopg.connect(_pg_admin_conninfo(POSTGRES_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade_to_head(f"sqlite:///{path}")
        yield str(path)


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database for this test, already at the newest migration."""
    if POSTGRES_URL:
        name = f"kk_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(_pg_admin_conninfo(POSTGRES_URL), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        with psycopg.connect(_pg_admin_conninfo(POSTGRES_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "kortkontor.db"
        shutil.copyfile(migrated_template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def env(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The environment a CLI call sees: the test database and a secret key, no .env file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("KORTKONTOR_SECRET_KEY", TEST_SECRET_KEY)
    for name in ("TELEGRAM_BOT_TOKEN", "TWILIO_ACCOUNT_SID", "SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    return database_url


@pytest.fixture
async def services(database_url: str) -> AsyncIterator[Services]:
    """Engine, sessions and vault on the test database; cookies without Secure, since the tests'
    clients talk plain http."""
    settings = Settings(database_url=database_url, cookie_secure=False)
    built = build_services(settings, secret_key=TEST_SECRET_KEY)
    yield built
    await built.close()


@pytest.fixture(autouse=True)
def no_personnummer_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test: nothing logged at INFO or above carries a test personnummer, whether a
    fixture's or one the row factory made during the test."""
    caplog.set_level(logging.INFO)
    made_before = len(made_personnummer)
    yield
    text = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    for number in (*ALL_TEST_PERSONNUMMER, *made_personnummer[made_before:]):
        assert number not in text, "a personnummer reached the log"
