"""Card orders from the issuer: validated rows, then an all-or-nothing upsert."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from sqlmodel.ext.asyncio.session import AsyncSession

from models import audit
from models.cards import Card, CardStatus, CardUser, get_card_by_order_ref, get_card_user_by_hmac
from models.crypto import PersonnummerVault
from models.errors import IllegalTransition, InvalidInput, ProblemCollector
from models.i18n import N_
from models.lifecycle import Role, transition_card
from models.network import get_office_by_code
from models.types import utcnow
from models.validation import (
    normalize_email,
    normalize_personnummer,
    normalize_phone,
    require_text,
)

REQUIRED_COLUMNS = (
    "order_ref",
    "office_code",
    "given_name",
    "family_name",
    "personnummer",
    "phone",
    "email",
)
OPTIONAL_COLUMNS = ("status", "ordered_at")
# A new order starts before the card reaches the office; later states come from the office.
STARTING_STATUSES = frozenset({CardStatus.ordered, CardStatus.shipped})


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


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did."""

    created: int
    updated: int
    unchanged: int


def _parse_status(raw: str) -> CardStatus | None:
    if not raw.strip():
        return None
    try:
        return CardStatus(raw.strip())
    except ValueError:
        raise InvalidInput(
            "status",
            N_("must be one of: {allowed}"),
            allowed=", ".join(s.value for s in CardStatus),
        ) from None


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
    )


def read_orders_csv(content: str) -> list[CardOrder]:
    """Parse a whole CSV (`,` or `;`, header row); raise InputRejected listing every problem."""
    problems = ProblemCollector()
    content = content.removeprefix("\ufeff")
    header = content.splitlines()[0] if content.strip() else ""
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)
    columns = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = columns
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    for name in missing:
        problems.add(1, name, N_("column is missing from the header row"))
    problems.raise_if_any()
    orders: list[CardOrder] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # a blank line is no order
        order = parse_order(line, row, problems)
        if order is None:
            continue
        if order.order_ref in seen:
            problems.add(
                line,
                "order_ref",
                N_("appears twice in the file (also line {other})"),
                other=seen[order.order_ref],
            )
            continue
        seen[order.order_ref] = line
        orders.append(order)
    problems.raise_if_any()
    return orders


async def _upsert_card_user(
    session: AsyncSession, order: CardOrder, vault: PersonnummerVault
) -> CardUser:
    lookup = vault.lookup_key(order.personnummer)
    user = await get_card_user_by_hmac(session, personnummer_hmac=lookup)
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
    session.add(user)
    await session.flush()
    return user


async def upsert_orders(
    session: AsyncSession,
    orders: list[CardOrder],
    *,
    vault: PersonnummerVault,
    now: datetime | None = None,
) -> ImportSummary:
    """Create or update each order in the caller's transaction; problems raise InputRejected."""
    moment = now or utcnow()
    problems = ProblemCollector()
    created = updated = unchanged = 0
    for order in orders:
        office = await get_office_by_code(session, code=order.office_code)
        if office is None or office.id is None:
            problems.add(
                order.line, "office_code", N_("no office has code «{code}»"), code=order.office_code
            )
            continue
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
            status = order.status or CardStatus.ordered
            if status not in STARTING_STATUSES:
                problems.add(
                    order.line,
                    "status",
                    N_("a new card can start as: {allowed}"),
                    allowed=", ".join(sorted(STARTING_STATUSES)),
                )
                continue
            card = Card(
                order_ref=order.order_ref,
                office_id=office.id,
                card_user_id=user.id,
                status=status,
                ordered_at=order.ordered_at or moment,
                status_changed_at=moment,
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
        if order.status is not None and order.status != card.status:
            try:
                await transition_card(
                    session,
                    card,
                    order.status,
                    role=Role.operator,
                    actor_id=None,
                    data={"via": "import"},
                    now=moment,
                )
                changed = True
            except IllegalTransition as error:
                problems.add(order.line, "status", error.message_id, **error.params)
                continue
        if changed:
            updated += 1
        else:
            unchanged += 1
    problems.raise_if_any()
    return ImportSummary(created=created, updated=updated, unchanged=unchanged)
