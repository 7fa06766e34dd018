"""Sweden's time zone: times are stored in UTC and read, shown and counted in Stockholm time."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def local_day(moment: datetime) -> date:
    """The Stockholm calendar day of an aware moment."""
    return moment.astimezone(STOCKHOLM).date()


def local_midnight(day: date) -> datetime:
    """The start of a Stockholm day, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=STOCKHOLM)
