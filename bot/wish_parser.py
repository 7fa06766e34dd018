"""Swedish free-text time wishes («tisdag eftermiddag», «inte fredag») into a TimeWish.

How: a small table-driven parser. Each rule is a regex built from tables of Swedish words
(å/ä/ö may be written a/a/o in full words; short forms such as «mån», «lör», «sön» need the
diacritic, since «man» and «son» are ordinary words) plus a small reader. Rules run in priority
order, each masking what it consumed; then negations («inte», «ej», «utom», «går inte») are
attached to the constraints they govern, and the pieces are combined.

dateparser 1.5.0 was tried and is not used: with languages=["sv"] it read «3/12» as 12 March
and «den 5:e» as 28 May, and returned nothing for «tisdagar», «i övermorgon», «nästa tisdag»,
«vecka 49», «förmiddag», «efter 16», «kl 14» and negation. It yields single datetimes, not the
ranges and exclusions a wish needs, and would add the regex and pytz packages. What it did
get right («imorgon», «3 dec», «14:30») takes a few table rows here.

Readings chosen (local time; a time range includes its start and excludes its end):
- parts of day: morgon/bitti 07–10, förmiddag/fm 08–12, lunch 11–13, eftermiddag/em 12–17,
  kväll 17–21, dagtid 08–17; «efter lunch» from 13, «före lunch» before 11, «efter jobbet»
  from 17; a weekday compound («tisdagskväll») gives both.
- «kl 14», «14:30», «halv tre»: slots starting at that time or within the next 30 minutes.
- «efter 16»: starting at 16:00 or later; «före/innan 10»: starting before 10:00; «senast 10»
  includes 10:00; «mellan 10 och 12» and «10-12»: starting in [10:00, 12:00).
- an hour 1–6 written without a leading zero means afternoon («efter 3» is 15:00).
- «tisdag»: any Tuesday; «nästa tisdag»: Tuesday of next week (ISO, Monday first);
  «nästa vecka»: Monday–Sunday of next week; «vecka 49»/«v49»: that ISO week this year, or
  next year once it is over; a date without a year is the next one not in the past.
- «den 5:e», «5e»: the next 5th of a month that is not in the past.
- a weekday next to a date («onsdag 3/12») is dropped: the date wins.
- combining: dates are alternatives, weekdays are alternatives, times are alternatives; the
  three combine with and. Two time phrases side by side intersect («eftermiddag efter 15» is
  15–17) unless joined by «eller», or by «och» when neither is open-ended.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, TypeVar

from models.zone import STOCKHOLM
from scheduler.wishes import END_OF_DAY, NOT_UNDERSTOOD, START_OF_DAY, TimeWish

AT_TIME_TOLERANCE = timedelta(minutes=30)

# ---------------------------------------------------------------- pieces of a wish


@dataclass(frozen=True, slots=True)
class _Dates:
    first: date
    last: date


@dataclass(frozen=True, slots=True)
class _Days:
    days: frozenset[int]


@dataclass(frozen=True, slots=True)
class _Clock:
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class _Flag:
    asap: bool  # True: as soon as possible; False: any time is fine (still understood)


_Piece = _Dates | _Days | _Clock | _Flag
_Pieces = tuple[_Piece, ...]
_Kind = Literal["constraint", "negation", "postfix"]


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    kind: _Kind
    pieces: _Pieces = ()


@dataclass(slots=True)
class _Found:
    start: int
    end: int
    pieces: _Pieces
    negated: bool


_Reader = Callable[[re.Match[str], date], _Pieces | None]


@dataclass(frozen=True, slots=True)
class _Rule:
    pattern: re.Pattern[str]
    read: _Reader
    kind: _Kind = "constraint"


# ---------------------------------------------------------------- words and regex helpers

_L = r"(?<!\w)"
_R = r"(?!\w)"
_FOLD = str.maketrans("åäö", "aao")
_TOLERANT = str.maketrans({"å": "[åa]", "ä": "[äa]", "ö": "[öo]"})


def _fold(text: str) -> str:
    """The lookup key of matched text: no diacritics, no dots, single spaces."""
    return " ".join(text.translate(_FOLD).replace(".", " ").split())


def _phrase(phrase: str, *, strict: bool = False) -> str:
    """Regex for a phrase; words may be split by any whitespace, å/ä/ö optional unless strict."""
    words = [re.escape(word) for word in phrase.split()]
    if not strict:
        words = [word.translate(_TOLERANT) for word in words]
    return r"\s+".join(words)


def _any_of(phrases: Iterable[str], *, strict: bool = False) -> str:
    """A non-capturing alternation, longest phrase first so that it wins at a position."""
    ordered = sorted(set(phrases), key=lambda p: (-len(p), p))
    return "(?:" + "|".join(_phrase(p, strict=strict) for p in ordered) + ")"


def _add_minutes(clock: time, minutes: float) -> time:
    """Shift a clock time, clamped to the day (past midnight means end of day)."""
    total = clock.hour * 60 + clock.minute + minutes
    if total >= 24 * 60:
        return END_OF_DAY
    total = max(0, int(total))
    return time(total // 60, total % 60)


def _clock(start: time, end: time) -> _Clock | None:
    return _Clock(start, end) if start < end else None


def _span(first: date, last: date) -> _Dates | None:
    return _Dates(first, last) if first <= last else None


# ---------------------------------------------------------------- tables

_MONTHS: dict[str, int] = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "mars": 3, "mar": 3, "april": 4,
    "apr": 4, "maj": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "augusti": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
# Alone («i december») only full names: «jul» is Christmas, «mar» and «sep» are noise.
_MONTHS_ALONE = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
                 "september", "oktober", "november", "december")  # fmt: skip

_WORKDAYS = frozenset(range(5))
_WEEKEND = frozenset({5, 6})
_WEEKDAY_NAMES: dict[str, frozenset[int]] = {
    "måndag": frozenset({0}), "tisdag": frozenset({1}), "onsdag": frozenset({2}),
    "torsdag": frozenset({3}), "fredag": frozenset({4}), "lördag": frozenset({5}),
    "söndag": frozenset({6}), "vardag": _WORKDAYS, "veckodag": _WORKDAYS, "helg": _WEEKEND,
}  # fmt: skip
# Short forms must be spelled exactly: «mån» not «man», «sön» not «son».
_WEEKDAY_SHORT: dict[str, int] = {
    "mån": 0, "tis": 1, "ons": 2, "tors": 3, "tor": 3, "fre": 4, "lör": 5, "sön": 6,
}  # fmt: skip

_PARTS_OF_DAY: dict[str, tuple[time, time]] = {
    "morgon": (time(7), time(10)),
    "morgn": (time(7), time(10)),  # «morgnar»
    "bitti": (time(7), time(10)),
    "förmiddag": (time(8), time(12)),
    "fm": (time(8), time(12)),
    "lunch": (time(11), time(13)),
    "eftermiddag": (time(12), time(17)),
    "em": (time(12), time(17)),
    "kväll": (time(17), time(21)),
    "dagtid": (time(8), time(17)),
}
_WORK_HOURS = (time(8), time(17))  # «efter jobbet» = from 17, «före jobbet» = before 08

_ASAP = ("så snart som möjligt", "så snart det går", "så snart som det går", "så snart",
         "så fort som möjligt", "så fort det går", "så tidigt som möjligt", "snarast möjligt",
         "snarast", "asap", "a.s.a.p.", "a.s.a.p", "första bästa", "första lediga",
         "första möjliga", "tidigast möjligt", "tidigast möjliga", "snabbast möjligt",
         "fortast möjligt", "omgående", "nästa lediga", "närmaste lediga")  # fmt: skip
_ANY_TIME = ("när som helst", "vilken dag som helst", "vilken tid som helst",
             "spelar ingen roll", "kvittar", "oavsett", "alla dagar", "alla tider",
             "helt flexibel", "flexibel", "valfri tid", "valfri dag")  # fmt: skip

_PREFIX_NEGATIONS = ("inte", "ej", "icke", "ingen", "inga", "utom", "förutom", "undantaget",
                     "aldrig", "helst inte", "inte heller")  # fmt: skip
# These follow what they negate («tisdag går inte»), or precede it («går inte på tisdag»).
_POSTFIX_NEGATIONS = ("går inte", "går ej", "funkar inte", "funkar ej", "fungerar inte",
                      "passar inte", "passar ej", "passar dåligt", "kan inte", "kan jag inte",
                      "går det inte", "är omöjligt", "omöjligt")  # fmt: skip
_PREFIX_REACH = 4  # words allowed between «inte» and what it negates: «inte så gärna på»
_POSTFIX_REACH = 2

_BOUNDARY_WORDS = ("men", "utan", "annars", "fast", "däremot", "dock")
# Words that may sit between two constraints of one negated list: «inte mån eller på fre».
_CHAIN_WORDS = frozenset(
    _fold(w) for w in ("eller", "el", "alt", "alternativt", "och", "samt", "heller", "på",
                       "den", "i", "under", "kl", "klockan", "helst", "bara", "också")
)  # fmt: skip
_OR_WORDS = ("eller", "el", "alt", "alternativt")

_NUMBER_WORDS: dict[str, int] = {
    "två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6, "sju": 7, "åtta": 8, "nio": 9,
    "tio": 10, "elva": 11, "tolv": 12,
}  # fmt: skip
_COUNT_WORDS: dict[str, int] = {"en": 1, "ett": 1, **_NUMBER_WORDS}

# Date prefixes: how «efter 5 december» etc. turn a date (range) into an open range.
_DATE_PREFIXES: dict[str, str] = {
    "efter": "after", "från": "from", "från och med": "from", "fr o m": "from",
    "tidigast": "from", "före": "before", "innan": "before", "senast": "until",
    "till och med": "until", "t o m": "until",
}  # fmt: skip
_DATE_PREFIX_WORDS = ("efter", "från och med", "fr.o.m.", "fr.o.m", "från", "tidigast", "före",
                      "innan", "senast", "till och med", "t.o.m.", "t.o.m")  # fmt: skip

_TIME_PREFIXES: dict[str, str] = {
    "efter": "after", "från": "after", "tidigast": "after", "senare än": "after",
    "före": "before", "innan": "before", "tidigare än": "before", "fram till": "before",
    "senast": "until",
}  # fmt: skip

_V = TypeVar("_V")


def _by_fold(table: Mapping[str, _V]) -> dict[str, _V]:
    """The table keyed by folded words, for looking up whatever spelling matched."""
    return {_fold(word): value for word, value in table.items()}


_MONTH_OF = _by_fold(_MONTHS)
_WEEKDAYS_OF = _by_fold(
    {**_WEEKDAY_NAMES, **{w: frozenset({d}) for w, d in _WEEKDAY_SHORT.items()}}
)
_PART_OF = _by_fold(_PARTS_OF_DAY)
_NUMBER_OF = _by_fold(_COUNT_WORDS)
_DATE_PREFIX_OF = _by_fold(_DATE_PREFIXES)
_TIME_PREFIX_OF = _by_fold(_TIME_PREFIXES)

# ---------------------------------------------------------------- normalising

_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―−", "-"))
# Words after which a number word is an hour: «efter fem», «halv tre», «mellan tio och tolv».
_HOUR_LEADS = ("kl.", "kl", "klockan", "halv", "efter", "före", "innan", "mellan", "vid", "runt",
               "från", "och", "till", "tidigast", "senast")  # fmt: skip
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Units after a number mean it is no clock time: «efter fem dagar», «ca 14 personer».
_NOT_UNIT = (
    r"(?!\s*(?:dagar|dag|veckor|vecka|timmar|timme|tim|minuter|min|månader|manader"
    r"|personer|kr)\b)"
)
_NUMBER_WORD = re.compile(
    _L
    + r"(?P<lead>"
    + _any_of(_HOUR_LEADS)
    + r"\s+)(?P<word>"
    + _any_of(_NUMBER_WORDS)
    + ")"
    + _R
    + _NOT_UNIT
)


def _digits(match: re.Match[str]) -> str:
    return match.group("lead") + str(_NUMBER_OF[_fold(match.group("word"))])


def _normalize(text: str) -> str:
    """Casefolded NFC text with plain dashes, no control characters, hour words as digits."""
    text = unicodedata.normalize("NFC", text).casefold().translate(_DASHES)
    text = _CONTROL.sub(" ", text)
    return _NUMBER_WORD.sub(_digits, text)


# ---------------------------------------------------------------- calendar helpers


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week(today: date, ahead: int) -> _Dates:
    """A whole ISO week `ahead` weeks from now; the current week from today on."""
    monday = _monday(today) + timedelta(weeks=ahead)
    return _Dates(max(monday, today), monday + timedelta(days=6))


def _weekend(today: date, ahead: int) -> _Dates:
    monday = _monday(today) + timedelta(weeks=ahead)
    return _Dates(max(monday + timedelta(days=5), today), monday + timedelta(days=6))


def _month_span(year: int, month: int) -> _Dates:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return _Dates(first, following - timedelta(days=1))


def _month_ahead(today: date, ahead: int) -> _Dates:
    index = today.month - 1 + ahead
    span = _month_span(today.year + index // 12, index % 12 + 1)
    return _Dates(max(span.first, today), span.last)


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    return int(text) + (2000 if len(text) == 2 else 0)


def _upcoming(today: date, month: int, day: int, year: int | None = None) -> date | None:
    """The date with an explicit year, else the next such date that is not in the past."""
    if year is not None:
        return _date(year, month, day)
    for candidate in (_date(today.year, month, day), _date(today.year + 1, month, day)):
        if candidate is not None and candidate >= today:
            return candidate
    return None


def _next_day_of_month(today: date, day: int) -> date | None:
    """The next «5th» from today on, skipping months too short for it."""
    year, month = today.year, today.month
    for _ in range(13):
        candidate = _date(year, month, day)
        if candidate is not None and candidate >= today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _iso_week(today: date, week: int) -> _Dates | None:
    """ISO week this (ISO) year, or next year once it is over."""
    iso_year = today.isocalendar().year
    for year in (iso_year, iso_year + 1):
        try:
            monday = date.fromisocalendar(year, week, 1)
        except ValueError:
            continue
        if monday + timedelta(days=6) >= today:
            return _Dates(monday, monday + timedelta(days=6))
    return None


def _bounded(prefix: str | None, span: _Dates | None, today: date) -> _Dates | None:
    """Apply «efter», «från», «före», «senast» to a date span."""
    if prefix is None or span is None:
        return span
    kind = _DATE_PREFIX_OF[_fold(prefix)]
    one_day = timedelta(days=1)
    bounds = {
        "after": (span.last + one_day, date.max),
        "from": (span.first, date.max),
        "before": (today, span.first - one_day),
        "until": (today, span.last),
    }[kind]
    return _span(*bounds)


def _one(piece: _Piece | None) -> _Pieces | None:
    return None if piece is None else (piece,)


def _hour(written: str, marker: str | None) -> int:
    """A written hour: «em»/«fm» decide; else 1–6 without a leading zero is afternoon."""
    hour = int(written)
    if marker == "e":
        return hour + 12 if hour < 12 else hour
    if marker == "f":
        return hour
    return hour + 12 if len(written) == 1 and 1 <= hour <= 6 else hour


def _time_of(match: re.Match[str], n: int) -> time:
    """The clock time of time group n: «14», «14.30», «2», «halv 3», «5 em»."""
    half = match.group(f"hh{n}")
    if half is not None:
        written, minute = str(int(half) - 1 or 12), 30  # «halv tre» is 2:30
    else:
        written, minute = match.group(f"h{n}"), int(match.group(f"m{n}") or 0)
    return time(_hour(written, match.group(f"ap{n}")), minute)


def _part(key: str) -> _Clock:
    start, end = _PART_OF[key]
    return _Clock(start, end)


# ---------------------------------------------------------------- readers


def _read_flag(asap: bool) -> _Reader:
    return lambda _m, _today: (_Flag(asap),)


def _read_nothing(_match: re.Match[str], _today: date) -> _Pieces | None:
    return ()


_RELATIVE_WORDS: dict[str, Callable[[date], _Pieces]] = {
    **dict.fromkeys(("idag", "i dag"), lambda t: (_Dates(t, t),)),
    **dict.fromkeys(
        ("imorgon", "i morgon", "imorn", "i morn", "imorrn", "i morrn", "imorron",
         "i morron", "morgondagen"),
        lambda t: (_Dates(t + timedelta(days=1), t + timedelta(days=1)),),
    ),
    **dict.fromkeys(
        ("i övermorgon", "iövermorgon", "övermorgon"),
        lambda t: (_Dates(t + timedelta(days=2), t + timedelta(days=2)),),
    ),
    **dict.fromkeys(("ikväll", "i kväll"), lambda t: (_Dates(t, t), _part("kvall"))),
    "i eftermiddag": lambda t: (_Dates(t, t), _part("eftermiddag")),
    "i förmiddag": lambda t: (_Dates(t, t), _part("formiddag")),
    **dict.fromkeys(
        ("i veckan", "denna vecka", "denna veckan", "den här veckan", "under veckan",
         "nuvarande vecka"),
        lambda t: (_week(t, 0),),
    ),
    **dict.fromkeys(
        ("nästa vecka", "nästa veckan", "nästkommande vecka", "kommande vecka",
         "veckan som kommer"),
        lambda t: (_week(t, 1),),
    ),
    **dict.fromkeys(
        ("veckan efter nästa", "nästnästa vecka"), lambda t: (_week(t, 2),)
    ),
    **dict.fromkeys(
        ("i helgen", "helgen", "till helgen", "denna helg", "den här helgen",
         "kommande helg", "över helgen"),
        lambda t: (_weekend(t, 0),),
    ),
    **dict.fromkeys(("nästa helg", "nästa helgen"), lambda t: (_weekend(t, 1),)),
    **dict.fromkeys(
        ("nästa månad", "nästa månaden", "kommande månad"), lambda t: (_month_ahead(t, 1),)
    ),
    **dict.fromkeys(
        ("denna månad", "i månaden", "den här månaden", "resten av månaden"),
        lambda t: (_month_ahead(t, 0),),
    ),
}  # fmt: skip
_RELATIVE = _by_fold(_RELATIVE_WORDS)


def _read_relative(match: re.Match[str], today: date) -> _Pieces | None:
    return _RELATIVE[_fold(match.group(0))](today)


def _read_in_n(match: re.Match[str], today: date) -> _Pieces | None:
    """«om 3 dagar», «om två veckor»."""
    count = match.group("n")
    n = int(count) if count.isdigit() else _NUMBER_OF[_fold(count)]
    if match.group("unit").startswith("dag"):
        day = today + timedelta(days=n)
        return (_Dates(day, day),)
    return (_week(today, n),)


def _weekdays_of(match: re.Match[str], group: str) -> frozenset[int]:
    word = match.group(group) or match.group(group + "s")
    return _WEEKDAYS_OF[_fold(word)]


def _parts_of(match: re.Match[str], *groups: str) -> _Pieces:
    return tuple(_part(_fold(match.group(g))) for g in groups if match.group(g))


def _read_next_weekday(match: re.Match[str], today: date) -> _Pieces | None:
    """«nästa tisdag»: that weekday in next ISO week."""
    days = _weekdays_of(match, "a")
    parts = _parts_of(match, "ap")
    if len(days) == 1:
        (day,) = days
        when = _monday(today) + timedelta(days=7 + day)
        return (_Dates(when, when), *parts)
    return (_week(today, 1), _Days(days), *parts)


def _read_weekdays(match: re.Match[str], today: date) -> _Pieces | None:
    """«tisdag», «tisdagar», «tis», «mån-fre», «fredagskväll»."""
    first = _weekdays_of(match, "a")
    if match.group("b") is None and match.group("bs") is None:
        return (_Days(first), *_parts_of(match, "ap"))
    last = _weekdays_of(match, "b")
    if len(first) != 1 or len(last) != 1:
        return (_Days(first | last), *_parts_of(match, "ap", "bp"))
    (a,), (b,) = first, last
    days = frozenset((a + i) % 7 for i in range((b - a) % 7 + 1))  # «fre-mån» wraps
    return (_Days(days), *_parts_of(match, "ap", "bp"))


def _read_week_number(match: re.Match[str], today: date) -> _Pieces | None:
    """«vecka 49», «v49», «v. 49-50», «vecka 49 eller 50»."""
    first = _iso_week(today, int(match.group("w1")))
    if match.group("w2") is None:
        return _one(first)
    second = _iso_week(today, int(match.group("w2")))
    if first is None or second is None:
        return None
    if match.group("sep") == "-":
        return _one(_span(first.first, second.last))
    return (first, second)


def _read_month_date(match: re.Match[str], today: date) -> _Pieces | None:
    """«3 december», «3:e dec», «3-5 dec», «efter 5 december 2026»."""
    month = _MONTH_OF[_fold(match.group("mon"))]
    first = _upcoming(today, month, int(match.group("d1")), _year(match.group("y")))
    if first is None:
        return None
    last = first
    if match.group("d2") is not None:
        last_day = _date(first.year, month, int(match.group("d2")))
        if last_day is None:
            return None
        last = last_day
    return _one(_bounded(match.group("pre"), _span(first, last), today))


def _read_numeric_date(match: re.Match[str], today: date) -> _Pieces | None:
    """«3/12», «3/12/2026», «28/12-3/1» (day before month, as written in Sweden)."""
    year = _year(match.group("y"))
    first = _upcoming(today, int(match.group("m1")), int(match.group("d1")), year)
    if first is None:
        return None
    last = first
    if match.group("d2") is not None:
        d2, m2 = int(match.group("d2")), int(match.group("m2"))
        end = _date(first.year, m2, d2)
        if end is not None and end < first:
            end = _date(first.year + 1, m2, d2)  # «28/12-3/1» crosses the new year
        if end is None:
            return None
        last = end
    return _one(_bounded(match.group("pre"), _span(first, last), today))


def _read_iso_date(match: re.Match[str], today: date) -> _Pieces | None:
    """«2026-12-03»."""
    day = _date(int(match.group("y")), int(match.group("m1")), int(match.group("d1")))
    span = None if day is None else _Dates(day, day)
    return _one(_bounded(match.group("pre"), span, today))


def _read_ordinal(match: re.Match[str], today: date) -> _Pieces | None:
    """«den 5:e», «den 5», «5e», «1:a»: the next such day of a month."""
    day = _next_day_of_month(today, int(match.group("d1") or match.group("d2")))
    span = None if day is None else _Dates(day, day)
    return _one(_bounded(match.group("pre"), span, today))


def _read_month(match: re.Match[str], today: date) -> _Pieces | None:
    """«i december»: that whole month, this year unless it is over."""
    month = _MONTH_OF[_fold(match.group("mon"))]
    span = _month_span(today.year, month)
    return (span if span.last >= today else _month_span(today.year + 1, month),)


def _read_work(match: re.Match[str], today: date) -> _Pieces | None:
    """«efter jobbet», «före jobbet»."""
    start, end = _WORK_HOURS
    if _fold(match.group("pre")) == "efter":
        return _one(_clock(end, END_OF_DAY))
    return _one(_clock(START_OF_DAY, start))


def _read_part_of_day(match: re.Match[str], today: date) -> _Pieces | None:
    """«förmiddag», «på eftermiddagen», «em», «efter lunch», «före lunch»."""
    short = match.group("short")
    key = re.sub(r"\W", "", short) if short else _fold(match.group("part"))
    part = _part(key)
    prefix = match.group("pre")
    if prefix is None:
        return (part,)
    if _fold(prefix) == "efter":
        return _one(_clock(part.end, END_OF_DAY))
    return _one(_clock(START_OF_DAY, part.start))


def _read_time_range(match: re.Match[str], today: date) -> _Pieces | None:
    """«mellan 10 och 12», «10-12», «kl 14.30-15.30»: starts in [first, second)."""
    return _one(_clock(_time_of(match, 1), _time_of(match, 2)))


def _read_time_bound(match: re.Match[str], today: date) -> _Pieces | None:
    """«efter 16», «före 10», «senast 10» (inclusive), «tidigast 8»."""
    moment = _time_of(match, 1)
    kind = _TIME_PREFIX_OF[_fold(match.group("pre"))]
    bounds = {
        "after": (moment, END_OF_DAY),
        "before": (START_OF_DAY, moment),
        "until": (START_OF_DAY, _add_minutes(moment, 1)),
    }[kind]
    return _one(_clock(*bounds))


def _read_time_at(match: re.Match[str], today: date) -> _Pieces | None:
    """«kl 14», «14:30», «halv tre»: that time or within the tolerance after it."""
    moment = _time_of(match, 1)
    tolerance = AT_TIME_TOLERANCE.total_seconds() / 60
    return _one(_clock(moment, _add_minutes(moment, tolerance)))


# ---------------------------------------------------------------- patterns

_KL = r"(?:kl(?:ockan)?\.?\s*)"
_DAYNUM = r"(?:[0-3]?\d)"
_ORDINAL = r"(?::?[ae])?"
_DATE_PREFIX = rf"(?:(?P<pre>{_any_of(_DATE_PREFIX_WORDS)})\s+)?"
_MONTH = _any_of(_MONTHS)
_DAY_FULL = _any_of(_WEEKDAY_NAMES)
_DAY_SHORT = _any_of(_WEEKDAY_SHORT, strict=True)
_COMPOUND_PARTS = _any_of(("morgon", "morgn", "förmiddag", "eftermiddag", "kväll", "lunch"))
_PARTS = _any_of(("morgon", "morgn", "bitti", "förmiddag", "eftermiddag", "kväll", "lunch",
                  "dagtid"))  # fmt: skip


def _day_name(g: str) -> str:
    """A weekday word with its endings and an optional part of day: «tisdagskvällar»."""
    return (
        rf"(?:(?P<{g}>{_DAY_FULL})(?:s?(?P<{g}p>{_COMPOUND_PARTS}))?"
        rf"(?:arna|erna|ar|er|en|na|s)?"
        rf"|(?P<{g}s>{_DAY_SHORT})(?!\s+av{_R})\.?)"  # «i mån av tid» is no Monday
    )


def _t(n: int, *, minutes_required: bool = False) -> str:
    """A clock time, captured as group n: «14», «14.30», «14:30», «halv 3»."""
    minutes = rf"[.:](?P<m{n}>[0-5]\d)"
    return (
        rf"(?:halv\s+(?P<hh{n}>1[0-2]|[1-9])"
        rf"|(?P<h{n}>[01]?\d|2[0-3])(?:{minutes}){'' if minutes_required else '?'})"
        rf"(?:\s*(?P<ap{n}>[fe])\.?m\.?{_R})?"  # «kl 5 em»
    )


def _rule(pattern: str, read: _Reader, kind: _Kind = "constraint") -> _Rule:
    return _Rule(re.compile(_L + pattern + _R), read, kind)


# Priority order: earlier rules claim their text first.
_RULES: tuple[_Rule, ...] = (
    _rule(_any_of(_ASAP), _read_flag(asap=True)),
    _rule(_any_of(_ANY_TIME), _read_flag(asap=False)),
    _rule(_any_of(_POSTFIX_NEGATIONS), _read_nothing, "postfix"),
    _rule(_any_of(_PREFIX_NEGATIONS), _read_nothing, "negation"),
    _rule(_any_of(_RELATIVE_WORDS), _read_relative),
    _rule(rf"{_any_of(('nästa', 'nästkommande'))}\s+{_day_name('a')}", _read_next_weekday),
    _rule(
        rf"om\s+(?P<n>\d{{1,2}}|{_any_of(_COUNT_WORDS)})\s+(?P<unit>dagar|dag|veckor|vecka)",
        _read_in_n,
    ),
    _rule(
        r"(?:veckan|vecka|v\.?)\s*(?P<w1>\d{1,2})"
        r"(?:\s*(?P<sep>-|eller|och|,)\s*(?:(?:veckan|vecka|v\.?)\s*)?(?P<w2>\d{1,2}))?",
        _read_week_number,
    ),
    _rule(rf"{_DATE_PREFIX}(?P<y>20\d\d)-(?P<m1>[01]\d)-(?P<d1>[0-3]\d)", _read_iso_date),
    _rule(
        rf"{_DATE_PREFIX}(?:den\s+)?(?P<d1>{_DAYNUM}){_ORDINAL}"
        rf"(?:\s*-\s*(?:den\s+)?(?P<d2>{_DAYNUM}){_ORDINAL})?"
        rf"\s*(?P<mon>{_MONTH})\.?(?:\s+(?P<y>20\d\d))?",
        _read_month_date,
    ),
    _rule(
        rf"{_DATE_PREFIX}(?:den\s+)?(?P<d1>{_DAYNUM})/(?P<m1>[01]?\d)"
        rf"(?:/(?P<y>\d{{4}}|\d{{2}}))?(?:\s*-\s*(?P<d2>{_DAYNUM})/(?P<m2>[01]?\d))?",
        _read_numeric_date,
    ),
    _rule(
        rf"{_DATE_PREFIX}(?:den\s+(?P<d1>{_DAYNUM}){_ORDINAL}|(?P<d2>{_DAYNUM}):?[ae])"
        r"(?![.:]\d)",
        _read_ordinal,
    ),
    _rule(rf"(?:(?:i|under)\s+)?(?P<mon>{_any_of(_MONTHS_ALONE)})", _read_month),
    _rule(
        rf"(?P<pre>{_any_of(('efter', 'före', 'innan'))})\s+"
        r"(?:jobbet|jobb|arbetet|jobbdagen|skolan)",
        _read_work,
    ),
    _rule(rf"{_day_name('a')}(?:\s*(?:-|till)\s*{_day_name('b')})?", _read_weekdays),
    _rule(
        rf"mellan\s+{_KL}?{_t(1)}\s*(?:och|-|till)\s*{_KL}?{_t(2)}{_NOT_UNIT}",
        _read_time_range,
    ),
    _rule(
        rf"(?:{_phrase('från')}\s+)?{_KL}?{_t(1)}\s*(?:-|till)\s*{_KL}?{_t(2)}{_NOT_UNIT}",
        _read_time_range,
    ),
    _rule(rf"(?P<pre>{_any_of(_TIME_PREFIXES)})\s+{_KL}?{_t(1)}{_NOT_UNIT}", _read_time_bound),
    _rule(
        rf"(?:{_KL}|{_any_of(('vid', 'runt', 'omkring', 'cirka', 'ca.', 'ca', 'typ'))}\s+{_KL}?)"
        rf"{_t(1)}{_NOT_UNIT}",
        _read_time_at,
    ),
    _rule(_t(1, minutes_required=True), _read_time_at),
    _rule(
        rf"(?:(?P<pre>{_any_of(('efter', 'före', 'innan'))})\s+)?"
        rf"(?:(?P<part>{_PARTS})(?:arna|ar|en|na|s?tid(?:en)?)?|(?P<short>[fe]\.?m)\.?)",
        _read_part_of_day,
    ),
)

# ---------------------------------------------------------------- finding and combining

_WORD = re.compile(r"\w+")
_BOUNDARY = re.compile(r"[,.;!?\n]|" + _L + _any_of(_BOUNDARY_WORDS) + _R)
_OR = re.compile(r"/|" + _L + _any_of(_OR_WORDS) + _R)
_AND_OR = re.compile(_L + "och" + _R)


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """Blank out consumed spans, keeping positions, so later rules cannot reuse the words."""
    out: list[str] = []
    position = 0
    for start, end in spans:
        out += (text[position:start], "\0" * (end - start))
        position = end
    out.append(text[position:])
    return "".join(out)


def _find(text: str, today: date) -> list[_Hit]:
    """All rule hits in text order; each rule masks its matches from the rules after it."""
    hits: list[_Hit] = []
    masked = text
    for rule in _RULES:
        spans: list[tuple[int, int]] = []
        for match in rule.pattern.finditer(masked):
            spans.append(match.span())
            pieces = rule.read(match, today)
            if pieces is not None:
                hits.append(_Hit(match.start(), match.end(), rule.kind, pieces))
        masked = _mask(masked, spans)
    hits.sort(key=lambda h: h.start)
    return hits


def _within(gap: str, max_words: int) -> bool:
    """A negation reaches across this gap: same clause, few words."""
    return not _BOUNDARY.search(gap) and len(_WORD.findall(gap)) <= max_words


def _chained(gap: str) -> bool:
    """Two constraints form one list: «mån eller fre», «tisdag förmiddag»."""
    return not _BOUNDARY.search(gap) and all(
        _fold(word) in _CHAIN_WORDS for word in _WORD.findall(gap)
    )


def _negate_from(hits: list[_Hit], text: str, negated: list[bool], i: int, step: int) -> None:
    """Negate hit i and the constraints chained to it in direction step (+1 or -1)."""
    negated[i] = True
    j = i + step
    while 0 <= j < len(hits) and hits[j].kind == "constraint":
        left, right = (hits[j - 1], hits[j]) if step > 0 else (hits[j], hits[j + 1])
        if not _chained(text[left.end : right.start]):
            break
        negated[j] = True
        j += step


def _polarity(hits: list[_Hit], text: str) -> list[_Found]:
    """Constraints with negation applied: «inte mån eller fre», «tisdag går inte»."""
    negated = [False] * len(hits)
    for i, hit in enumerate(hits):
        if hit.kind == "constraint":
            continue
        after = hits[i + 1] if i + 1 < len(hits) else None
        before = hits[i - 1] if i > 0 else None
        reach = _PREFIX_REACH if hit.kind == "negation" else _POSTFIX_REACH
        if (
            after is not None
            and after.kind == "constraint"
            and _within(text[hit.end : after.start], reach)
        ):
            _negate_from(hits, text, negated, i + 1, +1)
        elif (
            hit.kind == "postfix"
            and before is not None
            and before.kind == "constraint"
            and _within(text[before.end : hit.start], _POSTFIX_REACH)
        ):
            _negate_from(hits, text, negated, i - 1, -1)
    return [
        _Found(h.start, h.end, h.pieces, negated[i])
        for i, h in enumerate(hits)
        if h.kind == "constraint"
    ]


def _single_weekday(found: _Found) -> bool:
    return any(isinstance(p, _Days) and len(p.days) == 1 for p in found.pieces)


def _single_date(found: _Found) -> bool:
    return any(isinstance(p, _Dates) and p.first == p.last for p in found.pieces)


def _absorb_weekdays(found: list[_Found], text: str) -> None:
    """Drop a weekday written next to a date («onsdag 3/12»): the date is what counts."""
    for left, right in itertools.pairwise(found):
        if left.negated != right.negated:
            continue
        gap = _WORD.findall(text[left.end : right.start])
        if any(_fold(word) != "den" for word in gap):
            continue
        for weekday, dated in ((left, right), (right, left)):
            if _single_weekday(weekday) and _single_date(dated):
                weekday.pieces = tuple(p for p in weekday.pieces if not isinstance(p, _Days))


def _open_ended(clock: _Clock) -> bool:
    return clock.start == START_OF_DAY or clock.end == END_OF_DAY


def _intersect(a: _Clock, b: _Clock) -> _Clock | None:
    return _clock(max(a.start, b.start), min(a.end, b.end))


def _combine_times(found: list[_Found], text: str) -> tuple[tuple[time, time], ...]:
    """Positive times: side by side they intersect, joined by «eller» they are alternatives."""
    alternatives: list[_Clock] = []
    previous_end: int | None = None
    for item in found:
        for piece in item.pieces:
            if not isinstance(piece, _Clock):
                continue
            merged = None
            if alternatives and previous_end is not None:
                gap = text[previous_end : item.start]
                joined_by_or = _OR.search(gap) or (
                    _AND_OR.search(gap)
                    and not (_open_ended(alternatives[-1]) or _open_ended(piece))
                )
                if not joined_by_or:
                    merged = _intersect(alternatives[-1], piece)
            if merged is not None:
                alternatives[-1] = merged
            else:
                alternatives.append(piece)
            previous_end = item.end
    return tuple(sorted({(c.start, c.end) for c in alternatives}))


def _assemble(found: list[_Found], text: str) -> TimeWish:
    """The TimeWish the found constraints add up to."""
    positive = [f for f in found if not f.negated]
    negative = [p for f in found if f.negated for p in f.pieces]
    pos_pieces = [p for f in positive for p in f.pieces]
    return TimeWish(
        date_ranges=tuple(sorted({(p.first, p.last) for p in pos_pieces if isinstance(p, _Dates)})),
        weekdays=frozenset(d for p in pos_pieces if isinstance(p, _Days) for d in p.days),
        time_ranges=_combine_times(positive, text),
        excluded_date_ranges=tuple(
            sorted({(p.first, p.last) for p in negative if isinstance(p, _Dates)})
        ),
        excluded_weekdays=frozenset(d for p in negative if isinstance(p, _Days) for d in p.days),
        excluded_time_ranges=tuple(
            sorted({(p.start, p.end) for p in negative if isinstance(p, _Clock)})
        ),
        asap=any(isinstance(p, _Flag) and p.asap for p in pos_pieces),
    )


def parse_wish(text: str, *, now: datetime) -> TimeWish:
    """Read a Swedish time wish relative to an aware now; understood=False if nothing fits."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    today = now.astimezone(STOCKHOLM).date()
    normalized = _normalize(text)
    found = _polarity(_find(normalized, today), normalized)
    if not any(f.pieces for f in found):
        return NOT_UNDERSTOOD
    _absorb_weekdays(found, normalized)
    return _assemble(found, normalized)
