"""Each admin's meetings as a calendar feed (ICS) at a secret URL, to subscribe to on the phone.

The URL's token is random and stored as its hash (models.feeds): the admin gets a new one in
the chat («ny kalenderlänk»), which ends the earlier one, and an operator can end it on the
dashboard. The older kind of URL (the admin's id with its HMAC, models.crypto.feed_token) opens
the feed only until the admin's first new link or a revocation.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from fastapi import APIRouter, HTTPException, Response
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import feeds
from models.cards import Card, CardUser
from models.crypto import admin_for_feed_token
from models.i18n import N_, translate
from models.meetings import ACTIVE_MEETING_STATUSES, Meeting, MeetingStatus
from models.network import Admin, Venue
from models.types import utcnow
from scheduler.channels.ics import FeedEvent, meeting_feed
from scheduler.wording import format_slot_time
from web.deps import SecretKeyDep, SessionDep

logger = logging.getLogger(__name__)

FEED_PATH = "/calendar/{token}.ics"
FEED_PAST = timedelta(days=30)
CALENDAR_NAME = N_("Kortkontor: handouts")
SUMMARY = N_("Handout {order_ref}")
CARD_USER = N_("Card user: {name}")
AWAITING = N_("Awaiting your confirmation.")
IDENTITY_CHECK = N_(
    "Check that the card user shows a valid, physical ID document and brings the PIN letter."
)
HOME_DELIVERY = N_("home delivery")
MOVE_FROM = N_("A move of the meeting {when}, which stands until you confirm.")

router = APIRouter(tags=["calendar"], include_in_schema=False)


def feed_url(public_base_url: str, token: str) -> str:
    """The feed URL of a token, to show its admin in the chat."""
    return public_base_url.rstrip("/") + FEED_PATH.format(token=token)


async def _admin_of(session: AsyncSession, token: str, secret_key: str | None) -> Admin | None:
    """The admin whose live link the token is: a stored one, or the older kind while it
    stands."""
    admin_id = await feeds.admin_for_token(session, token)
    if admin_id is None and secret_key is not None:
        older = admin_for_feed_token(secret_key, token)
        if older is not None and await feeds.older_link_stands(session, older):
            admin_id = older
    return await session.get(Admin, admin_id) if admin_id is not None else None


def _feed_event(
    meeting: Meeting,
    *,
    order_ref: str,
    given_name: str,
    venue: Venue | None,
    locale: str,
    moves_from: datetime | None = None,
) -> FeedEvent:
    """One meeting as the admin's calendar shows it: order ref, the holder's first name, place,
    and for a requested move the confirmed time it would replace."""
    if venue is not None:
        location = f"{venue.name}, {venue.address}"
    else:
        # The address is personal data, and a feed is read by a calendar service: the chat
        # shows it to the admin.
        location = translate(HOME_DELIVERY, locale)
    tentative = meeting.status == MeetingStatus.requested
    lines = [
        translate(CARD_USER, locale).format(name=given_name),
        translate(IDENTITY_CHECK, locale),
    ]
    if tentative:
        lines.insert(0, translate(AWAITING, locale))
    if tentative and moves_from is not None:
        when = format_slot_time(moves_from, locale)
        lines.insert(1, translate(MOVE_FROM, locale).format(when=when))
    return FeedEvent(
        uid=f"meeting-{meeting.id}-feed@kortkontor",
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        summary=translate(SUMMARY, locale).format(order_ref=order_ref),
        description="\n".join(lines),
        location=location,
        tentative=tentative,
    )


async def _feed_events(session: AsyncSession, admin: Admin, *, since: datetime) -> list[FeedEvent]:
    """The admin's requested and confirmed meetings from `since` on, in their language."""
    query = (
        select(Meeting, Card.order_ref, CardUser.given_name, Venue)
        .join(Card, col(Meeting.card_id) == col(Card.id))
        .join(CardUser, col(Card.card_user_id) == col(CardUser.id))
        .outerjoin(Venue, col(Meeting.venue_id) == col(Venue.id))
        .where(
            Meeting.admin_id == admin.id,
            col(Meeting.status).in_(ACTIVE_MEETING_STATUSES),
            Meeting.starts_at >= since,
        )
        .order_by(col(Meeting.starts_at))
    )
    rows = (await session.exec(query)).all()
    moves_from = await _confirmed_times(session, [m.replaces_meeting_id for m, *_ in rows])
    return [
        _feed_event(
            meeting,
            order_ref=ref,
            given_name=name,
            venue=venue,
            locale=admin.locale,
            moves_from=moves_from.get(meeting.replaces_meeting_id),
        )
        for meeting, ref, name, venue in rows
    ]


async def _confirmed_times(
    session: AsyncSession, meeting_ids: list[int | None]
) -> dict[int | None, datetime]:
    """When each of these meetings starts, for those still confirmed (the times moves replace)."""
    wanted = [meeting_id for meeting_id in meeting_ids if meeting_id is not None]
    if not wanted:
        return {}
    query = select(Meeting.id, Meeting.starts_at).where(
        col(Meeting.id).in_(wanted), Meeting.status == MeetingStatus.confirmed
    )
    return dict((await session.exec(query)).all())


@router.get(FEED_PATH, response_class=Response)
async def admin_calendar(token: str, session: SessionDep, secret_key: SecretKeyDep) -> Response:
    """The admin's meetings from 30 days back, as text/calendar; 404 for an unknown token."""
    admin = await _admin_of(session, token, secret_key)
    if admin is None:
        logger.info("calendar feed: unknown token")
        raise HTTPException(404, "no such calendar")
    now = utcnow()
    events = await _feed_events(session, admin, since=now - FEED_PAST)
    logger.info("calendar feed for admin %s: %d meetings", admin.id, len(events))
    body = meeting_feed(events, name=translate(CALENDAR_NAME, admin.locale), stamp=now)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )
