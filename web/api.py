"""The issuer's JSON API behind a bearer token: post card orders, list cards, meetings, offices,
and fetch the monthly report (CSV or PDF).

Responses carry ids, states and dates only: never a personnummer, a name or contact details.
The issuer already holds those; a leaked API answer then reveals no one.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request, Response, Security
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.cards import Card, CardStatus
from models.errors import InputRejected, InvalidInput, Problem
from models.i18n import N_, translate
from models.lifecycle import Role
from models.meetings import FailureReason, IdDocument, Meeting, MeetingStatus
from models.network import Office, Venue, VenueKind, get_office_by_code
from models.orders import UNKNOWN_OFFICE as UNKNOWN_OFFICE_CODE
from models.orders import OrderBatch, collect_orders
from models.types import utcnow
from models.zone import local_day
from payout.report import MonthReport
from payout.report_csv import render_report_csv
from payout.report_pdf import render_report_pdf
from payout.report_store import load_report, record_export
from payout.statements import MONTH_PATTERN
from scheduler.cards import import_orders
from scheduler.office_settings import notice_ends_on
from web.deps import SessionDep, SettingsDep, VaultDep, WebSettings, get_services

logger = logging.getLogger(__name__)

API_LOCALE = "sv"  # problems read like the CLI's: in Swedish
MAX_ORDERS = 1000  # per request; larger batches go as several requests
MAX_PAGE = 1000
MAX_ID = 2**31 - 1  # the id columns are 32-bit integers
# Printable text only: control characters (and NUL, which PostgreSQL refuses) are no names.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
DUPLICATE_IN_REQUEST = N_("appears twice in the request (also item {other})")


# -- authentication ---------------------------------------------------------------------------

bearer = HTTPBearer(auto_error=False, description="KORTKONTOR_API_TOKEN")


def check_issuer(settings: WebSettings, authorization: str | None) -> None:
    """Let through only an Authorization header bearing KORTKONTOR_API_TOKEN; 503 while none is
    configured."""
    token = settings.kortkontor_api_token
    if token is None or not token.get_secret_value():
        raise HTTPException(503, "KORTKONTOR_API_TOKEN is not set: the API is off")
    scheme, given = get_authorization_scheme_param(authorization)
    if scheme.lower() != "bearer":
        given = ""
    if not secrets.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise HTTPException(
            401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
        )


def require_issuer(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    settings: SettingsDep,
) -> None:
    """The same check as a dependency, which puts the bearer scheme into the OpenAPI schema."""
    given = f"Bearer {credentials.credentials}" if credentials is not None else None
    check_issuer(settings, given)


class IssuerRoute(APIRoute):
    """An API route whose bearer token is checked before FastAPI reads and parses the body:
    FastAPI reads a body parameter before it solves any dependency."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, behind the token check."""
        handle = super().get_route_handler()

        async def checked(request: Request) -> Response:
            check_issuer(get_services(request).settings, request.headers.get("Authorization"))
            return await handle(request)

        return checked


# -- models ---------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    """Why a request was refused."""

    detail: str


def _text(max_length: int, **extra: Any) -> Any:
    """A field of printable text of at most max_length characters."""
    return Field(max_length=max_length, pattern=PRINTABLE, **extra)


class CardOrderIn(BaseModel):
    """One card order: the CSV's columns, validated by the same rules."""

    model_config = ConfigDict(extra="forbid")

    order_ref: str = _text(50, examples=["SE-1001"])
    office_code: str = _text(20, examples=["UPS1"])
    given_name: str = _text(100)
    family_name: str = _text(100)
    # Documented, not enforced here: the CSV's own check below gives the better message.
    personnummer: str = _text(
        20,
        examples=["19811228-9874"],
        json_schema_extra={"pattern": r"^([0-9]{6}|[0-9]{8})[-+]?[0-9]{4}$"},
    )
    phone: str = _text(30, examples=["+46701234567"])
    email: str = _text(320, examples=["maria.ek@example.se"])
    status: CardStatus | None = Field(default=None, description="ordered or shipped when new")
    ordered_at: date | None = None
    card_number: str | None = _text(
        30,
        default=None,
        examples=["9752 2699 0012 3456"],
        description="the number printed on the card, 8 to 20 digits; checked at the handout",
    )

    def as_row(self) -> dict[str, str]:
        """The order as a CSV row."""
        row = self.model_dump(exclude={"status", "ordered_at", "card_number"})
        row["status"] = self.status.value if self.status is not None else ""
        row["ordered_at"] = self.ordered_at.isoformat() if self.ordered_at is not None else ""
        row["card_number"] = self.card_number or ""
        return row


class CardOut(BaseModel):
    """A card as the issuer follows it."""

    id: int
    order_ref: str
    office: str = Field(description="the office's code")
    status: CardStatus
    ordered_at: datetime
    status_changed_at: datetime
    in_custody_since: datetime | None


class ImportNote(BaseModel):
    """Something a POST left alone, and why: a status older than the card's is not applied."""

    loc: list[str | int]
    msg: str


class ImportResult(BaseModel):
    """What a POST did, and the posted cards as they now stand."""

    created: int
    updated: int
    unchanged: int
    cards: list[CardOut]
    notes: list[ImportNote] = []


class MeetingOut(BaseModel):
    """A meeting: when, where (the venue's key; none for home delivery), and its outcome."""

    id: int
    order_ref: str
    office: str
    admin_id: int
    venue: str | None
    home_delivery: bool
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus
    failure_reason: FailureReason | None
    id_document: IdDocument | None
    is_extra: bool
    created_at: datetime
    confirmed_at: datetime | None
    closed_at: datetime | None
    # A requested move of this confirmed meeting, which stands until the move is confirmed.
    replaces_meeting_id: int | None = None


class OfficeState(StrEnum):
    """open; closing during its notice period; closed once that has ended."""

    open = "open"
    closing = "closing"
    closed = "closed"


class VenueOut(BaseModel):
    """A public meeting place."""

    key: str
    name: str
    address: str
    kind: VenueKind


class OfficeOut(BaseModel):
    """An office, its booking settings and its venues."""

    code: str
    name: str
    city: str
    state: OfficeState
    notice_given_at: datetime | None
    notice_ends_on: date | None
    slot_minutes: int
    buffer_minutes: int
    min_notice_hours: int
    horizon_days: int
    venues: list[VenueOut]


def office_state(office: Office, *, today: date) -> OfficeState:
    """Where the office is in its life on this (Stockholm) day."""
    ends_on = notice_ends_on(office)
    if ends_on is None:
        return OfficeState.open
    return OfficeState.closing if today <= ends_on else OfficeState.closed


# -- queries ----------------------------------------------------------------------------------


class Filters(BaseModel):
    """Query parameters; an unknown one is refused, so a typo never widens a listing."""

    model_config = ConfigDict(extra="forbid")


class Listing(Filters):
    """Optionally one office's; a page at a time: ids above `after`, at most `limit`."""

    office: str | None = Field(
        default=None, max_length=20, pattern=PRINTABLE, description="an office's code"
    )
    after: int = Field(default=0, ge=0, le=MAX_ID, description="only ids above this (paging)")
    limit: int = Field(default=MAX_PAGE, ge=1, le=MAX_PAGE, description="at most this many")


class CardFilters(Listing):
    """Which cards."""

    status: CardStatus | None = None


class MeetingFilters(Listing):
    """Which meetings."""

    status: MeetingStatus | None = None


class OfficeFilters(Filters):
    """Which offices."""

    status: OfficeState | None = None


async def office_id_for(session: AsyncSession, code: str | None) -> int | None:
    """The id of the office to filter by; 404 for a code no office has."""
    if code is None:
        return None
    found = await get_office_by_code(session, code=code)
    if found is None or found.id is None:
        raise HTTPException(404, translate(UNKNOWN_OFFICE_CODE, API_LOCALE).format(code=code))
    return found.id


def _card_out(card: Card, office_code: str) -> CardOut:
    assert card.id is not None
    return CardOut(
        id=card.id,
        order_ref=card.order_ref,
        office=office_code,
        status=card.status,
        ordered_at=card.ordered_at,
        status_changed_at=card.status_changed_at,
        in_custody_since=card.in_custody_since,
    )


async def _cards(
    session: AsyncSession,
    *,
    office_id: int | None = None,
    status: CardStatus | None = None,
    order_refs: list[str] | None = None,
    after: int = 0,
    limit: int = MAX_PAGE,
) -> list[CardOut]:
    query = (
        select(Card, Office.code)
        .join(Office, col(Card.office_id) == col(Office.id))
        .where(col(Card.id) > after)
    )
    if office_id is not None:
        query = query.where(Card.office_id == office_id)
    if status is not None:
        query = query.where(Card.status == status)
    if order_refs is not None:
        query = query.where(col(Card.order_ref).in_(order_refs))
    rows = await session.exec(query.order_by(col(Card.id)).limit(limit))
    return [_card_out(card, code) for card, code in rows.all()]


def _meeting_out(
    meeting: Meeting, *, order_ref: str, office_code: str, venue_key: str | None
) -> MeetingOut:
    assert meeting.id is not None
    return MeetingOut(
        id=meeting.id,
        order_ref=order_ref,
        office=office_code,
        admin_id=meeting.admin_id,
        venue=venue_key,
        home_delivery=meeting.venue_id is None,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        status=meeting.status,
        failure_reason=meeting.failure_reason,
        id_document=meeting.id_document,
        is_extra=meeting.is_extra,
        created_at=meeting.created_at,
        confirmed_at=meeting.confirmed_at,
        closed_at=meeting.closed_at,
        replaces_meeting_id=meeting.replaces_meeting_id,
    )


async def _meetings(
    session: AsyncSession,
    *,
    office_id: int | None,
    status: MeetingStatus | None,
    after: int,
    limit: int,
) -> list[MeetingOut]:
    query = (
        select(Meeting, Card.order_ref, Office.code, Venue.key)
        .join(Card, col(Meeting.card_id) == col(Card.id))
        .join(Office, col(Card.office_id) == col(Office.id))
        .outerjoin(Venue, col(Meeting.venue_id) == col(Venue.id))
        .where(col(Meeting.id) > after)
    )
    if office_id is not None:
        query = query.where(Card.office_id == office_id)
    if status is not None:
        query = query.where(Meeting.status == status)
    rows = await session.exec(query.order_by(col(Meeting.id)).limit(limit))
    return [
        _meeting_out(meeting, order_ref=order_ref, office_code=code, venue_key=venue_key)
        for meeting, order_ref, code, venue_key in rows.all()
    ]


async def _offices(session: AsyncSession, *, today: date) -> list[OfficeOut]:
    offices = (await session.exec(select(Office).order_by(Office.city, Office.code))).all()
    venues: dict[int, list[VenueOut]] = {}
    query = select(Venue).order_by(col(Venue.office_id), col(Venue.key))
    for venue in (await session.exec(query)).all():
        venues.setdefault(venue.office_id, []).append(
            VenueOut(key=venue.key, name=venue.name, address=venue.address, kind=venue.kind)
        )
    return [
        OfficeOut(
            code=office.code,
            name=office.name,
            city=office.city,
            state=office_state(office, today=today),
            notice_given_at=office.notice_given_at,
            notice_ends_on=notice_ends_on(office),
            slot_minutes=office.slot_minutes,
            buffer_minutes=office.buffer_minutes,
            min_notice_hours=office.min_notice_hours,
            horizon_days=office.horizon_days,
            venues=venues.get(office.id or 0, []),
        )
        for office in offices
    ]


# -- posting orders ---------------------------------------------------------------------------


def _loc(problem: Problem, *, batch: bool) -> list[str | int]:
    """Where in the body: the item (in a list) and the field, as FastAPI's own errors say."""
    return ["body", problem.line, problem.field] if batch else ["body", problem.field]


def _rejected(problems: list[Problem], *, batch: bool) -> HTTPException:
    """422 in FastAPI's own shape: each problem's `loc` names the item and the field."""
    detail = [
        {
            "loc": _loc(problem, batch=batch),
            "msg": problem.translated(API_LOCALE),
            "type": "invalid_input",
        }
        for problem in problems
    ]
    return HTTPException(422, detail)


def parse_orders(orders: list[CardOrderIn]) -> OrderBatch:
    """Each order checked like a CSV row (the item's index as its line); the problems are
    reported with the database's, all at once."""
    rows = ((index, order.as_row()) for index, order in enumerate(orders))
    return collect_orders(rows, twice=DUPLICATE_IN_REQUEST)


Orders = Annotated[
    CardOrderIn | Annotated[list[CardOrderIn], Field(max_length=MAX_ORDERS)],
    Body(description="one order, or a list of orders stored all or nothing"),
]

router = APIRouter(
    prefix="/api",
    tags=["issuer"],
    route_class=IssuerRoute,
    dependencies=[Depends(require_issuer)],
    responses={
        401: {"model": ErrorDetail, "description": "no or a wrong bearer token"},
        503: {"model": ErrorDetail, "description": "KORTKONTOR_API_TOKEN is not configured"},
    },
)
UNKNOWN_OFFICE: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorDetail, "description": "no office has that code"}
}


@router.post(
    "/cards",
    responses={
        400: {"model": ErrorDetail, "description": "the body is not JSON"},
        409: {"model": ErrorDetail, "description": "a concurrent request; retry"},
    },
)
async def post_cards(orders: Orders, session: SessionDep, vault: VaultDep) -> ImportResult:
    """Create or update card orders by order_ref, validated like the CSV; all or nothing."""
    batch = isinstance(orders, list)
    items = orders if isinstance(orders, list) else [orders]
    parsed = parse_orders(items)
    try:
        summary, _ = await import_orders(session, parsed, vault=vault)
    except InputRejected as error:
        raise _rejected(error.problems, batch=batch) from None
    except IntegrityError:
        logger.warning("api: concurrent card orders collided; the client should retry")
        raise HTTPException(409, "another request changed the same cards; retry") from None
    cards = await _cards(session, order_refs=[order.order_ref for order in parsed.orders])
    logger.info(
        "api: card orders: %d created, %d updated, %d unchanged",
        summary.created,
        summary.updated,
        summary.unchanged,
    )
    return ImportResult(
        created=summary.created,
        updated=summary.updated,
        unchanged=summary.unchanged,
        cards=cards,
        notes=[
            ImportNote(loc=_loc(note, batch=batch), msg=note.translated(API_LOCALE))
            for note in summary.notes
        ],
    )


@router.get("/cards", responses=UNKNOWN_OFFICE)
async def list_cards(
    session: SessionDep, filters: Annotated[CardFilters, Query()]
) -> list[CardOut]:
    """Cards by id, optionally of one office and in one status."""
    return await _cards(
        session,
        office_id=await office_id_for(session, filters.office),
        status=filters.status,
        after=filters.after,
        limit=filters.limit,
    )


@router.get("/meetings", responses=UNKNOWN_OFFICE)
async def list_meetings(
    session: SessionDep, filters: Annotated[MeetingFilters, Query()]
) -> list[MeetingOut]:
    """Meetings by id, optionally of one office's cards and in one status."""
    return await _meetings(
        session,
        office_id=await office_id_for(session, filters.office),
        status=filters.status,
        after=filters.after,
        limit=filters.limit,
    )


@router.get("/offices")
async def list_offices(
    session: SessionDep, filters: Annotated[OfficeFilters, Query()]
) -> list[OfficeOut]:
    """Every office with its venues, optionally only those in one state."""
    offices = await _offices(session, today=local_day(utcnow()))
    return [office for office in offices if filters.status in (None, office.state)]


# -- the monthly report -------------------------------------------------------------------------


class ReportFormat(StrEnum):
    """The report's file formats."""

    csv = "csv"
    pdf = "pdf"


REPORT_FILES: dict[ReportFormat, tuple[Callable[[MonthReport], bytes], str]] = {
    ReportFormat.csv: (render_report_csv, "text/csv; charset=utf-8"),
    ReportFormat.pdf: (render_report_pdf, "application/pdf"),
}


@router.get(
    "/report",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {}, "application/pdf": {}},
            "description": "the issuer's monthly report per office",
        },
        422: {"description": "the month is not YYYY-MM, or the format is unknown"},
    },
)
async def get_report(
    session: SessionDep,
    month: Annotated[str, Query(pattern=MONTH_PATTERN, description="YYYY-MM")],
    file_format: Annotated[ReportFormat, Query(alias="format")] = ReportFormat.csv,
) -> Response:
    """The monthly report per office: handouts, failures by reason, extra meetings, custody."""
    now = utcnow()
    try:
        report = await load_report(session, month=month, now=now)
    except InvalidInput as error:
        raise HTTPException(
            422,
            [{"loc": ["query", "month"], "msg": error.translated(API_LOCALE), "type": error.code}],
        ) from None
    render, media_type = REPORT_FILES[file_format]
    content = render(report)
    await record_export(
        session,
        report,
        file_format=file_format.value,
        actor_role=Role.operator,
        actor_id=None,
        now=now,
    )
    logger.info("api: report %s sent as %s", report.month, file_format.value)
    filename = f"rapport-{report.month}.{file_format.value}"
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
