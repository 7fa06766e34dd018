"""Card orders from the issuer: validated rows, then an all-or-nothing upsert."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.admins import office_takes_new_cards
from models.cards import (
    CARD_STATUS_NAMES,
    Card,
    CardStatus,
    CardUser,
    card_status_named,
    get_card_by_order_ref,
    get_card_user_by_hmac,
)
from models.crypto import PersonnummerVault
from models.errors import IllegalTransition, InvalidInput, Problem, ProblemCollector, Term, Terms
from models.i18n import N_
from models.lifecycle import FINAL_CARD_STATES, Role, check_transition, is_behind
from models.network import Office
from models.types import utcnow
from models.validation import (
    normalize_card_number,
    normalize_email,
    normalize_personnummer,
    normalize_phone,
    require_text,
)
from models.zone import local_day

REQUIRED_COLUMNS = (
    "order_ref",
    "office_code",
    "given_name",
    "family_name",
    "personnummer",
    "phone",
    "email",
)
OPTIONAL_COLUMNS = ("status", "ordered_at", "card_number")
# A new order starts before the card reaches the office; later states come from the office.
STARTING_STATUSES = (CardStatus.ordered, CardStatus.shipped)


@dataclass(frozen=True, slots=True)
class CardOrder:
    """One validated order row."""

    line: int
    order_ref: str
    office_code: str
    given_name: str
    family_name: str
    personnummer: str
    phone: str
    email: str
    status: CardStatus | None = None
    ordered_at: datetime | None = None
    # The number printed on the card, checked at the handout; None leaves a stored one as is.
    card_number: str | None = None


@dataclass(slots=True)
class OrderBatch:
    """Orders read from a file or a request: the rows that passed, every row's office code (the
    database checks those), and the problems found so far."""

    orders: list[CardOrder] = field(default_factory=list)
    office_codes: dict[int, str] = field(default_factory=dict)
    problems: ProblemCollector = field(default_factory=ProblemCollector)


@dataclass(frozen=True, slots=True)
class StatusMove:
    """A status a stored card is to take; its consequences are the scheduler's to plan."""

    card: Card
    target: CardStatus


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did; `notes` are what it left alone and why (not errors), `moves` the
    status changes still to make (scheduler.cards.import_orders makes them)."""

    created: int
    updated: int
    unchanged: int
    notes: list[Problem] = field(default_factory=list)
    moves: list[StatusMove] = field(default_factory=list)


def _parse_status(raw: str) -> CardStatus | None:
    return card_status_named(raw) if raw.strip() else None


def _parse_ordered_at(raw: str) -> datetime | None:
    if not raw.strip():
        return None
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput("ordered_at", N_("must be a date written YYYY-MM-DD")) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# The columns' own lengths: a longer value is bad input, not a database error.
TEXT_LIMITS = {"order_ref": 50, "office_code": 20, "given_name": 100, "family_name": 100}


def parse_order(line: int, row: dict[str, str], problems: ProblemCollector) -> CardOrder | None:
    """Validate one row; every bad field is recorded, not just the first."""
    fields = {name: (row.get(name) or "") for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
    text: dict[str, str | None] = {}
    for name, longest in TEXT_LIMITS.items():
        text[name] = problems.check(
            line, partial(require_text, fields[name], field=name, max_length=longest)
        )
    personnummer = problems.check(line, lambda: normalize_personnummer(fields["personnummer"]))
    phone = problems.check(line, lambda: normalize_phone(fields["phone"]))
    email = problems.check(line, lambda: normalize_email(fields["email"]))
    before = len(problems.problems)
    status = problems.check(line, lambda: _parse_status(fields["status"]))
    ordered_at = problems.check(line, lambda: _parse_ordered_at(fields["ordered_at"]))
    card_number = problems.check(line, lambda: normalize_card_number(fields["card_number"]))
    values = (*text.values(), personnummer, phone, email)
    if any(value is None for value in values) or len(problems.problems) > before:
        return None
    return CardOrder(
        line=line,
        order_ref=str(text["order_ref"]),
        office_code=str(text["office_code"]),
        given_name=str(text["given_name"]),
        family_name=str(text["family_name"]),
        personnummer=str(personnummer),
        phone=str(phone),
        email=str(email),
        status=status,
        ordered_at=ordered_at,
        card_number=card_number,
    )


def collect_orders(rows: Iterable[tuple[int, Mapping[str, str]]], *, twice: str) -> OrderBatch:
    """Check each (line, row); a second row with an order_ref is a problem, `twice` saying so
    with the first one's line as {other}."""
    batch = OrderBatch()
    seen: dict[str, int] = {}
    for line, row in rows:
        code = (row.get("office_code") or "").strip()
        if 0 < len(code) <= TEXT_LIMITS["office_code"]:
            batch.office_codes[line] = code
        order = parse_order(line, dict(row), batch.problems)
        if order is None:
            continue
        if order.order_ref in seen:
            batch.problems.add(line, "order_ref", twice, other=seen[order.order_ref])
            continue
        seen[order.order_ref] = line
        batch.orders.append(order)
    return batch


def read_orders_csv(content: str) -> OrderBatch:
    """Parse a whole CSV (`,` or `;`, header row) and check every row; the problems are kept
    in the batch, for the import to report together with the database's."""
    content = content.removeprefix("\ufeff")
    header = content.splitlines()[0] if content.strip() else ""
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)
    columns = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = columns
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        # Without the column every row would repeat the problem; the header says it once.
        batch = OrderBatch()
        for name in missing:
            batch.problems.add(1, name, N_("column is missing from the header row"))
        return batch
    rows = (
        (reader.line_num, row)
        for row in reader
        # A blank line is no order.
        if any((value or "").strip() for value in row.values() if isinstance(value, str))
    )
    return collect_orders(rows, twice=N_("appears twice in the file (also line {other})"))


async def _upsert_card_user(
    session: AsyncSession, order: CardOrder, vault: PersonnummerVault
) -> CardUser:
    lookup = vault.lookup_key(order.personnummer)
    user = await get_card_user_by_hmac(
        session, personnummer_hmacs=vault.lookup_keys(order.personnummer)
    )
    if user is None:
        user = CardUser(
            given_name=order.given_name,
            family_name=order.family_name,
            personnummer_encrypted=vault.encrypt(order.personnummer),
            personnummer_hmac=lookup,
            phone=order.phone,
            email=order.email,
        )
    else:
        user.given_name, user.family_name = order.given_name, order.family_name
        user.phone, user.email = order.phone, order.email
        if user.personnummer_hmac != lookup:  # found under an old key: write it under the new
            user.personnummer_encrypted = vault.encrypt(order.personnummer)
            user.personnummer_hmac = lookup
    session.add(user)
    await session.flush()
    return user


async def _offices(session: AsyncSession, codes: Iterable[str]) -> dict[str, Office]:
    query = select(Office).where(col(Office.code).in_(set(codes)))
    return {office.code: office for office in (await session.exec(query)).all()}


UNKNOWN_OFFICE = N_("no office has code «{code}»")
OLDER_STATUS = N_("«{status}» is older than the card's status «{current}»: the card stays as it is")
FINAL_STATUS = N_("the card is «{current}» already, which is final: «{status}» is not applied")


def _status_note(line: int, current: CardStatus, stated: CardStatus) -> Problem:
    """Why the file's status is left alone."""
    message = FINAL_STATUS if current in FINAL_CARD_STATES else OLDER_STATUS
    names = (
        ("status", Term(CARD_STATUS_NAMES[stated])),
        ("current", Term(CARD_STATUS_NAMES[current])),
    )
    return Problem(line, "status", message, names)


async def upsert_orders(
    session: AsyncSession,
    batch: OrderBatch,
    *,
    vault: PersonnummerVault,
    now: datetime | None = None,
) -> ImportSummary:
    """Create or update each order in the caller's transaction, and raise InputRejected with
    the batch's problems and the database's together. A card is never moved back: an older
    status is a note. Status moves forward are checked and returned, not made."""
    moment = now or utcnow()
    problems = batch.problems
    offices = await _offices(session, batch.office_codes.values())
    for line, code in batch.office_codes.items():
        if code not in offices:
            problems.add(line, "office_code", UNKNOWN_OFFICE, code=code)
    created = updated = unchanged = 0
    notes: list[Problem] = []
    moves: list[StatusMove] = []
    for order in batch.orders:
        office = offices.get(order.office_code)
        if office is None or office.id is None:
            continue  # reported above
        user = await _upsert_card_user(session, order, vault)
        assert user.id is not None
        card = await get_card_by_order_ref(session, order_ref=order.order_ref)
        if card is None:
            if office.notice_given_at is not None:
                problems.add(
                    order.line,
                    "office_code",
                    N_("office «{code}» has given notice and takes no new cards"),
                    code=order.office_code,
                )
                continue
            if not await office_takes_new_cards(
                session, office_id=office.id, today=local_day(moment)
            ):
                problems.add(
                    order.line,
                    "office_code",
                    N_(
                        "office «{code}» has no active administrator who has not given notice "
                        "(the others are still onboarding or under notice) and takes no new cards"
                    ),
                    code=order.office_code,
                )
                continue
            status = order.status or CardStatus.ordered
            if status not in STARTING_STATUSES:
                problems.add(
                    order.line,
                    "status",
                    N_("a new card can start as: {allowed}"),
                    allowed=Terms(CARD_STATUS_NAMES[s] for s in STARTING_STATUSES),
                )
                continue
            card = Card(
                order_ref=order.order_ref,
                office_id=office.id,
                card_user_id=user.id,
                status=status,
                ordered_at=order.ordered_at or moment,
                status_changed_at=moment,
                card_number=order.card_number,
            )
            session.add(card)
            await session.flush()
            assert card.id is not None
            await audit.append(
                session,
                actor_role=Role.operator,
                actor_id=None,
                action="card.imported",
                entity="card",
                entity_id=card.id,
                data={"office_id": office.id, "status": status.value},
                now=moment,
            )
            created += 1
            continue
        changed = card.office_id != office.id or card.card_user_id != user.id
        card.office_id, card.card_user_id = office.id, user.id
        if order.ordered_at is not None and card.ordered_at != order.ordered_at:
            card.ordered_at, changed = order.ordered_at, True
        if order.card_number is not None and card.card_number != order.card_number:
            card.card_number, changed = order.card_number, True
        if changed:
            session.add(card)
            assert card.id is not None
            await audit.append(
                session,
                actor_role=Role.operator,
                actor_id=None,
                action="card.updated",
                entity="card",
                entity_id=card.id,
                data={"office_id": office.id},
                now=moment,
            )
        current = CardStatus(card.status)
        if order.status is not None and order.status != current:
            if is_behind(current, order.status):
                notes.append(_status_note(order.line, current, order.status))
            else:
                try:
                    check_transition(current, order.status, Role.operator)
                except IllegalTransition as error:
                    problems.add(order.line, "status", error.message_id, **error.params)
                    continue
                moves.append(StatusMove(card, order.status))
                changed = True
        if changed:
            updated += 1
        else:
            unchanged += 1
    problems.raise_if_any()
    return ImportSummary(created, updated, unchanged, notes, moves)
