"""The network file (TOML): offices, venues, admins, weekly windows and absences, upserted."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import partial
from typing import Any

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession
from stdnum.exceptions import ValidationError
from stdnum.se import orgnr

from models import audit
from models.admins import NOT_DONE_YET
from models.errors import InvalidInput, Problem, ProblemCollector
from models.i18n import N_
from models.lifecycle import Role
from models.network import (
    ONBOARDING_ITEMS,
    Absence,
    Admin,
    AvailabilityWindow,
    Office,
    Payee,
    Venue,
    VenueKind,
    get_admin_by_email,
    get_office_by_code,
)
from models.types import utcnow
from models.validation import normalize_email, normalize_phone, parse_clock, parse_day, require_text
from models.zone import local_day

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WORKDAYS = frozenset(range(5))
MIN_WORKDAYS = 2  # the seed: available at least two weekdays (vardagar) a week
MIN_AGE = 18  # the seed: an administrator is at least 18 years old
OFFICE_SETTINGS = ("slot_minutes", "buffer_minutes", "min_notice_hours", "horizon_days")
_TOML_PLACE = re.compile(r"at line (\d+), column (\d+)")
BAD_TOML = N_(
    "is not valid TOML: something is wrong at column {column} (a quotation mark, a bracket, "
    "a comma, an = or a key given twice?)"
)
UNFINISHED_TOML = N_(
    "is not valid TOML: the file ends too early (is a quotation mark or a bracket left open?)"
)
# The keys each level may have; any other is refused, so that a misspelling never passes.
TOP_KEYS = ("office",)
OFFICE_KEYS = ("code", "name", "city", *OFFICE_SETTINGS, "venue", "admin")
VENUE_KEYS = ("key", "name", "address", "kind")
ADMIN_KEYS = (
    "email",
    "name",
    "phone",
    "windows",
    "absences",
    "home_delivery",
    "auto_confirm",
    "birth_date",
    "address",
    "town",
    "payee",
    "org_number",
    "onboarding",
)
WINDOW_KEYS = ("weekday", "start", "end", "venue")
ABSENCE_KEYS = ("from", "to")
UNKNOWN_KEY = N_("unknown key; is it misspelt? The keys here are: {known}")


@dataclass(frozen=True, slots=True)
class WindowSpec:
    """A weekly window as declared."""

    weekday: int
    start: time
    end: time
    venue: str


@dataclass(slots=True)
class AdminSpec:
    """An admin as declared."""

    email: str
    name: str
    phone: str
    home_delivery: bool
    auto_confirm: bool
    windows: list[WindowSpec] = field(default_factory=list)
    absences: list[tuple[date, date]] = field(default_factory=list)
    birth_date: date | None = None
    address: str | None = None
    town: str | None = None
    payee: Payee | None = None
    org_number: str | None = None
    # Only the items the file dates; the others keep what the database has (the dashboard).
    onboarding: dict[str, date] = field(default_factory=dict)


@dataclass(slots=True)
class OfficeSpec:
    """An office as declared, with its venues and admins."""

    code: str
    name: str
    city: str
    settings: dict[str, int]
    venues: dict[str, tuple[str, str, VenueKind]] = field(default_factory=dict)
    admins: list[AdminSpec] = field(default_factory=list)
    # What is loaded all the same but worth a look (a venue in another town): file lines.
    warnings: list[Problem] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class LoadSummary:
    """What a load did."""

    offices: int
    venues: int
    admins: int
    changed: int


class _Lines:
    """Best-effort line numbers for TOML items, since tomllib gives none."""

    def __init__(self, content: str) -> None:
        self.lines = content.splitlines()

    def header(self, name: str, index: int) -> int:
        """The line of the index-th `[[name]]` header (1-based), or 1."""
        pattern = re.compile(rf"^\s*\[\[\s*{re.escape(name)}\s*\]\]")
        hits = [n for n, text in enumerate(self.lines, 1) if pattern.match(text)]
        return hits[index] if index < len(hits) else 1

    def key(self, start: int, key: str, occurrence: int = 0) -> int:
        """The line of the occurrence-th `key =` after a header, before the next header; a
        table of that name opened by the next header is found too."""
        pattern = re.compile(rf"(^|[\s{{,]){re.escape(key)}\s*=")
        table = re.compile(rf"^\s*\[\[?\s*([\w-]+\.)*{re.escape(key)}\s*\]")
        seen = 0
        for n in range(start, len(self.lines) + 1):
            text = self.lines[n - 1]
            if n > start and text.lstrip().startswith("["):
                return n if table.match(text) and seen == occurrence else start
            if pattern.search(text):
                if seen == occurrence:
                    return n
                seen += 1
        return start

    def top(self, key: str) -> int:
        """The line of a top-level `key =` or `[key]` table, or 1."""
        pattern = re.compile(rf"^\s*(\[\[?\s*)?{re.escape(key)}\s*[=\].]")
        return next((n for n, text in enumerate(self.lines, 1) if pattern.match(text)), 1)

    def unknown_keys(
        self,
        item: dict[str, Any],
        known: tuple[str, ...],
        start: int | None,
        problems: ProblemCollector,
        occurrences: dict[str, int] | None = None,
    ) -> None:
        """Refuse each key of `item` (the document's own when `start` is None) that is not
        `known`, on its own line; `occurrences` counts the keys already seen in earlier inline
        tables of the same list."""
        for key in item:
            if key in known:
                continue
            seen = occurrences.get(key, 0) if occurrences is not None else 0
            if occurrences is not None:
                occurrences[key] = seen + 1
            line = self.top(key) if start is None else self.key(start, key, seen)
            problems.add(line, key, UNKNOWN_KEY, known=", ".join(known))


def _text(item: dict[str, Any], key: str, max_length: int = 200) -> str:
    value = item.get(key)
    return require_text(value if isinstance(value, str) else None, field=key, max_length=max_length)


def _clock(item: dict[str, Any], key: str) -> time:
    return parse_clock(str(item.get(key, "")), field=key)


def _day(item: dict[str, Any], key: str) -> date:
    return parse_day(str(item.get(key, "")), field=key)


def _email(item: dict[str, Any]) -> str:
    return normalize_email(_text(item, "email"))


def _phone(item: dict[str, Any]) -> str:
    return normalize_phone(_text(item, "phone"))


def _flag(item: dict[str, Any], key: str) -> bool:
    value = item.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInput(key, N_("must be true or false"))
    return value


def _setting(item: dict[str, Any], key: str, default: int) -> int:
    value = item.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 10_000:
        raise InvalidInput(key, N_("must be a whole number from 0 to 10000"))
    if key in ("slot_minutes", "horizon_days") and value == 0:
        raise InvalidInput(key, N_("must be at least 1"))
    return value


def _kind(item: dict[str, Any]) -> VenueKind:
    try:
        return VenueKind(str(item.get("kind")))
    except ValueError:
        raise InvalidInput(
            "kind", N_("must be one of: {allowed}"), allowed=", ".join(k.value for k in VenueKind)
        ) from None


def _weekday(item: dict[str, Any]) -> int:
    value = str(item.get("weekday", "")).strip().lower()
    if value not in WEEKDAYS:
        raise InvalidInput("weekday", N_("must be one of: {allowed}"), allowed=", ".join(WEEKDAYS))
    return WEEKDAYS.index(value)


def _parse_windows(
    raw: Any,
    venues: dict[str, Any],
    slot_minutes: int,
    start_line: int,
    lines: _Lines,
    problems: ProblemCollector,
) -> list[WindowSpec]:
    windows: list[WindowSpec] = []
    problems_before = len(problems.problems)
    occurrences: dict[str, int] = {}
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        line = lines.key(start_line, "weekday", index)
        if not isinstance(item, dict):
            problems.add(line, "windows", N_("each window must be a table"))
            continue
        lines.unknown_keys(item, WINDOW_KEYS, start_line, problems, occurrences)
        weekday = problems.check(line, partial(_weekday, item))
        start = problems.check(line, partial(_clock, item, "start"))
        end = problems.check(line, partial(_clock, item, "end"))
        venue = str(item.get("venue", ""))
        if venue not in venues:
            problems.add(line, "venue", N_("no venue «{key}» in this office"), key=venue)
            continue
        if weekday is None or start is None or end is None:
            continue
        if end <= start:
            problems.add(
                line, "end", N_("must be after start ({start})"), start=start.strftime("%H:%M")
            )
            continue
        minutes = (end.hour - start.hour) * 60 + end.minute - start.minute
        if minutes < slot_minutes:
            problems.add(
                line,
                "end",
                N_(
                    "the window is {length} minutes, shorter than one meeting "
                    "(slot_minutes = {minutes}): no time could be booked in it"
                ),
                length=minutes,
                minutes=slot_minutes,
            )
            continue
        clash = next(
            (w for w in windows if w.weekday == weekday and w.start < end and start < w.end), None
        )
        if clash is not None:
            problems.add(
                line,
                "start",
                N_("overlaps the window {start}–{end} the same weekday"),
                start=clash.start.strftime("%H:%M"),
                end=clash.end.strftime("%H:%M"),
            )
            continue
        windows.append(WindowSpec(weekday, start, end, venue))
    window_problems = len(problems.problems) > problems_before
    if len({w.weekday for w in windows} & WORKDAYS) < MIN_WORKDAYS and not window_problems:
        problems.add(
            lines.key(start_line, "windows"),
            "windows",
            N_("an administrator must be available at least two weekdays (Monday–Friday) a week"),
        )
    return windows


def _parse_absences(
    raw: Any, start_line: int, lines: _Lines, problems: ProblemCollector
) -> list[tuple[date, date]]:
    absences: list[tuple[date, date]] = []
    occurrences: dict[str, int] = {}
    for index, item in enumerate(raw if isinstance(raw, list) else []):
        line = lines.key(start_line, "from", index)
        if not isinstance(item, dict):
            problems.add(line, "absences", N_("each absence must be a table"))
            continue
        lines.unknown_keys(item, ABSENCE_KEYS, start_line, problems, occurrences)
        first = problems.check(line, partial(_day, item, "from"))
        last = problems.check(line, partial(_day, item, "to"))
        if first is None or last is None:
            continue
        if last < first:
            problems.add(
                line, "to", N_("must not be before from ({first})"), first=first.isoformat()
            )
            continue
        absences.append((first, last))
    return absences


def _date_value(item: dict[str, Any], key: str) -> date:
    """A date written as a TOML date (2026-10-01) or as a string ("2026-10-01")."""
    value = item.get(key)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise InvalidInput(key, N_("must be a date written YYYY-MM-DD"))
    return parse_day(value, field=key)


def _birth_date(item: dict[str, Any], today: date) -> date:
    if item.get("birth_date") is None:
        raise InvalidInput("birth_date", N_("is missing"))
    born = _date_value(item, "birth_date")
    if born > today:
        raise InvalidInput("birth_date", N_("is in the future"))
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < MIN_AGE:
        raise InvalidInput(
            "birth_date",
            N_("an administrator must be at least 18 years old (is {age} on {today})"),
            age=age,
            today=today.isoformat(),
        )
    return born


def same_town(one: str, other: str) -> bool:
    """Whether two place names are the same town, whatever the case and spacing."""
    return " ".join(one.split()).casefold() == " ".join(other.split()).casefold()


def _town(item: dict[str, Any], city: str | None) -> str:
    town = require_text(
        item.get("town") if isinstance(item.get("town"), str) else None, field="town"
    )
    if city and not same_town(town, city):
        raise InvalidInput(
            "town",
            N_("must be the office's city, {city}: an administrator lives where they hand out"),
            city=city,
        )
    return town


def _payee(item: dict[str, Any]) -> Payee:
    if item.get("payee") is None:
        raise InvalidInput("payee", N_("is missing"))
    try:
        return Payee(str(item.get("payee")))
    except ValueError:
        raise InvalidInput(
            "payee", N_("must be one of: {allowed}"), allowed=", ".join(p.value for p in Payee)
        ) from None


def _org_number(item: dict[str, Any], payee: Payee | None) -> str | None:
    value = item.get("org_number")
    if payee is not Payee.company:
        if value is not None:
            raise InvalidInput("org_number", N_('is only for payee = "company"'))
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("org_number", N_("is missing: a company needs its organisation number"))
    try:
        return str(orgnr.format(orgnr.validate(value.strip())))
    except ValidationError:
        raise InvalidInput(
            "org_number",
            N_(
                "is not a valid organisation number (10 digits with a check digit, "
                "e.g. 556016-0680)"
            ),
        ) from None


_POSTAL_TOWN = re.compile(r"^\s*(?:SE-?\s*)?\d{3}\s?\d{2}\s+(?P<town>\S.*?)\s*$", re.IGNORECASE)


def address_town(address: str) -> str | None:
    """The town of a Swedish address written «street, postcode town» (the text after the
    postcode in its last part), or None when the address does not end that way."""
    found = _POSTAL_TOWN.match(address.rsplit(",", 1)[-1])
    return found.group("town") if found is not None else None


def _venue_town_warning(address: str, city: str, line: int) -> Problem | None:
    """A warning when the venue's address is in another town than the office's city."""
    town = address_town(address)
    if town is None:
        return Problem(
            line,
            "address",
            N_(
                "names no town after a postcode (write «street, postcode town»), so it cannot "
                "be checked against the office's city {city}"
            ),
            (("city", city),),
        )
    if same_town(town, city):
        return None
    return Problem(
        line,
        "address",
        N_("is in {town}, not in the office's city {city}: is the venue or the city wrong?"),
        (("town", town), ("city", city)),
    )


def _done_on(item: dict[str, Any], key: str, today: date) -> date:
    """The day a checklist item was done: a date, not after today."""
    day = _date_value(item, key)
    if day > today:
        raise InvalidInput(key, NOT_DONE_YET, today=today.isoformat())
    return day


def _parse_onboarding(
    raw: Any, line: int, lines: _Lines, problems: ProblemCollector, today: date
) -> dict[str, date]:
    """The dated checklist items the file gives."""
    if raw is None:
        return {}
    table_line = lines.key(line, "onboarding")
    if not isinstance(raw, dict):
        problems.add(table_line, "onboarding", N_("must be a table of dates"))
        return {}
    lines.unknown_keys(raw, ONBOARDING_ITEMS, table_line, problems)
    days: dict[str, date] = {}
    for item in ONBOARDING_ITEMS:
        if item in raw:
            day = problems.check(lines.key(table_line, item), partial(_done_on, raw, item, today))
            if day is not None:
                days[item] = day
    return days


def _parse_admin(
    item: dict[str, Any],
    venues: dict[str, Any],
    city: str | None,
    slot_minutes: int,
    line: int,
    lines: _Lines,
    problems: ProblemCollector,
    today: date,
) -> AdminSpec | None:
    lines.unknown_keys(item, ADMIN_KEYS, line, problems)
    email = problems.check(lines.key(line, "email"), partial(_email, item))
    name = problems.check(lines.key(line, "name"), partial(_text, item, "name"))
    phone = problems.check(lines.key(line, "phone"), partial(_phone, item))
    home = problems.check(lines.key(line, "home_delivery"), partial(_flag, item, "home_delivery"))
    auto = problems.check(lines.key(line, "auto_confirm"), partial(_flag, item, "auto_confirm"))
    born = problems.check(lines.key(line, "birth_date"), partial(_birth_date, item, today))
    address = problems.check(
        lines.key(line, "address"), partial(_text, item, "address", max_length=300)
    )
    town = problems.check(lines.key(line, "town"), partial(_town, item, city))
    payee = problems.check(lines.key(line, "payee"), partial(_payee, item))
    org_number = problems.check(lines.key(line, "org_number"), partial(_org_number, item, payee))
    onboarding = _parse_onboarding(item.get("onboarding"), line, lines, problems, today)
    windows = _parse_windows(item.get("windows"), venues, slot_minutes, line, lines, problems)
    absences = _parse_absences(item.get("absences"), line, lines, problems)
    if email is None or name is None or phone is None or home is None or auto is None:
        return None
    return AdminSpec(
        email,
        name,
        phone,
        home,
        auto,
        windows,
        absences,
        birth_date=born,
        address=address,
        town=town,
        payee=payee,
        org_number=org_number,
        onboarding=onboarding,
    )


def read_network_toml(content: str, *, today: date | None = None) -> list[OfficeSpec]:
    """Parse and validate the whole file; raise InputRejected listing every problem. Ages are
    counted on `today` (the Stockholm day of the load)."""
    day = today if today is not None else local_day(utcnow())
    problems = ProblemCollector()
    try:
        document = tomllib.loads(content)
    except tomllib.TOMLDecodeError as error:
        # tomllib explains in English; the reader gets the place and what to look for.
        place = _TOML_PLACE.search(str(error))
        if place is not None:
            problems.add(int(place.group(1)), "toml", BAD_TOML, column=int(place.group(2)))
        else:
            problems.add(max(len(content.splitlines()), 1), "toml", UNFINISHED_TOML)
        problems.raise_if_any()
        raise  # unreachable; keeps type checkers sure
    lines = _Lines(content)
    lines.unknown_keys(document, TOP_KEYS, None, problems)
    offices: list[OfficeSpec] = []
    codes: set[str] = set()
    emails: dict[str, int] = {}
    admin_index = venue_index = 0
    for office_index, item in enumerate(document.get("office", [])):
        line = lines.header("office", office_index)
        lines.unknown_keys(item, OFFICE_KEYS, line, problems)
        code = problems.check(lines.key(line, "code"), partial(_text, item, "code"))
        name = problems.check(lines.key(line, "name"), partial(_text, item, "name"))
        city = problems.check(lines.key(line, "city"), partial(_text, item, "city"))
        settings: dict[str, int] = {}
        for key, default in zip(OFFICE_SETTINGS, (15, 0, 2, 28), strict=True):
            value = problems.check(
                lines.key(line, key),
                partial(_setting, item, key, default),
            )
            settings[key] = value if value is not None else default
        if code is not None and code in codes:
            problems.add(
                lines.key(line, "code"), "code", N_("office code «{code}» appears twice"), code=code
            )
        venues: dict[str, tuple[str, str, VenueKind]] = {}
        warnings: list[Problem] = []
        for venue in item.get("venue", []):
            vline = lines.header("office.venue", venue_index)
            venue_index += 1
            lines.unknown_keys(venue, VENUE_KEYS, vline, problems)
            venue_key = problems.check(vline, partial(_text, venue, "key"))
            vname = problems.check(lines.key(vline, "name"), partial(_text, venue, "name"))
            address = problems.check(lines.key(vline, "address"), partial(_text, venue, "address"))
            kind = problems.check(lines.key(vline, "kind"), partial(_kind, venue))
            if venue_key is not None and venue_key in venues:
                problems.add(
                    vline, "key", N_("venue key «{key}» appears twice in the office"), key=venue_key
                )
            if venue_key and vname and address and kind:
                venues[venue_key] = (vname, address, kind)
                if city:
                    warning = _venue_town_warning(address, city, lines.key(vline, "address"))
                    warnings.extend([warning] if warning is not None else [])
        spec = OfficeSpec(code or "", name or "", city or "", settings, venues, warnings=warnings)
        for admin in item.get("admin", []):
            aline = lines.header("office.admin", admin_index)
            admin_index += 1
            parsed = _parse_admin(
                admin, venues, city, settings["slot_minutes"], aline, lines, problems, day
            )
            if parsed is None:
                continue
            if parsed.email in emails:
                problems.add(
                    lines.key(aline, "email"),
                    "email",
                    N_("administrator «{email}» appears twice (also line {other})"),
                    email=parsed.email,
                    other=emails[parsed.email],
                )
                continue
            emails[parsed.email] = aline
            spec.admins.append(parsed)
        if code is not None:
            codes.add(code)
        offices.append(spec)
    problems.raise_if_any()
    return offices


async def _upsert_office(session: AsyncSession, spec: OfficeSpec) -> tuple[Office, bool]:
    office = await get_office_by_code(session, code=spec.code)
    values: dict[str, Any] = {"name": spec.name, "city": spec.city, **spec.settings}
    if office is None:
        office = Office(code=spec.code, **values)
        changed = True
    else:
        changed = any(getattr(office, k) != v for k, v in values.items())
        for key, value in values.items():
            setattr(office, key, value)
    session.add(office)
    await session.flush()
    return office, changed


async def _upsert_venues(
    session: AsyncSession, office_id: int, spec: OfficeSpec
) -> tuple[dict[str, int], bool]:
    existing = {
        v.key: v
        for v in (await session.exec(select(Venue).where(col(Venue.office_id) == office_id))).all()
    }
    changed = False
    for key, (name, address, kind) in spec.venues.items():
        venue = existing.get(key)
        if venue is None:
            venue = Venue(office_id=office_id, key=key, name=name, address=address, kind=kind)
            existing[key] = venue
            changed = True
        elif (venue.name, venue.address, venue.kind) != (name, address, kind):
            venue.name, venue.address, venue.kind = name, address, kind
            changed = True
        session.add(venue)
    await session.flush()
    return {key: venue.id for key, venue in existing.items() if venue.id is not None}, changed


async def _upsert_admin(
    session: AsyncSession, office_id: int, spec: AdminSpec, venue_ids: dict[str, int]
) -> bool:
    admin = await get_admin_by_email(session, email=spec.email)
    values: dict[str, Any] = {
        "office_id": office_id,
        "name": spec.name,
        "phone": spec.phone,
        "home_delivery": spec.home_delivery,
        "auto_confirm": spec.auto_confirm,
        "birth_date": spec.birth_date,
        "address": spec.address,
        "town": spec.town,
        "payee": spec.payee,
        "org_number": spec.org_number,
        # A date the file gives wins; an item the file leaves out keeps the date the
        # dashboard set, so a reload never loses one.
        **spec.onboarding,
    }
    dated = {
        item: day.isoformat()
        for item, day in spec.onboarding.items()
        if admin is None or getattr(admin, item) != day
    }
    if admin is None:
        admin = Admin(email=spec.email, **values)
        changed = True
    else:
        changed = any(getattr(admin, k) != v for k, v in values.items())
        for key, value in values.items():
            setattr(admin, key, value)
    session.add(admin)
    await session.flush()
    assert admin.id is not None
    if dated:
        await audit.append(
            session,
            actor_role=Role.operator,
            actor_id=None,
            action="admin.onboarding",
            entity="admin",
            entity_id=admin.id,
            data={"items": dated, "source": "network_file"},
        )
    wanted_windows = {(w.weekday, w.start, w.end, venue_ids[w.venue]) for w in spec.windows}
    current_windows = {
        (w.weekday, w.start, w.end, w.venue_id)
        for w in (
            await session.exec(
                select(AvailabilityWindow).where(col(AvailabilityWindow.admin_id) == admin.id)
            )
        ).all()
    }
    if wanted_windows != current_windows:
        await session.exec(
            delete(AvailabilityWindow).where(col(AvailabilityWindow.admin_id) == admin.id)
        )
        for weekday, start, end, venue_id in sorted(wanted_windows):
            session.add(
                AvailabilityWindow(
                    admin_id=admin.id, weekday=weekday, start=start, end=end, venue_id=venue_id
                )
            )
        changed = True
    wanted_absences = set(spec.absences)
    current_absences = {
        (a.first_day, a.last_day)
        for a in (
            await session.exec(select(Absence).where(col(Absence.admin_id) == admin.id))
        ).all()
    }
    if wanted_absences != current_absences:
        await session.exec(delete(Absence).where(col(Absence.admin_id) == admin.id))
        for first, last in sorted(wanted_absences):
            session.add(Absence(admin_id=admin.id, first_day=first, last_day=last))
        changed = True
    await session.flush()
    return changed


async def upsert_network(session: AsyncSession, offices: list[OfficeSpec]) -> LoadSummary:
    """Create or update everything declared, in the caller's transaction; idempotent."""
    changed = 0
    for spec in offices:
        office, office_changed = await _upsert_office(session, spec)
        assert office.id is not None
        venue_ids, venues_changed = await _upsert_venues(session, office.id, spec)
        admins_changed = [
            await _upsert_admin(session, office.id, a, venue_ids) for a in spec.admins
        ]
        if office_changed or venues_changed or any(admins_changed):
            changed += 1
            await audit.append(
                session,
                actor_role=Role.operator,
                actor_id=None,
                action="office.loaded",
                entity="office",
                entity_id=office.id,
                data={"code": office.code},
            )
    return LoadSummary(
        offices=len(offices),
        venues=sum(len(o.venues) for o in offices),
        admins=sum(len(o.admins) for o in offices),
        changed=changed,
    )
