"""Benchmark of bot.understanding against DESIGN.md's understanding bars, on the labelled corpus
of tests/bot/understanding_corpus: intents right, precision and recall per intent, the worst
confusions, destructive misreadings, slots, and the time per message.

Run with `.venv/bin/python benchmarks/understanding.py`. The last line printed is one JSON
object.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time as clock
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

# Allow running as a plain script from the repository root or elsewhere.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

T0 = clock.perf_counter()
from bot.understanding import Intent, Reading, understand  # noqa: E402
from bot.understanding import text as layer_text  # noqa: E402

IMPORT_MS = (clock.perf_counter() - T0) * 1000

from benchmarks.slots import cpu_model  # noqa: E402
from kortkontor.serve import settle_heap  # noqa: E402
from tests.bot.understanding_corpus import (  # noqa: E402
    NOW,
    PARTS,
    Case,
    destructive,
    load,
    slot_problems,
)

WARM_PASSES = 20  # timing passes over a part once the layer's word caches are filled
COLD_PASSES = 5  # passes that empty the word caches before each message
INTENT_BAR = 0.95
P99_BAR_MS = 2.0
WORST_CONFUSIONS = 8


@dataclass(frozen=True)
class Outcome:
    """One case read once."""

    case: Case
    reading: Reading

    @property
    def right(self) -> bool:
        return self.reading.intent in self.case.intents

    @property
    def label(self) -> Intent:
        """The label the reading is scored against: the one it chose when there are two."""
        return self.reading.intent if self.right else self.case.intents[0]


@dataclass(frozen=True)
class Timings:
    """Times per message: wall clock, and the thread's CPU time.

    On this shared machine other processes take the cores now and then, and a message that
    waits for a core shows it in its wall time only: the CPU time is what the layer costs.
    """

    wall_ms: list[float]
    cpu_ms: list[float]


@dataclass(frozen=True)
class Score:
    """One part's figures."""

    part: str
    outcomes: list[Outcome]
    cold: Timings  # each message with the layer's word caches emptied first
    warm: Timings

    @property
    def accuracy(self) -> float:
        return sum(o.right for o in self.outcomes) / len(self.outcomes)

    @property
    def destructive(self) -> list[Outcome]:
        return [o for o in self.outcomes if destructive(o.case, o.reading)]

    @property
    def slots_right(self) -> float:
        right = [o for o in self.outcomes if o.right]
        return sum(not slot_problems(o.case, o.reading) for o in right) / len(right)

    @property
    def unsure(self) -> float:
        """The share that would get «Menade du …?»."""
        return sum(o.reading.unsure for o in self.outcomes) / len(self.outcomes)


def _read(case: Case) -> Reading:
    return understand(case.text, case.context, locale=case.locale, now=NOW)


def _empty_caches() -> None:
    layer_text.mend.cache_clear()
    layer_text.swedish_stem.cache_clear()
    layer_text.english_stem.cache_clear()


def _timed(cases: list[Case], *, passes: int, cold: bool) -> Timings:
    wall, cpu = [], []
    for _ in range(passes):
        for case in cases:
            if cold:
                _empty_caches()
            started, started_cpu = clock.perf_counter_ns(), clock.thread_time_ns()
            _read(case)
            cpu.append((clock.thread_time_ns() - started_cpu) / 1e6)
            wall.append((clock.perf_counter_ns() - started) / 1e6)
    return Timings(wall, cpu)


def measure(part: str) -> Score:
    """Read each case of a part, then time it cold and warm, on a heap settled as `serve`
    settles it."""
    cases = load(part)
    outcomes = [Outcome(case, _read(case)) for case in cases]
    settle_heap()
    cold = _timed(cases, passes=COLD_PASSES, cold=True)
    warm = _timed(cases, passes=WARM_PASSES, cold=False)
    return Score(part, outcomes, cold, warm)


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def per_intent(outcomes: list[Outcome]) -> dict[Intent, tuple[int, float, float]]:
    """Per label: support, precision and recall."""
    labels = Counter(o.label for o in outcomes)
    read_as = Counter(o.reading.intent for o in outcomes)
    right = Counter(o.label for o in outcomes if o.right)
    return {
        intent: (
            labels[intent],
            right[intent] / read_as[intent] if read_as[intent] else 1.0,
            right[intent] / labels[intent] if labels[intent] else 1.0,
        )
        for intent in Intent
        if labels[intent] or read_as[intent]
    }


def print_table(scores: list[Score]) -> None:
    print(f"\n{'intent':<14}" + "".join(f"{s.part + ' n  prec  rec':>24}" for s in scores))
    tables = [per_intent(s.outcomes) for s in scores]
    for intent in Intent:
        cells = []
        for table in tables:
            n, precision, recall = table.get(intent, (0, 1.0, 1.0))
            cells.append(f"{n:>12} {precision:5.2f} {recall:5.2f}")
        print(f"{intent.value:<14}" + "".join(cells))


def print_confusions(score: Score) -> None:
    wrong = Counter((o.label.value, o.reading.intent.value) for o in score.outcomes if not o.right)
    print(f"\nworst confusions, {score.part} (label -> read as):")
    for (label, read_as), count in wrong.most_common(WORST_CONFUSIONS):
        print(f"  {count} x {label} -> {read_as}")
    for outcome in score.outcomes:
        if not outcome.right:
            print(f"    {outcome.case} -> {outcome.reading.intent.value}")


def summary(score: Score) -> dict[str, float | int]:
    return {
        "messages": len(score.outcomes),
        "intents_right": round(score.accuracy, 4),
        "slots_right": round(score.slots_right, 4),
        "destructive": len(score.destructive),
        "destructive_share": round(len(score.destructive) / len(score.outcomes), 4),
        "unsure": round(score.unsure, 4),
        "median_ms": round(statistics.median(score.warm.wall_ms), 3),
        "p99_ms": round(p99(score.warm.wall_ms), 3),
        "cold_median_ms": round(statistics.median(score.cold.wall_ms), 3),
        "cold_p99_ms": round(p99(score.cold.wall_ms), 3),
        "cpu_p99_ms": round(p99(score.warm.cpu_ms), 3),
        "cold_cpu_p99_ms": round(p99(score.cold.cpu_ms), 3),
    }


def print_times(name: str, timings: Timings, passes: int) -> None:
    wall, cpu = timings.wall_ms, timings.cpu_ms
    print(
        f"  {name} ({passes} passes): wall median {statistics.median(wall):.3f} ms, "
        f"p99 {p99(wall):.3f} ms, max {max(wall):.2f} ms; "
        f"CPU median {statistics.median(cpu):.3f} ms, p99 {p99(cpu):.3f} ms, max {max(cpu):.2f} ms"
    )


def main() -> None:
    """Measure and print the figures; the last line is machine-readable JSON."""
    scores = [measure(part) for part in PARTS]
    print(f"Python {platform.python_version()} on {cpu_model()}, {os.cpu_count()} CPUs")
    print(f"importing the layer (tables compiled, vocabulary stemmed): {IMPORT_MS:.0f} ms")
    for score in scores:
        by_language = Counter(o.case.language for o in score.outcomes)
        figures = summary(score)
        print(
            f"\n{score.part}: {figures['messages']} messages "
            f"({by_language['sv']} Swedish, {by_language['en']} English)\n"
            f"  intents right {score.accuracy:.1%} (bar on held-out: >= {INTENT_BAR:.0%}), "
            f"slots right where the intent is {score.slots_right:.1%}\n"
            f"  destructive misreadings {len(score.destructive)} (bar: 0), "
            f"would ask «Menade du …?» {score.unsure:.1%}\n"
            f"  time per message (bar: p99 <= {P99_BAR_MS} ms):"
        )
        print_times("warm word caches", score.warm, WARM_PASSES)
        print_times("word caches emptied before each", score.cold, COLD_PASSES)
        for outcome in score.destructive:
            print(f"  DESTRUCTIVE {outcome.case} -> {outcome.reading.intent.value}")
    print_table(scores)
    for score in scores:
        print_confusions(score)
    print(json.dumps({"import_ms": round(IMPORT_MS), **{s.part: summary(s) for s in scores}}))


if __name__ == "__main__":
    main()
