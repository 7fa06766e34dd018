"""The operators page, for operator administrators: who may use the dashboard with which role,
and how many sessions each has open; change someone's role, or end their sessions.

Operators are added, and passwords set, with `kortkontor operator add` only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.errors import InvalidInput
from models.lifecycle import Role
from models.operator_sessions import (
    EndReason,
    Limits,
    end_operator_sessions,
    open_session_counts,
)
from models.operators import Operator, OperatorRole, all_operators, operator_role
from web.dashboard.auth import AdminDep
from web.dashboard.csrf import require_csrf
from web.dashboard.deps import LimitsDep, NowDep
from web.dashboard.pages import PREFIX, not_found, render
from web.dashboard.texts import Texts
from web.deps import SessionDep

logger = logging.getLogger(__name__)

PAGE = f"{PREFIX}/operators"

t = Texts()
router = APIRouter(prefix=PAGE, dependencies=[Depends(require_csrf)], include_in_schema=False)


@dataclass(frozen=True, slots=True)
class OperatorRow:
    """One operator and how many sessions they have open."""

    operator: Operator
    open_sessions: int


async def _page(
    request: Request,
    admin: Operator,
    session: AsyncSession,
    *,
    now: datetime,
    limits: Limits,
    error: str | None = None,
) -> HTMLResponse:
    counts = await open_session_counts(session, now=now, limits=limits)
    rows = [
        OperatorRow(operator, counts.get(operator.id or 0, 0))
        for operator in await all_operators(session)
    ]
    return render(
        request,
        "operators.html",
        title=t.operators_title,
        operator=admin,
        rows=rows,
        roles=list(OperatorRole),
        error=error,
        status_code=400 if error else 200,
    )


@router.get("")
async def operators(
    request: Request, admin: AdminDep, session: SessionDep, now: NowDep, limits: LimitsDep
) -> HTMLResponse:
    """Every operator, their role, last login and open sessions."""
    return await _page(request, admin, session, now=now, limits=limits)


@router.post("/{operator_id}/role")
async def set_role(
    request: Request,
    operator_id: int,
    admin: AdminDep,
    session: SessionDep,
    now: NowDep,
    limits: LimitsDep,
    role: Annotated[str, Form()] = "",
) -> Response:
    """Give an operator another role (never oneself: an administrator keeps someone who can)."""
    target = await session.get(Operator, operator_id)
    if target is None:
        return not_found(request, t.operator_not_found, operator=admin)
    if target.id == admin.id:
        return await _page(request, admin, session, now=now, limits=limits, error=t.own_role)
    try:
        chosen = operator_role(role)
    except InvalidInput as error:
        return await _page(
            request, admin, session, now=now, limits=limits, error=error.translated()
        )
    previous = target.role
    if chosen != previous:
        target.role = chosen
        session.add(target)
        await audit.append(
            session,
            actor_role=Role.operator,
            actor_id=admin.id,
            action="operator.role_set",
            entity="operator",
            entity_id=operator_id,
            data={"role": chosen.value, "previous": str(previous)},
            now=now,
        )
        logger.info("dashboard: operator %s made operator %s %s", admin.id, operator_id, chosen)
    return RedirectResponse(PAGE, status_code=303)


@router.post("/{operator_id}/sessions/end")
async def end_sessions(
    request: Request, operator_id: int, admin: AdminDep, session: SessionDep, now: NowDep
) -> Response:
    """End every session the operator has open (a lost laptop, someone who left)."""
    target = await session.get(Operator, operator_id)
    if target is None:
        return not_found(request, t.operator_not_found, operator=admin)
    ended = await end_operator_sessions(
        session, operator_id=operator_id, now=now, reason=EndReason.revoked
    )
    await audit.append(
        session,
        actor_role=Role.operator,
        actor_id=admin.id,
        action="operator.sessions_ended",
        entity="operator",
        entity_id=operator_id,
        data={"sessions": ended},
        now=now,
    )
    logger.info(
        "dashboard: operator %s ended %s session(s) of operator %s", admin.id, ended, operator_id
    )
    return RedirectResponse(PAGE, status_code=303)
