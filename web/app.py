"""The FastAPI application: a small composition of routers over the process's services."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Route

from web import (
    api,
    calendar_feed,
    dashboard,
    metrics,
    public,
    readiness,
    telegram_webhook,
    twilio_hooks,
)
from web.deps import WebServices


class Health(BaseModel):
    """The liveness answer."""

    status: Literal["ok"] = "ok"


health = APIRouter()


@health.get("/healthz")
async def healthz() -> Health:
    """The process serves HTTP."""
    return Health()


async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, without echoing the input: it may hold a personnummer."""
    detail = [
        {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
        for item in error.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


async def http_error(request: Request, error: StarletteHTTPException) -> Response:
    """FastAPI's answer, but a 405's Allow lists the methods of every route on the path.

    Starlette lists only the first route's methods, so GET /x and POST /x would each deny the other.
    """
    if error.status_code != 405:
        return await http_exception_handler(request, error)
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods or set()
    headers = {**(error.headers or {}), "Allow": ", ".join(sorted(methods))}
    return JSONResponse({"detail": error.detail}, status_code=405, headers=headers)


def create_app(services: WebServices) -> FastAPI:
    """The web app on these services; build it once per process."""
    app = FastAPI(title="Kortkontor", summary="The issuer's API for SITHS card handouts")
    app.state.services = services
    # The composition root sets the bot's update handler when it runs in webhook mode.
    app.state.telegram_updates = None
    # … and the SMS chat's handler of inbound messages (web/twilio_hooks.py).
    app.state.sms_messages = None
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.include_router(health)
    readiness.install(app)
    metrics.install(app, services.sessions)
    app.include_router(public.router)
    app.include_router(api.router)
    app.include_router(calendar_feed.router)
    app.include_router(telegram_webhook.router)
    app.include_router(twilio_hooks.router)
    key = services.settings.kortkontor_secret_key
    if key is not None and key.get_secret_value():
        # The dashboard's sessions are signed with a key derived from the secret key.
        dashboard.install(app, secret_key=key.get_secret_value())
    return app
