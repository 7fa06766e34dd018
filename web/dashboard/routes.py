"""The dashboard's pages: overview, office, card timeline, payouts (with lock and export).

Every operator sees them; locking and exporting payouts takes the payroll role, and ending an
administrator's calendar link the operator administrator's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from models import admins, audit, feeds
from models.errors import InvalidInput
from models.lifecycle import Role
from models.network import Admin, Office
from models.operators import Operator
from models.validation import parse_day
from models.zone import local_day
from payout.export_csv import render_csv
from payout.export_pdf import render_pdf
from payout.store import MonthExport, export_month
from web.dashboard import charts, figures, queries
from web.dashboard.auth import AdminDep, PayrollDep, ViewerDep
from web.dashboard.csrf import require_csrf
from web.dashboard.deps import NowDep
from web.dashboard.pages import PREFIX, download, not_found, render
from web.dashboard.texts import Texts, tr
from web.deps import SessionDep

logger = logging.getLogger(__name__)

STYLESHEET = (Path(__file__).resolve().parent / "static" / "dashboard.css").read_bytes()
EXPORTS: dict[str, tuple[Callable[[MonthExport], bytes], str]] = {
    "csv": (render_csv, "text/csv; charset=utf-8"),
    "pdf": (render_pdf, "application/pdf"),
}

t = Texts()
router = APIRouter(prefix=PREFIX, dependencies=[Depends(require_csrf)], include_in_schema=False)


@router.get("/static/dashboard.css")
async def stylesheet() -> Response:
    """The one stylesheet (public: the login page uses it too)."""
    return Response(STYLESHEET, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("")
async def overview(
    request: Request, operator: ViewerDep, session: SessionDep, now: NowDep
) -> HTMLResponse:
    """Cards per status and age, meetings today and this week, stuck cards, two charts."""
    view = await queries.overview(session, now=now)
    return render(
        request,
        "overview.html",
        title=t.overview_title,
        operator=operator,
        view=view,
        # The chart functions escape every text they put in the SVG.
        handouts_chart=Markup(charts.handouts_chart(view.weeks)),
        ages_chart=Markup(charts.custody_age_chart(view.ages)),
    )


@router.get("/offices/{code}")
async def office(
    request: Request, code: str, operator: ViewerDep, session: SessionDep, now: NowDep
) -> HTMLResponse:
    """An office: admins, weekly times, venues, absences, notice, its cards."""
    page = await queries.office_page(session, code=code, now=now)
    if page is None:
        return not_found(request, t.office_not_found.format(code=code), operator=operator)
    return render(
        request,
        "office.html",
        title=page.office.name,
        operator=operator,
        page=page,
        error=None,
        error_admin=None,
    )


@router.get("/cards/{order_ref}")
async def card(
    request: Request, order_ref: str, operator: ViewerDep, session: SessionDep
) -> HTMLResponse:
    """A card's meetings and its timeline from the audit log."""
    page = await queries.card_page(session, order_ref=order_ref)
    if page is None:
        return not_found(request, t.card_not_found.format(order_ref=order_ref), operator=operator)
    title = t.card_title.format(order_ref=page.card.order_ref)
    return render(request, "card.html", title=title, operator=operator, page=page)


@router.post("/admins/{admin_id}/calendar/revoke")
async def revoke_calendar_link(
    request: Request, admin_id: int, operator: AdminDep, session: SessionDep, now: NowDep
) -> Response:
    """End an administrator's calendar link (a leaked one, say); they get a new one in the chat.

    Managing an office's administrators takes the operator administrator's role.
    """
    admin = await session.get(Admin, admin_id)
    if admin is None:
        return not_found(request, t.admin_not_found, operator=operator)
    office = await session.get(Office, admin.office_id)
    assert office is not None
    await feeds.revoke_feeds(session, admin_id=admin_id, now=now)
    await audit.append(
        session,
        actor_role=Role.operator,
        actor_id=operator.id,
        action="calendar_feed.revoked",
        entity="admin",
        entity_id=admin_id,
        now=now,
    )
    logger.info("dashboard: operator %s ended admin %s's calendar link", operator.id, admin_id)
    return RedirectResponse(f"{PREFIX}/offices/{office.code}#admins", status_code=303)


@router.post("/admins/{admin_id}/onboarding")
async def set_onboarding_item(
    request: Request,
    admin_id: int,
    operator: AdminDep,
    session: SessionDep,
    now: NowDep,
    item: Annotated[str, Form()] = "",
    day: Annotated[str, Form()] = "",
) -> Response:
    """Date one item of an administrator's onboarding checklist; audited.

    Onboarding administrators takes the operator administrator's role.
    """
    admin = await session.get(Admin, admin_id)
    if admin is None:
        return not_found(request, t.admin_not_found, operator=operator)
    office = await session.get(Office, admin.office_id)
    assert office is not None
    try:
        done_on = parse_day(day, field=item or "day")
        changed = await admins.set_onboarding_item(
            session, admin=admin, item=item, day=done_on, actor_id=operator.id, now=now
        )
    except InvalidInput as error:
        page = await queries.office_page(session, code=office.code, now=now)
        assert page is not None
        message = t.onboarding_refused.format(
            item=_item_name(error.field), reason=error.translated()
        )
        return render(
            request,
            "office.html",
            title=office.name,
            operator=operator,
            page=page,
            error=message,
            error_admin=admin_id,
            status_code=400,
        )
    if changed:
        logger.info("dashboard: operator %s dated %s of admin %s", operator.id, item, admin_id)
    return RedirectResponse(f"{PREFIX}/offices/{office.code}#admin-{admin_id}", status_code=303)


def _item_name(item: str) -> str:
    """A checklist item in words; another field as it is called."""
    return tr(admins.ONBOARDING_ITEM_NAMES[item]) if item in admins.ONBOARDING_ITEM_NAMES else item


def _payouts_page(
    request: Request,
    operator: Operator,
    *,
    month: str,
    page: queries.PayoutsPage | None,
    error: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "payouts.html",
        title=t.payouts_title,
        operator=operator,
        month=month,
        page=page,
        error=error,
        status_code=400 if error else 200,
    )


@router.get("/payouts")
async def payouts(
    request: Request,
    operator: ViewerDep,
    session: SessionDep,
    now: NowDep,
    month: str | None = None,
) -> HTMLResponse:
    """A month's statements per administrator (the previous month unless one is asked for)."""
    chosen = month or figures.previous_month(local_day(now))
    try:
        page = await queries.payouts_page(session, month=chosen, now=now)
    except InvalidInput as error:
        return _payouts_page(request, operator, month=chosen, page=None, error=error.translated())
    return _payouts_page(request, operator, month=page.month, page=page)


@router.post("/payouts/export")
async def export_payouts(
    request: Request,
    operator: PayrollDep,
    session: SessionDep,
    now: NowDep,
    month: Annotated[str, Form()] = "",
    kind: Annotated[str, Form(alias="format")] = "",
) -> Response:
    """Lock the month's statements (once) and send them: CSV for payroll, PDF for the admins."""
    if kind not in EXPORTS:
        return _payouts_page(request, operator, month=month, page=None, error=t.unknown_format)
    try:
        export = await export_month(session, month=month, now=now)
    except InvalidInput as error:
        return _payouts_page(request, operator, month=month, page=None, error=error.translated())
    render_file, media_type = EXPORTS[kind]
    content = render_file(export)
    logger.info(
        "dashboard: operator %s exported payouts %s as %s (%s statement(s) locked now)",
        operator.id,
        export.month,
        kind,
        export.newly_locked,
    )
    return download(content, filename=f"ersattning-{export.month}.{kind}", media_type=media_type)
