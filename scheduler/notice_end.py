"""The end of a notice month: the administrator gets no more slots (models.admins), and their
meetings after it go to a colleague or are cancelled. Run daily by scheduler.jobs; running it
again changes nothing more (only active meetings are looked at)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.meetings import ACTIVE_MEETING_STATUSES, Meeting
from models.network import Admin
from models.zone import local_day, local_midnight
from scheduler import booking, notifications

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NoticeEnded:
    """What one run did."""

    moved: int = 0
    cancelled: int = 0


async def end_notices(session: AsyncSession, *, now: datetime) -> NoticeEnded:
    """Every ended administrator's active meetings after their notice month, earliest first:
    handed over to a colleague at the same start, or cancelled."""
    today = local_day(now)
    ended = (
        await session.exec(
            select(Admin).where(col(Admin.notice_ends_on) < today).order_by(col(Admin.id))
        )
    ).all()
    moved = cancelled = 0
    for admin in ended:
        assert admin.notice_ends_on is not None
        after = local_midnight(admin.notice_ends_on + timedelta(days=1))
        meetings = (
            await session.exec(
                select(Meeting)
                .where(
                    Meeting.admin_id == admin.id,
                    col(Meeting.status).in_(ACTIVE_MEETING_STATUSES),
                    col(Meeting.starts_at) >= max(after, now),
                )
                .order_by(col(Meeting.starts_at), col(Meeting.id))
            )
        ).all()
        for meeting in meetings:
            if await booking.hand_over_or_cancel(session, meeting, now=now):
                moved += 1
            else:
                cancelled += 1
        # Once per administrator (the outbox's key): they hear of the end and their cards.
        await notifications.notice_ended(session, admin, now=now)
        if meetings:
            logger.info(
                "admin %s's notice has ended: %s meeting(s) handled", admin.id, len(meetings)
            )
    return NoticeEnded(moved=moved, cancelled=cancelled)
