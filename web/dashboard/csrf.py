"""CSRF protection: every form carries a token derived from the cookie's token, checked on every
POST.

The form's token is an HMAC of the cookie's random token under a key of its own, so a page can
show it without showing the cookie, and a new cookie token (at login) makes a new form token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from fastapi import Request

from web.dashboard.cookie import cookie_token, ensure_cookie_token
from web.dashboard.deps import keys_of

FORM_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

logger = logging.getLogger(__name__)


class CsrfRejected(Exception):
    """A POST without the session's CSRF token; answered 403."""


def _form_token(request: Request, token: str) -> str:
    key = keys_of(request).csrf
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The token the page's forms carry (the cookie's token is made on first use)."""
    return _form_token(request, ensure_cookie_token(request))


async def require_csrf(request: Request) -> None:
    """Every unsafe request carries the cookie's form token in its form; else CsrfRejected."""
    if request.method in SAFE_METHODS:
        return
    token = cookie_token(request)
    # Starlette caches the parsed form, so the route reads the same one.
    given = (await request.form()).get(FORM_FIELD)
    if (
        token is not None
        and isinstance(given, str)
        and secrets.compare_digest(_form_token(request, token).encode(), given.encode())
    ):
        return
    logger.warning(
        "dashboard: %s %s refused: CSRF token missing or wrong", request.method, request.url.path
    )
    raise CsrfRejected
