"""The dashboard's own dependencies: its clock (settable, so that tests can fix the date)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from models.types import utcnow


def get_clock(request: Request) -> Callable[[], datetime]:
    """The clock `install` was given."""
    clock: Callable[[], datetime] = getattr(request.app.state, "dashboard_clock", utcnow)
    return clock


def get_now(clock: Annotated[Callable[[], datetime], Depends(get_clock)]) -> datetime:
    """The current moment, once per request."""
    return clock()


NowDep = Annotated[datetime, Depends(get_now)]
