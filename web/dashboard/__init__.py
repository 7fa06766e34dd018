"""The operator dashboard: Swedish pages under /dashboard, server-rendered, no JavaScript needed.

`create_app` calls `install(app, secret_key=...)` once; it adds the session cookie, the error
pages for a missing login and a missing CSRF token, and the routes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.middleware.sessions import SessionMiddleware

from models.types import utcnow
from web.dashboard import auth, routes
from web.dashboard.csrf import CsrfRejected
from web.dashboard.pages import PREFIX, render
from web.dashboard.texts import Texts

COOKIE = "kortkontor_dashboard"

t = Texts()


def session_secret(secret_key: str) -> str:
    """The cookie-signing key: derived from the service's secret key, used for nothing else."""
    digest = hmac.new(secret_key.encode(), b"kortkontor dashboard session", hashlib.sha256)
    return digest.hexdigest()


async def _refuse_csrf(request: Request, exc: Exception) -> Response:
    """CsrfRejected: 403, and a page that says to reload the form."""
    return render(request, "message.html", title=t.csrf_title, message=t.csrf_text, status_code=403)


def install(app: FastAPI, *, secret_key: str, clock: Callable[[], datetime] = utcnow) -> None:
    """Add the dashboard to an app made by `create_app` (its services are on `app.state`)."""
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(secret_key),
        session_cookie=COOKIE,
        max_age=auth.IDLE_SECONDS,
        path=PREFIX,
        same_site="lax",
        # COOKIE_SECURE: on unless the demo or a test turns it off (docs/security.md).
        https_only=app.state.services.settings.cookie_secure,
    )
    app.state.dashboard_clock = clock
    app.add_exception_handler(auth.LoginRequired, auth.redirect_to_login)
    app.add_exception_handler(CsrfRejected, _refuse_csrf)
    app.include_router(auth.router)
    app.include_router(routes.router)
