"""Logging in and out: argon2-checked passwords, a signed session cookie, the operator per request.

The session (Starlette's signed cookie) holds the operator's id, a fingerprint of their password
hash and when they logged in: a new password, or 12 hours, ends it. Idle sessions end sooner,
when the cookie expires.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models.db import transaction
from models.errors import InvalidInput
from models.operators import (
    Operator,
    get_operator_by_email,
    operator_email,
    rehashed,
    spend_a_verification,
    verify_password,
)
from web.dashboard.csrf import renew_csrf_token, require_csrf
from web.dashboard.deps import NowDep
from web.dashboard.pages import PREFIX, render
from web.dashboard.texts import Texts
from web.deps import ServicesDep, SessionDep

logger = logging.getLogger(__name__)

SESSION_OPERATOR = "operator"
SESSION_EPOCH = "epoch"
SESSION_SINCE = "since"
SESSION_LIFETIME = timedelta(hours=12)
IDLE_SECONDS = 8 * 60 * 60
LOGIN_PATH = f"{PREFIX}/login"
# Where a login may lead: a dashboard page of this site, never another site.
_NEXT = re.compile(rf"{PREFIX}(/[\w.~%/-]*)?(\?[\w.~%=&-]*)?")

t = Texts()
router = APIRouter(prefix=PREFIX, dependencies=[Depends(require_csrf)], include_in_schema=False)


class LoginRequired(Exception):
    """No valid session: the browser is sent to the login page, and back afterwards."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def safe_next(raw: str | None) -> str:
    """The page to go to after logging in: `raw` if it is a dashboard page, else the overview."""
    if raw and _NEXT.fullmatch(raw) and not raw.startswith(LOGIN_PATH):
        return raw
    return PREFIX


def start_session(request: Request, operator: Operator, now: datetime) -> None:
    """A fresh session for the operator, with a new CSRF token."""
    request.session.clear()
    request.session.update(
        {
            SESSION_OPERATOR: operator.id,
            SESSION_EPOCH: operator.password_epoch,
            SESSION_SINCE: now.isoformat(),
        }
    )
    renew_csrf_token(request)


async def _signed_in(request: Request, session: AsyncSession, now: datetime) -> Operator | None:
    """The operator the session belongs to, if it is still valid."""
    operator_id = request.session.get(SESSION_OPERATOR)
    epoch = request.session.get(SESSION_EPOCH)
    since = request.session.get(SESSION_SINCE)
    if not isinstance(operator_id, int) or not isinstance(epoch, str) or not isinstance(since, str):
        return None
    try:
        if now - datetime.fromisoformat(since) >= SESSION_LIFETIME:
            return None
    except (ValueError, TypeError):
        return None
    operator = await session.get(Operator, operator_id)
    if operator is None or not secrets.compare_digest(operator.password_epoch, epoch):
        return None
    return operator


async def current_operator(request: Request, session: SessionDep, now: NowDep) -> Operator:
    """The signed-in operator; anyone else is sent to the login page."""
    operator = await _signed_in(request, session, now)
    if operator is None:
        for key in (SESSION_OPERATOR, SESSION_EPOCH, SESSION_SINCE):
            request.session.pop(key, None)
        query = f"?{request.url.query}" if request.url.query else ""
        raise LoginRequired(request.url.path + query if request.method == "GET" else PREFIX)
    return operator


OperatorDep = Annotated[Operator, Depends(current_operator)]


async def authenticate(
    sessions: async_sessionmaker[AsyncSession], *, email: str, password: str, now: datetime
) -> Operator | None:
    """The operator with this e-mail and password, their login recorded; None otherwise.

    The slow hash check runs outside any transaction, in a thread.
    """
    try:
        address: str | None = operator_email(email)
    except InvalidInput:
        address = None
    found = None
    if address:
        async with transaction(sessions) as session:
            found = await get_operator_by_email(session, email=address)
    if found is None:
        await asyncio.to_thread(spend_a_verification)
        return None
    if not await asyncio.to_thread(verify_password, found.password_hash, password):
        return None
    new_hash = await asyncio.to_thread(rehashed, found.password_hash, password)
    async with transaction(sessions) as session:
        operator = await session.get(Operator, found.id)
        # A password changed meanwhile wins over the one just checked.
        if operator is None or operator.password_hash != found.password_hash:
            return None
        operator.last_login_at = now
        if new_hash:
            operator.password_hash = new_hash
        session.add(operator)
    return operator


def _login_page(
    request: Request, *, next_path: str, email: str = "", failed: bool = False
) -> HTMLResponse:
    return render(
        request,
        "login.html",
        title=t.login_title,
        next_path=safe_next(next_path),
        email=email,
        failed=failed,
        status_code=401 if failed else 200,
    )


async def redirect_to_login(request: Request, exc: Exception) -> Response:
    """LoginRequired: to the login page, remembering where the operator was going."""
    assert isinstance(exc, LoginRequired)
    target = safe_next(exc.next_path)
    query = "" if target == PREFIX else f"?next={quote(target, safe='/')}"
    return RedirectResponse(LOGIN_PATH + query, status_code=303)


@router.get("/login")
async def login_form(
    request: Request, next_path: Annotated[str, Query(alias="next")] = PREFIX
) -> HTMLResponse:
    """The login form."""
    return _login_page(request, next_path=next_path)


@router.post("/login")
async def login(
    request: Request,
    services: ServicesDep,
    now: NowDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = PREFIX,
) -> Response:
    """Check the password; on success start a fresh session and go on."""
    operator = await authenticate(services.sessions, email=email, password=password, now=now)
    if operator is None:
        logger.info("dashboard: a login was refused")
        return _login_page(request, next_path=next_path, email=email, failed=True)
    start_session(request, operator, now)
    logger.info("dashboard: operator %s logged in", operator.id)
    return RedirectResponse(safe_next(next_path), status_code=303)


@router.post("/logout")
async def logout(request: Request) -> RedirectResponse:
    """End the session."""
    request.session.clear()
    return RedirectResponse(LOGIN_PATH, status_code=303)
