"""The dashboard's own dependencies: its clock (settable, so that tests can fix the date), its
keys and its session limits, all set by `install`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from models.operator_sessions import Limits
from models.types import utcnow


@dataclass(frozen=True, slots=True)
class DashboardKeys:
    """Keys derived from the service's secret key, one per purpose."""

    csrf: bytes
    throttle: bytes


def get_clock(request: Request) -> Callable[[], datetime]:
    """The clock `install` was given."""
    clock: Callable[[], datetime] = getattr(request.app.state, "dashboard_clock", utcnow)
    return clock


def get_now(clock: Annotated[Callable[[], datetime], Depends(get_clock)]) -> datetime:
    """The current moment, once per request."""
    return clock()


NowDep = Annotated[datetime, Depends(get_now)]


def keys_of(request: Request) -> DashboardKeys:
    """The keys `install` derived."""
    keys: DashboardKeys = request.app.state.dashboard_keys
    return keys


KeysDep = Annotated[DashboardKeys, Depends(keys_of)]


def get_limits(request: Request) -> Limits:
    """How long a session may idle and live."""
    limits: Limits = request.app.state.dashboard_limits
    return limits


LimitsDep = Annotated[Limits, Depends(get_limits)]
