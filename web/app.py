"""The FastAPI application: a small composition of routers over the process's services."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from web import twilio_hooks
from web.deps import WebServices


class Health(BaseModel):
    """The liveness answer."""

    status: Literal["ok"] = "ok"


health = APIRouter()


@health.get("/healthz")
async def healthz() -> Health:
    """The process serves HTTP."""
    return Health()


def create_app(services: WebServices) -> FastAPI:
    """The web app on these services; build it once per process."""
    app = FastAPI(title="Kortkontor")
    app.state.services = services
    app.include_router(health)
    app.include_router(twilio_hooks.router)
    return app
