"""Benchmark of scheduler.slots.free_slots against DESIGN.md's slot-search quality bars.

Run with `.venv/bin/python benchmarks/slots.py`. The last line printed is one JSON object.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

# Allow running as a plain script from the repository root or elsewhere.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.zone import STOCKHOLM
from scheduler.slots import (
    AbsenceSpan,
    Busy,
    OfficeRules,
    WeeklyWindow,
    free_slots,
)

RULES = OfficeRules()  # DESIGN.md defaults: 15 min slots, 2 h notice, 28-day horizon
# A Monday morning in September: no holidays in the horizon, so nothing is skipped for free.
NOW = datetime(2026, 9, 7, 6, 0, tzinfo=UTC)
SEED = 20260907

# Typical declared windows (local wall clock); one per chosen weekday.
WINDOW_SHAPES = [
    (time(8, 0), time(12, 0)),
    (time(9, 0), time(15, 0)),
    (time(13, 0), time(17, 0)),
    (time(16, 0), time(19, 0)),
    (time(8, 0), time(17, 0)),
]


@dataclass(frozen=True)
class Office:
    """One office's inputs to free_slots."""

    windows: list[WeeklyWindow]
    busy: list[Busy]
    absences: list[AbsenceSpan]


def make_windows(rng: random.Random, office_no: int) -> list[WeeklyWindow]:
    """Three admins, each on 2-4 weekdays, at one of the office's one or two venues."""
    venues = [office_no * 2, office_no * 2 + 1][: rng.randint(1, 2)]
    windows = []
    for admin_id in range(office_no * 3, office_no * 3 + 3):
        for weekday in rng.sample(range(5), rng.randint(2, 4)):
            start, end = rng.choice(WINDOW_SHAPES)
            windows.append(WeeklyWindow(admin_id, weekday, start, end, rng.choice(venues)))
    return windows


def make_busy(rng: random.Random, windows: list[WeeklyWindow], count: int) -> list[Busy]:
    """`count` 15-minute meetings at random 5-minute marks inside windows (overlaps allowed)."""
    today = NOW.astimezone(STOCKHOLM).date()
    days = [today + timedelta(days=d) for d in range(RULES.horizon_days + 1)]
    # Only (day, window) pairs that really occur in the horizon can host meetings.
    pairs = [(d, w) for d in days for w in windows if w.weekday == d.weekday()]
    busy = []
    for _ in range(count):
        day, w = rng.choice(pairs)
        span = _minutes(w.end) - _minutes(w.start) - 15
        local = datetime.combine(day, w.start, tzinfo=STOCKHOLM) + timedelta(
            minutes=5 * rng.randint(0, span // 5)
        )
        start = local.astimezone(UTC)
        busy.append(Busy(w.admin_id, start, start + timedelta(minutes=15)))
    return busy


def make_absences(rng: random.Random, windows: list[WeeklyWindow]) -> list[AbsenceSpan]:
    """Occasionally one admin takes a few days off."""
    admins = sorted({w.admin_id for w in windows})
    if rng.random() < 0.7:
        return []
    first = NOW.astimezone(STOCKHOLM).date() + timedelta(days=rng.randint(0, 20))
    return [AbsenceSpan(rng.choice(admins), first, first + timedelta(days=rng.randint(0, 6)))]


def _minutes(t: time) -> int:
    """Minutes since local midnight."""
    return t.hour * 60 + t.minute


def busiest_office(meetings: int, rng: random.Random) -> Office:
    """The headline case: 3 admins, 4 weekdays each, long windows, `meetings` in the horizon."""
    windows = [
        WeeklyWindow(admin_id, weekday, time(8, 0), time(17, 0), 1 + admin_id % 2)
        for admin_id in (1, 2, 3)
        for weekday in rng.sample(range(5), 4)
    ]
    return Office(windows, make_busy(rng, windows, meetings), [])


def run(office: Office) -> int:
    """One free_slots call; returns the slot count so the work cannot be skipped."""
    return len(
        free_slots(
            windows=office.windows,
            busy=office.busy,
            absences=office.absences,
            rules=RULES,
            now=NOW,
        )
    )


def timings_ms(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall-clock milliseconds of `repeat` calls, after a warm-up call."""
    fn()  # warm caches (holiday sets, zoneinfo) as a long-running service would have them
    out = []
    for _ in range(repeat):
        t0 = clock.perf_counter()
        fn()
        out.append((clock.perf_counter() - t0) * 1000)
    return out


def p95(values: list[float]) -> float:
    """95th percentile (inclusive method)."""
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    """Measure and print the figures; the last line is machine-readable JSON."""
    rng = random.Random(SEED)
    office_1k = busiest_office(1_000, rng)
    t0 = clock.perf_counter()
    run(office_1k)  # first call in the process: builds the holiday sets and date caches
    cold_ms = (clock.perf_counter() - t0) * 1000
    office_10k = busiest_office(10_000, random.Random(SEED))
    network = []
    for n in range(300):
        windows = make_windows(rng, n)
        network.append(Office(windows, make_busy(rng, windows, 30), make_absences(rng, windows)))

    one = timings_ms(lambda: run(office_1k), repeat=500)
    ten = timings_ms(lambda: run(office_10k), repeat=100)
    scans = timings_ms(lambda: [run(o) for o in network], repeat=30)

    office_median = statistics.median(one)
    growth = statistics.median(ten) / office_median
    nationwide = statistics.median(scans)
    slots_offered = sum(run(o) for o in network)

    print(f"Python {platform.python_version()} on {cpu_model()}, {os.cpu_count()} CPUs")
    print(
        f"now={NOW.isoformat()}  horizon={RULES.horizon_days} days  slot={RULES.slot_minutes} min"
    )
    print(
        f"one office, 3 admins, 1,000 meetings: median {office_median:.3f} ms, "
        f"p95 {p95(one):.3f} ms  ({run(office_1k)} slots free)   bar: median <= 5 ms"
    )
    print(f"first call in a fresh process (cold caches): {cold_ms:.1f} ms")
    print(f"one office, 10,000 meetings: median {statistics.median(ten):.3f} ms")
    per_meeting_us = (statistics.median(ten) - office_median) / 9_000 * 1000
    print(f"marginal cost per meeting: {per_meeting_us:.2f} us")
    print(f"growth 1k -> 10k meetings: x{growth:.2f}   bar: <= 10 (linear)")
    print(
        f"nationwide scan, 300 offices x 30 meetings: median {nationwide:.1f} ms "
        f"(min {min(scans):.1f}, max {max(scans):.1f}; {slots_offered} slots)   bar: <= 200 ms"
    )
    print(
        json.dumps(
            {
                "office_median_ms": round(office_median, 3),
                "office_p95_ms": round(p95(one), 3),
                "nationwide_ms": round(nationwide, 1),
                "growth_10x": round(growth, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
