"""/readyz under `kortkontor.serve.start`: ready when the database is at head and the bot and
the jobs run; 503 with the reason when the schema is behind or the jobs are stopped."""

from __future__ import annotations

import asyncio

from alembic import command
from alembic.script import ScriptDirectory
from pydantic import SecretStr

from kortkontor.wiring import Services
from models.migrate import alembic_config
from tests.fakes.telegram import FakeBotApi
from tests.web.conftest import Started


async def test_ready_with_the_bot_and_the_jobs_running(served: Started) -> None:
    with FakeBotApi() as fake:
        running, client = await served(
            telegram_bot_token=SecretStr(fake.token), telegram_api_base_url=fake.base_url
        )
        answer = await client.get("/readyz")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "status": "ready",
            "checks": {"database": "ok", "schema": "ok", "telegram": "ok", "jobs": "ok"},
        }
        await running.stop()  # while the fake Bot API still answers


async def test_not_ready_once_the_jobs_are_stopped(served: Started) -> None:
    running, client = await served()
    assert (await client.get("/readyz")).status_code == 200
    assert running.jobs is not None
    await running.jobs.shutdown()
    answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["status"] == "not ready"
    assert answer.json()["checks"]["jobs"] == "the dispatcher and its jobs are stopped"
    assert answer.json()["checks"]["database"] == "ok"


async def test_not_ready_when_the_schema_is_behind(served: Started, services: Services) -> None:
    config = alembic_config(services.settings.database_url)
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    assert head is not None
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    _, client = await served()
    assert (await client.get("/readyz")).status_code == 200
    await services.engine.dispose()  # SQLite: no pooled connection holds the old schema open
    await asyncio.to_thread(command.downgrade, config, previous)
    answer = await client.get("/readyz")
    assert answer.status_code == 503
    schema = answer.json()["checks"]["schema"]
    assert schema == f"at {previous}, the code expects {head}: run `kortkontor db upgrade`"
    await asyncio.to_thread(command.upgrade, config, "head")
    assert (await client.get("/readyz")).status_code == 200


async def test_healthz_answers_whatever_the_readiness(served: Started) -> None:
    running, client = await served()
    assert running.jobs is not None
    await running.jobs.shutdown()
    assert (await client.get("/healthz")).json() == {"status": "ok"}
