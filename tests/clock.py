"""A set clock for commands run as processes (`kortkontor serve`, `kortkontor status`).

libfaketime, preloaded into the child, makes its wall clock (datetime.now, time.time) start at a
given instant and run on from there at the real pace; its monotonic clock, which asyncio's
timers use, stays real. APScheduler computes its trigger times from datetime.now, so the jobs
keep the set clock as they would the real one. The test process keeps the real clock and reads
the same timeline through `SetClock.now`.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from importlib.resources import files

LIBFAKETIME = files("libfaketime") / "vendor" / "libfaketime" / "src" / "libfaketime.so.1"


class SetClock:
    """One timeline for the test and the processes it starts: `start` when the clock is made,
    then on at the real pace."""

    def __init__(self, start: datetime) -> None:
        assert start.tzinfo is not None, "a set clock starts at an aware instant"
        self.start = start
        self._made = time.monotonic()

    def now(self) -> datetime:
        """The set clock's time now, aware UTC."""
        return (self.start + timedelta(seconds=time.monotonic() - self._made)).astimezone(UTC)

    def environment(self) -> dict[str, str]:
        """Variables for a child process started now: its clock reads `now()` from the start.

        Whole seconds, rounded down: the child is never ahead of this timeline."""
        preload = [str(LIBFAKETIME), *filter(None, [os.environ.get("LD_PRELOAD")])]
        return {
            "LD_PRELOAD": ":".join(preload),
            "FAKETIME": self.now().strftime("@%Y-%m-%d %H:%M:%S"),
            # The instant above is UTC, and libfaketime reads it in the process's zone.
            "TZ": "UTC",
            "DONT_FAKE_MONOTONIC": "1",
        }
