"""The operator dashboard: Swedish pages under /dashboard, server-rendered, no JavaScript needed.

`create_app` calls `install(app, secret_key=...)` once; it adds the session cookie (which holds
one random token: the sessions themselves are kept in the database), the error pages for a
missing login, a missing CSRF token and a role that does not allow an action, and the routes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import datetime, timedelta

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.middleware.sessions import SessionMiddleware

from models.operator_sessions import Limits
from models.types import utcnow
from web.dashboard import auth, operators, routes
from web.dashboard.csrf import CsrfRejected
from web.dashboard.deps import DashboardKeys
from web.dashboard.pages import PREFIX, render
from web.dashboard.texts import Texts

COOKIE = "kortkontor_dashboard"

t = Texts()


def _derived(secret_key: str, label: str) -> str:
    return hmac.new(secret_key.encode(), label.encode(), hashlib.sha256).hexdigest()


def session_secret(secret_key: str) -> str:
    """The cookie-signing key: derived from the service's secret key, used for nothing else."""
    return _derived(secret_key, "kortkontor dashboard session")


def dashboard_keys(secret_key: str) -> DashboardKeys:
    """The CSRF and login-throttle keys, each derived under its own label."""
    return DashboardKeys(
        csrf=_derived(secret_key, "kortkontor dashboard csrf").encode(),
        throttle=_derived(secret_key, "kortkontor dashboard login throttle").encode(),
    )


async def _refuse_csrf(request: Request, exc: Exception) -> Response:
    """CsrfRejected: 403, and a page that says to reload the form."""
    return render(request, "message.html", title=t.csrf_title, message=t.csrf_text, status_code=403)


def install(app: FastAPI, *, secret_key: str, clock: Callable[[], datetime] = utcnow) -> None:
    """Add the dashboard to an app made by `create_app` (its services are on `app.state`)."""
    settings = app.state.services.settings
    limits = Limits(
        idle=timedelta(minutes=settings.dashboard_idle_minutes), lifetime=auth.SESSION_LIFETIME
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(secret_key),
        session_cookie=COOKIE,
        # The browser forgets an idle cookie when the server ends its session.
        max_age=int(limits.idle.total_seconds()),
        path=PREFIX,
        same_site="lax",
        # COOKIE_SECURE: on unless the demo or a test turns it off (docs/security.md).
        https_only=app.state.services.settings.cookie_secure,
    )
    app.state.dashboard_clock = clock
    app.state.dashboard_keys = dashboard_keys(secret_key)
    app.state.dashboard_limits = limits
    app.add_exception_handler(auth.LoginRequired, auth.redirect_to_login)
    app.add_exception_handler(auth.RoleRequired, auth.refuse_role)
    app.add_exception_handler(CsrfRejected, _refuse_csrf)
    app.include_router(auth.router)
    app.include_router(routes.router)
    app.include_router(operators.router)
