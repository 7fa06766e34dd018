"""CSRF protection: a random token per session, in every form, checked on every POST."""

from __future__ import annotations

import logging
import secrets

from fastapi import Request

SESSION_KEY = "csrf"
FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

logger = logging.getLogger(__name__)


class CsrfRejected(Exception):
    """A POST without the session's CSRF token; answered 403."""


def csrf_token(request: Request) -> str:
    """The session's token, made on first use."""
    token = request.session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[SESSION_KEY] = token
    return token


def renew_csrf_token(request: Request) -> str:
    """A fresh token, as after logging in."""
    request.session.pop(SESSION_KEY, None)
    return csrf_token(request)


async def require_csrf(request: Request) -> None:
    """Every unsafe request carries the session's token in its form; else CsrfRejected."""
    if request.method in SAFE_METHODS:
        return
    expected = request.session.get(SESSION_KEY)
    # Starlette caches the parsed form, so the route reads the same one.
    given = (await request.form()).get(FORM_FIELD)
    if (
        isinstance(expected, str)
        and expected
        and isinstance(given, str)
        and secrets.compare_digest(expected.encode(), given.encode())
    ):
        return
    logger.warning(
        "dashboard: %s %s refused: CSRF token missing or wrong", request.method, request.url.path
    )
    raise CsrfRejected
