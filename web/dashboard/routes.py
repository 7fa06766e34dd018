"""The dashboard's pages: overview, office, card timeline, payouts (with lock and export), and
the issuer's monthly report.

Every operator sees them; locking and exporting payouts, and the report, take the payroll role,
and ending an administrator's calendar link the operator administrator's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from models import admins, audit, feeds
from models.admins import give_notice
from models.cards import Card
from models.errors import DomainError, InvalidInput
from models.lifecycle import Role
from models.network import Admin, Office
from models.operators import Operator
from models.validation import parse_day
from models.zone import local_day
from payout.export_csv import render_csv
from payout.export_pdf import render_pdf
from payout.report import MonthReport
from payout.report_csv import render_report_csv
from payout.report_pdf import render_report_pdf
from payout.report_store import load_report, record_export
from payout.store import MonthExport, export_month
from scheduler import handover
from web.dashboard import charts, figures, queries
from web.dashboard.auth import AdminDep, PayrollDep, ViewerDep
from web.dashboard.csrf import require_csrf
from web.dashboard.deps import NowDep
from web.dashboard.pages import PREFIX, download, not_found, refused, render
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
    return await _office_page(request, operator, session, page, now=now)


async def _office_page(
    request: Request,
    operator: Operator,
    session: SessionDep,
    page: queries.OfficePage,
    *,
    now: datetime,
    error: str | None = None,
    error_admin: int | None = None,
) -> HTMLResponse:
    """The office page; with an error, next to the administrator whose form it was (400)."""
    assert page.office.id is not None
    transfers = await handover.office_handover(session, office_id=page.office.id, now=now)
    return render(
        request,
        "office.html",
        title=page.office.name,
        operator=operator,
        page=page,
        handover=transfers,
        now=now,
        error=error,
        error_admin=error_admin,
        status_code=400 if error else 200,
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


@router.post("/admins/{admin_id}/notice")
async def record_notice(
    request: Request,
    admin_id: int,
    operator: AdminDep,
    session: SessionDep,
    now: NowDep,
    on: Annotated[str, Form()] = "",
) -> Response:
    """Record an administrator's notice, given on `on` (empty: today); audited."""
    admin = await session.get(Admin, admin_id)
    if admin is None or admin.id is None:
        return not_found(request, t.admin_not_found, operator=operator)
    office = await session.get(Office, admin.office_id)
    assert office is not None
    try:
        day = parse_day(on, field="on") if on.strip() else None
        await give_notice(
            session, admin_id=admin.id, role=Role.operator, actor_id=operator.id, now=now, on=day
        )
    except DomainError as error:
        return refused(request, t.admin_notice_refused, error, operator=operator)
    logger.info("dashboard: operator %s recorded admin %s's notice", operator.id, admin_id)
    return RedirectResponse(f"{PREFIX}/offices/{office.code}#notice-{admin_id}", status_code=303)


@router.post("/cards/{card_id}/handover")
async def hand_over_card(
    request: Request,
    card_id: int,
    operator: AdminDep,
    session: SessionDep,
    now: NowDep,
    to_admin: Annotated[str, Form()] = "",
) -> Response:
    """Mark a leaving administrator's card handed over to another one (who confirms it in the
    chat); audited."""
    card = await session.get(Card, card_id)
    office = await session.get(Office, card.office_id) if card is not None else None
    if card is None or office is None:
        return not_found(request, t.card_not_found.format(order_ref=card_id), operator=operator)
    try:
        receiver = int(to_admin) if to_admin.strip().isdigit() else 0
        await handover.hand_over(
            session,
            card_id=card_id,
            to_admin_id=receiver,
            role=Role.operator,
            actor_id=operator.id,
            now=now,
        )
    except DomainError as error:
        return refused(request, t.handover_refused, error, operator=operator)
    logger.info("dashboard: operator %s handed card %s over", operator.id, card_id)
    return RedirectResponse(f"{PREFIX}/offices/{office.code}#handover", status_code=303)


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
        return await _office_page(
            request, operator, session, page, now=now, error=message, error_admin=admin_id
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


REPORT_FILES: dict[str, tuple[Callable[[MonthReport], bytes], str]] = {
    "csv": (render_report_csv, "text/csv; charset=utf-8"),
    "pdf": (render_report_pdf, "application/pdf"),
}


@router.post("/report/export")
async def export_report(
    request: Request,
    operator: PayrollDep,
    session: SessionDep,
    now: NowDep,
    month: Annotated[str, Form()] = "",
    kind: Annotated[str, Form(alias="format")] = "",
) -> Response:
    """The issuer's monthly report per office, as CSV or PDF (audited; it locks nothing)."""
    if kind not in REPORT_FILES:
        return _payouts_page(request, operator, month=month, page=None, error=t.unknown_format)
    try:
        report = await load_report(session, month=month, now=now)
    except InvalidInput as error:
        return _payouts_page(request, operator, month=month, page=None, error=error.translated())
    render_file, media_type = REPORT_FILES[kind]
    content = render_file(report)
    await record_export(
        session, report, file_format=kind, actor_role=Role.operator, actor_id=operator.id, now=now
    )
    logger.info("dashboard: operator %s exported the report %s as %s", operator.id, month, kind)
    return download(content, filename=f"rapport-{report.month}.{kind}", media_type=media_type)
