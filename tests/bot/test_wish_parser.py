"""Swedish time wishes to TimeWish, against a fixed now: Saturday 2026-11-28 10:00 (week 48)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.wish_parser import parse_wish
from models.zone import STOCKHOLM
from scheduler.wishes import END_OF_DAY, NOT_UNDERSTOOD, TimeWish

NOW = datetime(2026, 11, 28, 10, 0, tzinfo=STOCKHOLM)  # a Saturday
WORKDAYS = frozenset(range(5))


def d(text: str) -> date:
    return date.fromisoformat(text)


def days(*spans: str) -> tuple[tuple[date, date], ...]:
    """«2026-12-03» is one day, «2026-11-30..2026-12-06» a range."""
    out = []
    for span in spans:
        first, _, last = span.partition("..")
        out.append((d(first), d(last or first)))
    return tuple(out)


def clocks(*spans: str) -> tuple[tuple[time, time], ...]:
    """«14:00-14:30»; an end of «24» means end of day."""
    out = []
    for span in spans:
        start, end = span.split("-")
        out.append(
            (time.fromisoformat(start), END_OF_DAY if end == "24" else time.fromisoformat(end))
        )
    return tuple(out)


def wish(
    dates: tuple[tuple[date, date], ...] = (),
    wd: frozenset[int] | set[int] = frozenset(),
    times: tuple[tuple[time, time], ...] = (),
    not_dates: tuple[tuple[date, date], ...] = (),
    not_wd: frozenset[int] | set[int] = frozenset(),
    not_times: tuple[tuple[time, time], ...] = (),
    asap: bool = False,
) -> TimeWish:
    return TimeWish(
        date_ranges=dates,
        weekdays=frozenset(wd),
        time_ranges=times,
        excluded_date_ranges=not_dates,
        excluded_weekdays=frozenset(not_wd),
        excluded_time_ranges=not_times,
        asap=asap,
    )


NEXT_WEEK = days("2026-11-30..2026-12-06")

CASES: list[tuple[str, TimeWish]] = [
    # weekdays, their forms and spellings
    ("tisdag", wish(wd={1})),
    ("tis", wish(wd={1})),
    ("på torsdag", wish(wd={3})),
    ("tisdagar", wish(wd={1})),
    ("tisdagen", wish(wd={1})),
    ("Måndag", wish(wd={0})),
    ("mandag", wish(wd={0})),
    ("lordag", wish(wd={5})),
    ("sön", wish(wd={6})),
    ("fre.", wish(wd={4})),
    ("ONSDAGARNA", wish(wd={2})),
    ("mån-fre", wish(wd=WORKDAYS)),
    ("fre–mån", wish(wd={4, 5, 6, 0})),
    ("tisdag till torsdag", wish(wd={1, 2, 3})),
    ("vardagar", wish(wd=WORKDAYS)),
    ("helger", wish(wd={5, 6})),
    ("tisdag eller torsdag", wish(wd={1, 3})),
    ("kan man komma på sondag?", wish(wd={6})),  # «man» is no Monday
    # relative days and weeks
    ("idag", wish(dates=days("2026-11-28"))),
    ("i dag", wish(dates=days("2026-11-28"))),
    ("imorgon", wish(dates=days("2026-11-29"))),
    ("i morgon", wish(dates=days("2026-11-29"))),
    ("i övermorgon", wish(dates=days("2026-11-30"))),
    ("overmorgon", wish(dates=days("2026-11-30"))),
    ("nästa vecka", wish(dates=NEXT_WEEK)),
    ("nasta vecka", wish(dates=NEXT_WEEK)),
    ("nästa tisdag", wish(dates=days("2026-12-01"))),
    ("nästa fredagskväll", wish(dates=days("2026-12-04"), times=clocks("17:00-21:00"))),
    ("i veckan", wish(dates=days("2026-11-28..2026-11-29"))),
    ("i helgen", wish(dates=days("2026-11-28..2026-11-29"))),
    ("nästa helg", wish(dates=days("2026-12-05..2026-12-06"))),
    ("om två veckor", wish(dates=days("2026-12-07..2026-12-13"))),
    ("om 3 dagar", wish(dates=days("2026-12-01"))),
    ("nästa månad", wish(dates=days("2026-12-01..2026-12-31"))),
    ("ikväll", wish(dates=days("2026-11-28"), times=clocks("17:00-21:00"))),
    ("imorgon bitti", wish(dates=days("2026-11-29"), times=clocks("07:00-10:00"))),
    ("i morgon eftermiddag", wish(dates=days("2026-11-29"), times=clocks("12:00-17:00"))),
    # ISO weeks, rolling over to next year once passed
    ("vecka 49", wish(dates=NEXT_WEEK)),
    ("v. 49", wish(dates=NEXT_WEEK)),
    ("v49", wish(dates=NEXT_WEEK)),
    ("V 49", wish(dates=NEXT_WEEK)),
    ("vecka 48", wish(dates=days("2026-11-23..2026-11-29"))),
    ("vecka 47", wish(dates=days("2027-11-22..2027-11-28"))),
    ("vecka 2", wish(dates=days("2027-01-11..2027-01-17"))),
    ("vecka 53", wish(dates=days("2026-12-28..2027-01-03"))),
    ("v 49-50", wish(dates=days("2026-11-30..2026-12-13"))),
    ("vecka 49 eller 50", wish(dates=(*NEXT_WEEK, *days("2026-12-07..2026-12-13")))),
    ("vecka 60", NOT_UNDERSTOOD),
    # dates
    ("3 december", wish(dates=days("2026-12-03"))),
    ("3 dec", wish(dates=days("2026-12-03"))),
    ("den 3:e dec.", wish(dates=days("2026-12-03"))),
    ("3/12", wish(dates=days("2026-12-03"))),
    ("3/12/2026", wish(dates=days("2026-12-03"))),
    ("2026-12-03", wish(dates=days("2026-12-03"))),
    ("den 5:e", wish(dates=days("2026-12-05"))),
    ("5e", wish(dates=days("2026-12-05"))),
    ("den 1:a", wish(dates=days("2026-12-01"))),
    ("den 28:e", wish(dates=days("2026-11-28"))),  # today is not in the past
    ("den 31", wish(dates=days("2026-12-31"))),  # November has no 31st
    ("3 januari", wish(dates=days("2027-01-03"))),
    ("28 november", wish(dates=days("2026-11-28"))),
    ("27 november", wish(dates=days("2027-11-27"))),
    ("12/3", wish(dates=days("2027-03-12"))),  # day before month, as in Sweden
    ("31/2", NOT_UNDERSTOOD),
    ("3-5 december", wish(dates=days("2026-12-03..2026-12-05"))),
    ("28/12-3/1", wish(dates=days("2026-12-28..2027-01-03"))),
    ("efter 5 december", wish(dates=((d("2026-12-06"), date.max),))),
    ("före 3 december", wish(dates=days("2026-11-28..2026-12-02"))),
    ("i december", wish(dates=days("2026-12-01..2026-12-31"))),
    # parts of day
    ("förmiddag", wish(times=clocks("08:00-12:00"))),
    ("formiddag", wish(times=clocks("08:00-12:00"))),
    ("fm", wish(times=clocks("08:00-12:00"))),
    ("lunch", wish(times=clocks("11:00-13:00"))),
    ("eftermiddag", wish(times=clocks("12:00-17:00"))),
    ("på eftermiddagen", wish(times=clocks("12:00-17:00"))),
    ("em", wish(times=clocks("12:00-17:00"))),
    ("e.m.", wish(times=clocks("12:00-17:00"))),
    ("kväll", wish(times=clocks("17:00-21:00"))),
    ("kvällstid", wish(times=clocks("17:00-21:00"))),
    ("efter lunch", wish(times=clocks("13:00-24"))),
    ("före lunch", wish(times=clocks("00:00-11:00"))),
    ("efter jobbet", wish(times=clocks("17:00-24"))),
    # clock times and ranges
    ("efter 16", wish(times=clocks("16:00-24"))),
    ("efter kl 16", wish(times=clocks("16:00-24"))),
    ("före 10", wish(times=clocks("00:00-10:00"))),
    ("innan 10", wish(times=clocks("00:00-10:00"))),
    ("senast 10", wish(times=clocks("00:00-10:01"))),
    ("mellan 10 och 12", wish(times=clocks("10:00-12:00"))),
    ("10-12", wish(times=clocks("10:00-12:00"))),
    ("10–12", wish(times=clocks("10:00-12:00"))),
    ("kl 14.30-15.30", wish(times=clocks("14:30-15:30"))),
    ("kl 14", wish(times=clocks("14:00-14:30"))),
    ("kl. 14", wish(times=clocks("14:00-14:30"))),
    ("klockan 14", wish(times=clocks("14:00-14:30"))),
    ("14.30", wish(times=clocks("14:30-15:00"))),
    ("14:30", wish(times=clocks("14:30-15:00"))),
    ("efter 3", wish(times=clocks("15:00-24"))),  # an hour 1–6 is afternoon
    ("halv tre", wish(times=clocks("14:30-15:00"))),
    ("efter fem", wish(times=clocks("17:00-24"))),
    ("kl 9 fm", wish(times=clocks("09:00-09:30"))),
    ("kl 5 em", wish(times=clocks("17:00-17:30"))),
    ("kl 23.45", wish(times=clocks("23:45-24"))),
    # as soon as possible, any time
    ("så snart som möjligt", wish(asap=True)),
    ("sa snart som mojligt", wish(asap=True)),
    ("snarast", wish(asap=True)),
    ("ASAP!", wish(asap=True)),
    ("första bästa", wish(asap=True)),
    ("när som helst", TimeWish()),
    # negation
    ("inte måndag", wish(not_wd={0})),
    ("ej fredag", wish(not_wd={4})),
    ("inte på förmiddagen", wish(not_times=clocks("08:00-12:00"))),
    ("inte idag", wish(not_dates=days("2026-11-28"))),
    ("inte måndag eller fredag", wish(not_wd={0, 4})),
    ("alla dagar utom fredag", wish(not_wd={4})),
    ("tisdag går inte, men torsdag", wish(wd={3}, not_wd={1})),
    ("jag kan inte komma på måndag", wish(not_wd={0})),
    ("tisdag går inte på förmiddagen", wish(wd={1}, not_times=clocks("08:00-12:00"))),
    ("inte måndag, tisdag går bra", wish(wd={1}, not_wd={0})),
    ("inte idag utan imorgon", wish(dates=days("2026-11-29"), not_dates=days("2026-11-28"))),
    # combinations
    ("tisdag eller torsdag eftermiddag", wish(wd={1, 3}, times=clocks("12:00-17:00"))),
    ("nästa vecka efter 15", wish(dates=NEXT_WEEK, times=clocks("15:00-24"))),
    ("onsdag 3/12 kl 14", wish(dates=days("2026-12-03"), times=clocks("14:00-14:30"))),
    ("tisdagen den 1 december kl. 14", wish(dates=days("2026-12-01"), times=clocks("14:00-14:30"))),
    ("fredagskväll", wish(wd={4}, times=clocks("17:00-21:00"))),
    ("eftermiddag efter 15", wish(times=clocks("15:00-17:00"))),
    ("förmiddag eller kväll", wish(times=clocks("08:00-12:00", "17:00-21:00"))),
    ("efter 10 och före 12", wish(times=clocks("10:00-12:00"))),
    ("snarast, gärna efter 16", wish(asap=True, times=clocks("16:00-24"))),
    ("vecka 49 tisdag eller torsdag", wish(dates=NEXT_WEEK, wd={1, 3})),
    (
        "mån-fre efter 17 men inte fredag",
        wish(wd=WORKDAYS, times=clocks("17:00-24"), not_wd={4}),
    ),
    (
        "Jag vill hämta mitt kort. Har ni tid på onsdag efter lunch? Annars torsdag.",
        wish(wd={2, 3}, times=clocks("13:00-24")),
    ),
    ("Tisdag 1/12 el. onsdag 2/12", wish(dates=days("2026-12-01", "2026-12-02"))),
    ("tisdag 🙂", wish(wd={1})),
    # nothing usable
    ("hej hej", NOT_UNDERSTOOD),
    ("", NOT_UNDERSTOOD),
    ("🙂👍", NOT_UNDERSTOOD),
    ("i mån av tid", NOT_UNDERSTOOD),
    ("min son", NOT_UNDERSTOOD),
    ("070-123 45 67", NOT_UNDERSTOOD),
    ("jag vet inte", NOT_UNDERSTOOD),
    ("ca 14 dagar", NOT_UNDERSTOOD),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_phrase(text: str, expected: TimeWish) -> None:
    assert parse_wish(text, now=NOW) == expected


def test_table_is_large_enough() -> None:
    assert len(CASES) >= 80


@pytest.mark.parametrize(
    "text",
    [
        "a" * 5000,
        "tisdag " * 714,
        "inte " * 1000,
        "1-" * 2500,
        "🙂" * 5000,
        ("kl 14 den 5:e v49 inte mån eller 3/12 halv tre, " * 120)[:5000],
    ],
    ids=["letters", "weekdays", "negations", "dashes", "emoji", "mixed"],
)
def test_long_text_gets_an_answer(text: str) -> None:
    # Speed is a benchmark's business; here a 5,000-character message must simply be parsed.
    wish = parse_wish(text, now=NOW)
    assert wish.understood == text.startswith(("tisdag", "kl 14"))


@pytest.mark.parametrize(
    ("now", "text", "expected"),
    [
        # Monday: «nästa tisdag» is next week's, not tomorrow
        (datetime(2026, 11, 30, 9, tzinfo=STOCKHOLM), "nästa tisdag", days("2026-12-08")),
        # «idag» is the Stockholm day, whatever zone now is given in
        (datetime(2026, 11, 28, 23, 30, tzinfo=UTC), "idag", days("2026-11-29")),
        # the morning clocks spring forward: dates are whole local days regardless
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "imorgon", days("2026-03-30")),
        # near New Year
        (datetime(2026, 12, 30, 12, tzinfo=STOCKHOLM), "3 januari", days("2027-01-03")),
        (datetime(2026, 12, 30, 12, tzinfo=STOCKHOLM), "vecka 1", days("2027-01-04..2027-01-10")),
        (
            datetime(2026, 12, 30, 12, tzinfo=STOCKHOLM),
            "nästa vecka",
            days("2027-01-04..2027-01-10"),
        ),
        (datetime(2026, 12, 30, 12, tzinfo=STOCKHOLM), "den 2:a", days("2027-01-02")),
    ],
)
def test_relative_to_now(now: datetime, text: str, expected: tuple[tuple[date, date], ...]) -> None:
    assert parse_wish(text, now=now).date_ranges == expected


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_wish("tisdag", now=datetime(2026, 11, 28, 10))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_a_wish(text: str) -> None:
    result = parse_wish(text, now=NOW)
    assert isinstance(result, TimeWish)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["tisdag", "inte", "eller", "kl", "14", "10-12", "3/12", "v49", "den", "5:e",
             "efter", "före", "halv", "tre", "em", "nästa", "vecka", ",", "men", "går inte"]
        ),
        max_size=15,
    )
)  # fmt: skip
def test_word_salad_gives_a_wish(words: list[str]) -> None:
    assert isinstance(parse_wish(" ".join(words), now=NOW), TimeWish)
