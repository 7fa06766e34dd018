"""Logging in and out, and who may do what: argon2-checked passwords behind a login throttle,
sessions kept on the server, and the operator and their role per request.

The cookie holds one random token (web/dashboard/cookie.py). The session behind it is a row of
`models.operator_sessions`: it ends at logout, at a new password, after DASHBOARD_IDLE_MINUTES
unused, and 12 hours after login at the latest. Logins are throttled per account and per client
address (`models.login_throttle`); every failure and every lock is audited.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.db import transaction
from models.errors import InvalidInput
from models.lifecycle import Role
from models.login_throttle import Attempt, ThrottleScope, admit, refund, throttle_key
from models.operator_sessions import (
    EndReason,
    end_session,
    live_session,
    open_session,
    purge_sessions,
)
from models.operators import (
    ROLE_NAMES,
    Operator,
    OperatorRole,
    get_operator_by_email,
    operator_email,
    rehashed,
    spend_a_verification,
    verify_password,
)
from web.dashboard.cookie import cookie_token, drop_cookie_token, replace_cookie_token
from web.dashboard.csrf import require_csrf
from web.dashboard.deps import KeysDep, LimitsDep, NowDep
from web.dashboard.pages import PREFIX, render
from web.dashboard.texts import Texts, tr
from web.deps import ServicesDep, SessionDep

logger = logging.getLogger(__name__)

SESSION_LIFETIME = timedelta(hours=12)
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


class RoleRequired(Exception):
    """The operator's role does not allow this; answered 403."""

    def __init__(self, operator: Operator, needed: OperatorRole) -> None:
        super().__init__(needed)
        # A copy outside the database session: the request's transaction is rolled back before
        # the refusal is rendered, which would leave the loaded row unreadable.
        self.operator = Operator(
            id=operator.id, email=operator.email, role=operator.role, password_hash=""
        )
        self.needed = needed


def safe_next(raw: str | None) -> str:
    """The page to go to after logging in: `raw` if it is a dashboard page, else the overview."""
    if raw and _NEXT.fullmatch(raw) and not raw.startswith(LOGIN_PATH):
        return raw
    return PREFIX


def client_address(request: Request) -> str:
    """The client's IP address (behind a proxy, the one uvicorn's forwarded-allow-ips trusts)."""
    return request.client.host if request.client else "unknown"


def client_network(address: str) -> str:
    """The address's network (IPv4 /24, IPv6 /48): enough to tell attacks apart, not a person."""
    try:
        found = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    prefix = 24 if found.version == 4 else 48
    return str(ipaddress.ip_network(f"{found}/{prefix}", strict=False))


async def current_operator(
    request: Request, session: SessionDep, now: NowDep, limits: LimitsDep
) -> Operator:
    """The signed-in operator; anyone else is sent to the login page."""
    token = cookie_token(request)
    found = await live_session(session, token=token, now=now, limits=limits) if token else None
    operator = await session.get(Operator, found.operator_id) if found else None
    if operator is None:
        if token is not None:
            # A token whose session is over is never used again, not even before a login.
            replace_cookie_token(request)
        query = f"?{request.url.query}" if request.url.query else ""
        raise LoginRequired(request.url.path + query if request.method == "GET" else PREFIX)
    return operator


OperatorDep = Annotated[Operator, Depends(current_operator)]


def role_required(needed: OperatorRole) -> Callable[[Operator], Awaitable[Operator]]:
    """A dependency: the signed-in operator, if their role allows what `needed` may do."""

    async def operator_with_role(operator: OperatorDep) -> Operator:
        if not OperatorRole(operator.role).allows(needed):
            raise RoleRequired(operator, needed)
        return operator

    return operator_with_role


ViewerDep = Annotated[Operator, Depends(role_required(OperatorRole.viewer))]
PayrollDep = Annotated[Operator, Depends(role_required(OperatorRole.payroll))]
AdminDep = Annotated[Operator, Depends(role_required(OperatorRole.admin))]


async def refuse_role(request: Request, exc: Exception) -> Response:
    """RoleRequired: 403, and a page that says which role it takes."""
    assert isinstance(exc, RoleRequired)
    logger.warning(
        "dashboard: %s %s refused: operator %s is %s, it takes %s",
        request.method,
        request.url.path,
        exc.operator.id,
        exc.operator.role,
        exc.needed.value,
    )
    message = t.role_required.format(
        role=tr(ROLE_NAMES[OperatorRole(exc.operator.role)]), needed=tr(ROLE_NAMES[exc.needed])
    )
    return render(
        request,
        "message.html",
        title=t.role_required_title,
        operator=exc.operator,
        message=message,
        status_code=403,
    )


async def _audit_failure(
    session: AsyncSession,
    *,
    operator_id: int | None,
    attempts: list[Attempt],
    address: str,
    now: datetime,
) -> None:
    """A login that failed, and each lock it set: ids and a network only, never what was typed."""
    network = client_network(address)
    await audit.append(
        session,
        actor_role=Role.system,
        actor_id=None,
        action="operator.login_failed",
        entity="operator",
        # 0: no operator has the e-mail given.
        entity_id=operator_id or 0,
        data={"network": network},
        now=now,
    )
    for attempt in attempts:
        if attempt.locked_until is None:
            continue
        seconds = round((attempt.locked_until - now).total_seconds())
        logger.warning(
            "dashboard: logins locked for %s s after %s attempts (per %s)",
            seconds,
            attempt.failures,
            attempt.scope.value,
        )
        await audit.append(
            session,
            actor_role=Role.system,
            actor_id=None,
            action="operator.login_locked",
            entity="operator",
            entity_id=operator_id or 0,
            data={
                "scope": attempt.scope.value,
                "failures": attempt.failures,
                "seconds": seconds,
                "network": network,
            },
            now=now,
        )


async def authenticate(
    sessions: async_sessionmaker[AsyncSession],
    *,
    secret: bytes,
    email: str,
    password: str,
    address: str,
    now: datetime,
) -> Operator | None:
    """The operator with this e-mail and password, their login recorded; None otherwise.

    A throttled attempt is refused before its password is looked at. The slow hash check runs
    outside any transaction, in a thread.
    """
    try:
        known: str | None = operator_email(email)
    except InvalidInput:
        known = None
    keys = {
        ThrottleScope.account: throttle_key(
            secret, ThrottleScope.account, known or email.strip().lower()
        ),
        ThrottleScope.address: throttle_key(secret, ThrottleScope.address, address),
    }
    async with transaction(sessions) as session:
        found = await get_operator_by_email(session, email=known) if known else None
        attempts = await admit(session, keys=keys, now=now)
    if attempts is None:
        logger.info("dashboard: a login was refused unchecked: too many attempts")
        return None
    if found is None:
        await asyncio.to_thread(spend_a_verification)
        right = False
    else:
        right = await asyncio.to_thread(verify_password, found.password_hash, password)
    if not right:
        async with transaction(sessions) as session:
            await _audit_failure(
                session,
                operator_id=found.id if found else None,
                attempts=attempts,
                address=address,
                now=now,
            )
        return None
    assert found is not None
    new_hash = await asyncio.to_thread(rehashed, found.password_hash, password)
    async with transaction(sessions) as session:
        await refund(session, attempts=attempts)
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
    keys: KeysDep,
    limits: LimitsDep,
    now: NowDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = PREFIX,
) -> Response:
    """Check the password; on success start a fresh session and go on.

    Every refusal reads the same: a wrong password, an unknown e-mail, too many attempts.
    """
    operator = await authenticate(
        services.sessions,
        secret=keys.throttle,
        email=email,
        password=password,
        address=client_address(request),
        now=now,
    )
    if operator is None:
        logger.info("dashboard: a login was refused")
        return _login_page(request, next_path=next_path, email=email, failed=True)
    assert operator.id is not None
    previous = cookie_token(request)
    # A new token: one a visitor held before logging in never becomes a session.
    token = replace_cookie_token(request)
    async with transaction(services.sessions) as session:
        if previous is not None:
            # Logging in again in the same browser ends the session it had.
            await end_session(session, token=previous, now=now, reason=EndReason.logout)
        await open_session(session, operator_id=operator.id, token=token, now=now)
        await purge_sessions(session, now=now, limits=limits)
    logger.info("dashboard: operator %s logged in", operator.id, extra={"operator_id": operator.id})
    return RedirectResponse(safe_next(next_path), status_code=303)


@router.post("/logout")
async def logout(request: Request, session: SessionDep, now: NowDep) -> RedirectResponse:
    """End the session, on the server and in the browser."""
    token = cookie_token(request)
    if token is not None:
        ended = await end_session(session, token=token, now=now, reason=EndReason.logout)
        if ended is not None:
            logger.info("dashboard: operator %s logged out", ended.operator_id)
    drop_cookie_token(request)
    return RedirectResponse(LOGIN_PATH, status_code=303)
