"""The dashboard's cookie holds one opaque random token and nothing else.

Starlette's SessionMiddleware carries it (signed); the session itself is a database row keyed by
the token's hash (models.operator_sessions). A visitor who has not logged in gets a token too:
the login form's CSRF token is tied to it. Logging in replaces it, logging out drops it.
"""

from __future__ import annotations

from fastapi import Request

from models.operator_sessions import new_token

TOKEN = "token"


def cookie_token(request: Request) -> str | None:
    """The browser's token, if it sent one."""
    token = request.session.get(TOKEN)
    return token if isinstance(token, str) and token else None


def ensure_cookie_token(request: Request) -> str:
    """The browser's token, made on first use."""
    return cookie_token(request) or replace_cookie_token(request)


def replace_cookie_token(request: Request) -> str:
    """A fresh token in place of any old one (and of anything else in the cookie)."""
    token = new_token()
    request.session.clear()
    request.session[TOKEN] = token
    return token


def drop_cookie_token(request: Request) -> None:
    """Forget the token: the cookie is cleared."""
    request.session.clear()
