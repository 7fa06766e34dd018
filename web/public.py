"""The public page: the active offices, by city, with their venues (never an admin's home)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.i18n import N_, translate
from models.network import Office, Venue
from models.types import utcnow
from models.zone import local_day
from scheduler.office_settings import notice_ends_on
from scheduler.wording import format_day, what_to_bring
from web.api import OfficeState, office_state
from web.deps import SessionDep

LOCALE = "sv"
TEXTS = {
    "title": N_("Card offices for SITHS cards"),
    "intro": N_(
        "Here you pick up your SITHS card in person from an ID administrator. The card is sent "
        "to the office that your employer chose. When it has arrived, you get a message and "
        "book a time."
    ),
    "venues": N_("Meeting places"),
    "no_venues": N_("The office has not announced its meeting places yet."),
    "none": N_("There are no active card offices right now."),
}
CLOSING = N_("Closes after {day}")
# Swedish alphabetical order: å, ä and ö come after z.
_SWEDISH = str.maketrans({"å": "{", "ä": "|", "ö": "}", "æ": "|", "ø": "}"})

TEMPLATES_DIR = Path(__file__).parent / "templates"
STYLESHEET = (TEMPLATES_DIR / "public" / "offices.css").read_bytes()
templates = Jinja2Templates(directory=TEMPLATES_DIR)
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class PublicOffice:
    """What the page shows of an office."""

    name: str
    closing: str | None
    venues: list[Venue]


@dataclass(frozen=True, slots=True)
class City:
    """A city and its active offices."""

    name: str
    offices: list[PublicOffice]


def _closing(office: Office) -> str | None:
    """«Stänger efter 3 januari 2027» while the office works out its notice."""
    ends_on = notice_ends_on(office)
    if ends_on is None:
        return None
    day = format_day(ends_on, LOCALE, year=True)
    return translate(CLOSING, LOCALE).format(day=day)


def swedish_key(text: str) -> str:
    """Sorts as a Swedish reader expects: case-insensitive, å ä ö last."""
    return text.casefold().translate(_SWEDISH)


async def active_offices_by_city(session: AsyncSession, *, today: date) -> list[City]:
    """Offices without notice or within their notice period, grouped by city."""
    offices = sorted(
        (await session.exec(select(Office))).all(),
        key=lambda o: (swedish_key(o.city), o.city, swedish_key(o.name)),
    )
    venues: dict[int, list[Venue]] = {}
    for venue in sorted(
        (await session.exec(select(Venue))).all(), key=lambda v: swedish_key(v.name)
    ):
        venues.setdefault(venue.office_id, []).append(venue)
    active = [o for o in offices if office_state(o, today=today) != OfficeState.closed]
    return [
        City(
            name=city,
            offices=[PublicOffice(o.name, _closing(o), venues.get(o.id or 0, [])) for o in in_city],
        )
        for city, in_city in itertools.groupby(active, key=lambda o: o.city)
    ]


@router.get("/static/offices.css")
async def stylesheet() -> Response:
    """The page's stylesheet: a file, since the page's policy allows no inline styles."""
    return Response(STYLESHEET, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/", response_class=HTMLResponse)
async def public_offices(request: Request, session: SessionDep) -> HTMLResponse:
    """The active offices by city, in Swedish."""
    cities = await active_offices_by_city(session, today=local_day(utcnow()))
    texts = {key: translate(text, LOCALE) for key, text in TEXTS.items()}
    texts["bring"] = what_to_bring(LOCALE)
    return templates.TemplateResponse(
        request, "public/offices.html", {"cities": cities, "texts": texts, "lang": LOCALE}
    )
