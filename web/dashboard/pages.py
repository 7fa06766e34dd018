"""Rendering: the Jinja2 environment (built once), the helpers templates use, security headers."""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from babel.dates import format_datetime, format_time
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from models.admins import ADMIN_STATE_NAMES, MISSING, ONBOARDING_ITEM_NAMES, PAYEE_NAMES
from models.errors import DomainError
from models.i18n import format_month
from models.network import Admin, Payee
from models.operators import ROLE_NAMES, Operator, OperatorRole
from models.zone import STOCKHOLM
from payout.money import kronor
from scheduler.wording import WEEKDAY_NAMES, format_day, format_slot_time
from web.dashboard.csrf import FORM_FIELD, csrf_token
from web.dashboard.texts import (
    LOCALE,
    TEXTS,
    VENUE_KIND_NAMES,
    Texts,
    card_status_name,
    meeting_status_name,
    tr,
)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PREFIX = "/dashboard"
# Pages and files with personal data stay out of caches. The security headers (CSP and the
# rest) are the whole app's: web/security_headers.py.
PRIVATE = {"Cache-Control": "no-store"}


def moment(value: datetime) -> str:
    """«28 november 2026 kl. 16:17» in Stockholm time."""
    return format_datetime(value.astimezone(STOCKHOLM), "d MMMM y 'kl.' HH:mm", locale=LOCALE)


def day(value: date) -> str:
    """«28 november 2026»."""
    return format_day(value, LOCALE, year=True)


def clock(value: datetime) -> str:
    """«16:17» in Stockholm time."""
    return format_time(value.astimezone(STOCKHOLM), "HH:mm", locale=LOCALE)


def month_name(month: str) -> str:
    """«december 2026» for 2026-12."""
    return format_month(month, LOCALE)


def payee_name(admin: Admin) -> str | None:
    """How the administrator is paid, with the organisation number of a company; None when
    not recorded."""
    if admin.payee is None:
        return None
    name = tr(PAYEE_NAMES[Payee(admin.payee)])
    return f"{name} ({admin.org_number})" if admin.org_number else name


def role_name(role: str) -> str:
    """An operator role in Swedish words."""
    return tr(ROLE_NAMES[OperatorRole(role)])


def allowed(operator: Operator | None, needed: str) -> bool:
    """Whether the operator's role may do what `needed` may: pages show only what they can do."""
    return operator is not None and OperatorRole(operator.role).allows(OperatorRole(needed))


def card_url(order_ref: str) -> str:
    """The card's page."""
    return f"{PREFIX}/cards/{quote(order_ref, safe='')}"


def office_url(code: str) -> str:
    """The office's page."""
    return f"{PREFIX}/offices/{quote(code, safe='')}"


@cache
def environment() -> Environment:
    """The templates with their helpers; autoescaped, and strict about unknown names."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        t=Texts(LOCALE),
        prefix=PREFIX,
        csrf_field=FORM_FIELD,
        card_url=card_url,
        office_url=office_url,
        allowed=allowed,
    )
    env.filters.update(
        moment=moment,
        day=day,
        clock=clock,
        slot=lambda value: format_slot_time(value, LOCALE),
        kr=lambda ore: kronor(ore, LOCALE),
        month_name=month_name,
        role_name=role_name,
        card_status=card_status_name,
        meeting_status=meeting_status_name,
        weekday=lambda number: tr(WEEKDAY_NAMES[number]),
        venue_kind=lambda kind: tr(VENUE_KIND_NAMES.get(kind, kind)),
        admin_state=lambda state: tr(ADMIN_STATE_NAMES[state]),
        onboarding_item=lambda item: tr(ONBOARDING_ITEM_NAMES[item]),
        payee=payee_name,
        or_missing=lambda value: tr(MISSING) if value is None else value,
    )
    return env


def render(
    request: Request,
    template: str,
    *,
    title: str,
    operator: Operator | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page from a template, with the session's CSRF token; never cached."""
    html = (
        environment()
        .get_template(template)
        .render(title=title, operator=operator, csrf_token=csrf_token(request), **context)
    )
    return HTMLResponse(html, status_code=status_code, headers=PRIVATE)


def not_found(request: Request, message: str, *, operator: Operator | None) -> HTMLResponse:
    """A 404 page saying what was not found."""
    return render(
        request,
        "message.html",
        title=tr(TEXTS["not_found_title"]),
        operator=operator,
        message=message,
        status_code=404,
    )


def refused(
    request: Request, title: str, error: DomainError, *, operator: Operator | None
) -> HTMLResponse:
    """A 400 page saying why an action was refused, in the domain's own words."""
    return render(
        request,
        "message.html",
        title=title,
        operator=operator,
        message=error.translated(),
        status_code=400,
    )


def download(content: bytes, *, filename: str, media_type: str) -> Response:
    """A file to save, not to show."""
    headers = {
        **PRIVATE,
        "Content-Disposition": f'attachment; filename="{filename}"',
    }
    return Response(content, media_type=media_type, headers=headers)
