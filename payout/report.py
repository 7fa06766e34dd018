"""The issuer's monthly report per office, computed from rows: pure functions, no I/O.

The month runs midnight to midnight in Stockholm. Meetings count in the month their outcome was
recorded in, like the payout lines. Cards in custody are counted as they stood at the month's
end (or now, for a month not over yet), from the card's audited status changes, so a report of
a past month reads the same whenever it is made.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from models.cards import CardStatus
from models.meetings import FailureReason, MeetingStatus
from models.payouts import PayoutKind
from payout.statements import month_bounds

STUCK_DAYS = 30


@dataclass(frozen=True, slots=True)
class AgeRange:
    """Cards whose age in whole days lies in [low, high]; high None means no upper end."""

    low: int
    high: int | None

    @property
    def label(self) -> str:
        """«0–7», «30+»."""
        return f"{self.low}–{self.high}" if self.high is not None else f"{self.low}+"

    @property
    def key(self) -> str:
        """«0_7», «30_plus»: for column names."""
        return f"{self.low}_{self.high}" if self.high is not None else f"{self.low}_plus"

    def holds(self, days: int) -> bool:
        """Whether a card this many days old belongs here."""
        return self.low <= days and (self.high is None or days <= self.high)


# The last range is exactly the stuck cards.
AGE_RANGES = (
    AgeRange(0, 7),
    AgeRange(8, 14),
    AgeRange(15, STUCK_DAYS - 1),
    AgeRange(STUCK_DAYS, None),
)
HELD = (CardStatus.in_custody, CardStatus.booked)


@dataclass(frozen=True, slots=True)
class OfficeRow:
    """An office the report covers."""

    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class MeetingRow:
    """A meeting, as far as the report reads it."""

    office_id: int
    status: MeetingStatus
    closed_at: datetime | None
    failure_reason: FailureReason | None = None
    attendance_confirmed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One audited status change of a card."""

    card_id: int
    office_id: int
    order_ref: str
    occurred_at: datetime
    from_status: CardStatus
    to_status: CardStatus


@dataclass(frozen=True, slots=True)
class PaidLine:
    """A payout line of a card of the office."""

    office_id: int
    kind: PayoutKind
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class OfficeFigures:
    """One office's month."""

    code: str
    name: str
    handouts: int = 0
    failed: Mapping[FailureReason, int] = field(default_factory=dict)
    extra_meetings: int = 0
    # Cards held at the month's end, per AGE_RANGES.
    custody_ages: tuple[int, ...] = (0,) * len(AGE_RANGES)
    # Order references of the cards held STUCK_DAYS or longer at the month's end.
    stuck: tuple[str, ...] = ()
    attendance_confirmed: int = 0
    attendance_not_confirmed: int = 0

    @property
    def failed_total(self) -> int:
        """Failed meetings, whatever the reason."""
        return sum(self.failed.values())

    @property
    def in_custody(self) -> int:
        """Cards held at the month's end."""
        return sum(self.custody_ages)


@dataclass(frozen=True, slots=True)
class MonthReport:
    """Every office's month, by office code, and when the custody was counted."""

    month: str
    counted_at: datetime
    offices: tuple[OfficeFigures, ...]

    @property
    def total(self) -> OfficeFigures:
        """All offices together (code and name empty)."""
        return OfficeFigures(
            code="",
            name="",
            handouts=sum(o.handouts for o in self.offices),
            failed={r: sum(o.failed.get(r, 0) for o in self.offices) for r in FailureReason},
            extra_meetings=sum(o.extra_meetings for o in self.offices),
            custody_ages=tuple(
                sum(o.custody_ages[i] for o in self.offices) for i in range(len(AGE_RANGES))
            ),
            stuck=tuple(ref for o in self.offices for ref in o.stuck),
            attendance_confirmed=sum(o.attendance_confirmed for o in self.offices),
            attendance_not_confirmed=sum(o.attendance_not_confirmed for o in self.offices),
        )


def age_in_days(since: datetime, moment: datetime) -> int:
    """Whole days from `since` to `moment` (never negative)."""
    return max((moment - since) // timedelta(days=1), 0)


def age_counts(ages: Iterable[int]) -> tuple[int, ...]:
    """How many ages fall in each of AGE_RANGES."""
    counts = [0] * len(AGE_RANGES)
    for days in ages:
        for index, age_range in enumerate(AGE_RANGES):
            if age_range.holds(days):
                counts[index] += 1
                break
    return tuple(counts)


@dataclass(frozen=True, slots=True)
class HeldCard:
    """A card held by an office at a moment, and since when."""

    office_id: int
    order_ref: str
    since: datetime


def held_at(changes: Iterable[StatusChange], moment: datetime) -> list[HeldCard]:
    """The cards in custody (booked or not) at `moment`, replaying their status changes.

    Custody starts when the card comes in from the post; a failed or cancelled meeting that
    sends it back from booked keeps its age, as the card's `in_custody_since` does.
    """
    status: dict[int, CardStatus] = {}
    since: dict[int, datetime] = {}
    seen: dict[int, StatusChange] = {}
    for change in sorted(changes, key=lambda c: c.occurred_at):
        if change.occurred_at >= moment:
            break
        card = change.card_id
        if change.to_status in HELD and (card not in since or status.get(card) not in HELD):
            since[card] = change.occurred_at
        status[card] = change.to_status
        seen[card] = change
    return [
        HeldCard(seen[card].office_id, seen[card].order_ref, since[card])
        for card, now_status in status.items()
        if now_status in HELD
    ]


def _within(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def month_report(
    month: str,
    *,
    offices: Sequence[OfficeRow],
    meetings: Iterable[MeetingRow],
    changes: Iterable[StatusChange],
    lines: Iterable[PaidLine],
    now: datetime,
) -> MonthReport:
    """The month's figures per office, ordered by office code."""
    start, end = month_bounds(month)
    counted_at = min(end, max(now, start))
    handouts: Counter[int] = Counter()
    failed: defaultdict[int, Counter[FailureReason]] = defaultdict(Counter)
    confirmed: Counter[int] = Counter()
    not_confirmed: Counter[int] = Counter()
    for meeting in meetings:
        if not _within(meeting.closed_at, start, end):
            continue
        if meeting.status == MeetingStatus.handed_out:
            handouts[meeting.office_id] += 1
        elif meeting.status == MeetingStatus.failed:
            failed[meeting.office_id][meeting.failure_reason or FailureReason.other] += 1
        else:
            continue
        # A meeting that took place: did the card user answer the reminder «JA»?
        if meeting.attendance_confirmed_at is not None:
            confirmed[meeting.office_id] += 1
        else:
            not_confirmed[meeting.office_id] += 1
    extra: Counter[int] = Counter(
        line.office_id
        for line in lines
        if line.kind == PayoutKind.extra_meeting and _within(line.occurred_at, start, end)
    )
    held: defaultdict[int, list[HeldCard]] = defaultdict(list)
    for card in held_at(changes, counted_at):
        held[card.office_id].append(card)
    figures = []
    for office in sorted(offices, key=lambda o: o.code):
        cards = held[office.id]
        ages = [age_in_days(card.since, counted_at) for card in cards]
        figures.append(
            OfficeFigures(
                code=office.code,
                name=office.name,
                handouts=handouts[office.id],
                failed={reason: failed[office.id][reason] for reason in FailureReason},
                extra_meetings=extra[office.id],
                custody_ages=age_counts(ages),
                stuck=tuple(
                    sorted(
                        card.order_ref
                        for card, days in zip(cards, ages, strict=True)
                        if days >= STUCK_DAYS
                    )
                ),
                attendance_confirmed=confirmed[office.id],
                attendance_not_confirmed=not_confirmed[office.id],
            )
        )
    return MonthReport(month, counted_at, tuple(figures))
