"""`/readyz`: whether this process should be given traffic. The database answers, its schema is
the one the code expects, and every part the composition root registered a probe for runs
(`kortkontor serve` registers the bot and the jobs; web never imports them)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from models.migrate import database_revisions, script_head
from web.deps import WebServices

logger = logging.getLogger(__name__)

# A probe answers (running, why not); it must be quick and must not block.
Probe = Callable[[], tuple[bool, str]]
OK = "ok"
# A database slower than this to answer counts as not answering.
DATABASE_TIMEOUT_SECONDS = 5.0

router = APIRouter()


class Readiness(BaseModel):
    """The readiness answer: each check's «ok» or the reason it fails."""

    status: Literal["ready", "not ready"]
    checks: dict[str, str]


def install(app: FastAPI) -> None:
    """Serve /readyz; the schema head is read from the migration files once, here."""
    app.state.schema_head = script_head()
    app.state.readiness_probes = {}
    app.include_router(router)


def add_probe(app: FastAPI, name: str, probe: Probe) -> None:
    """Have /readyz also ask `probe` (the composition root registers the parts it runs)."""
    probes: dict[str, Probe] = app.state.readiness_probes
    probes[name] = probe


async def _database(services: WebServices, head: str) -> dict[str, str]:
    """The database's and the schema's checks."""
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS), services.sessions() as session:
            connection = await session.connection()
            revisions = await connection.run_sync(database_revisions)
    except Exception as error:
        # The class only: a driver's message may carry the URL.
        logger.warning("readiness: the database does not answer (%s)", type(error).__name__)
        return {"database": f"does not answer ({type(error).__name__})", "schema": "unknown"}
    if revisions == (head,):
        return {"database": OK, "schema": OK}
    found = ", ".join(revisions) or "none"
    return {
        "database": OK,
        "schema": f"at {found}, the code expects {head}: run `kortkontor db upgrade`",
    }


def _probe(name: str, probe: Probe) -> str:
    try:
        running, reason = probe()
    except Exception as error:
        logger.exception("readiness: the %s probe failed", name)
        return f"probe failed ({type(error).__name__})"
    return OK if running else reason


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: the failing checks say why"}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 when the database answers at the expected schema and every registered part runs."""
    app = request.app
    checks = await _database(app.state.services, app.state.schema_head)
    probes: dict[str, Probe] = app.state.readiness_probes
    checks.update({name: _probe(name, probe) for name, probe in probes.items()})
    ready = all(value == OK for value in checks.values())
    answer = Readiness(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(answer.model_dump(), status_code=200 if ready else 503)
