"""Operators (issuer staff) who sign in to the dashboard: an e-mail, an argon2 password hash and
a role."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Column, String
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import InvalidInput
from models.i18n import N_
from models.operator_sessions import EndReason, end_operator_sessions
from models.types import UTCDateTime, utcnow
from models.validation import normalize_email

MIN_PASSWORD_LENGTH = 12
# Long enough for any passphrase, short enough that hashing it costs nothing extra.
MAX_PASSWORD_LENGTH = 1024

# Argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile).
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that both answers take as long.


@cache
def _dummy_hash() -> str:
    """A hash to check an unknown account's password against, so that it costs the same time;
    made on first use, not at import (argon2 takes a second on a busy machine)."""
    return _hasher.hash("kortkontor: no such operator")


class OperatorRole(StrEnum):
    """What an operator may do; each role may do all that the roles before it may."""

    viewer = "viewer"  # sees the dashboard
    payroll = "payroll"  # also locks and exports payouts
    admin = "admin"  # also manages operators (and offices)

    def allows(self, needed: OperatorRole) -> bool:
        """Whether this role may do what `needed` may."""
        return _RANKS[self] >= _RANKS[needed]


_RANKS = {role: rank for rank, role in enumerate(OperatorRole)}
# A new operator sees; more is given on purpose (`operator add --role`).
DEFAULT_ROLE = OperatorRole.viewer

ROLE_NAMES: dict[OperatorRole, str] = {
    OperatorRole.viewer: N_("viewer"),
    OperatorRole.payroll: N_("payroll officer"),
    OperatorRole.admin: N_("operator administrator"),
}


class Operator(SQLModel, table=True):
    """A dashboard user, identified by e-mail (stored lower-case)."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    password_hash: str = Field(max_length=200)
    role: OperatorRole = Field(default=DEFAULT_ROLE, sa_column=Column(String(20), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def operator_role(raw: str) -> OperatorRole:
    """The role named `raw` (viewer, payroll, admin)."""
    try:
        return OperatorRole(raw.strip().lower())
    except ValueError:
        raise InvalidInput(
            "role",
            N_("«{value}» is no role: use viewer, payroll or admin."),
            value=raw,
        ) from None


def operator_email(raw: str) -> str:
    """The e-mail as stored: valid by syntax and lower-case."""
    return normalize_email(raw).lower()


def check_password(password: str) -> str:
    """The password as given, if it is long enough (and not absurdly long)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password",
            N_("The password must be at least {length} characters long."),
            length=MIN_PASSWORD_LENGTH,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            "password",
            N_("The password may be at most {length} characters long."),
            length=MAX_PASSWORD_LENGTH,
        )
    return password


def hash_password(password: str) -> str:
    """An argon2id hash of a checked password (slow on purpose: call it off the event loop)."""
    return _hasher.hash(check_password(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash (slow on purpose)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def rehashed(password_hash: str, password: str) -> str | None:
    """A new hash of a verified password when the stored one is weaker than today's; else None."""
    return _hasher.hash(password) if _hasher.check_needs_rehash(password_hash) else None


def spend_a_verification() -> None:
    """Take as long as a real check, for an e-mail that has no operator."""
    verify_password(_dummy_hash(), "not the password")


async def get_operator_by_email(session: AsyncSession, *, email: str) -> Operator | None:
    """The operator with this (normalised) e-mail."""
    result = await session.exec(select(Operator).where(Operator.email == email))
    return result.one_or_none()


async def all_operators(session: AsyncSession) -> list[Operator]:
    """Every operator, by e-mail."""
    return list((await session.exec(select(Operator).order_by(col(Operator.email)))).all())


async def set_operator(
    session: AsyncSession,
    *,
    email: str,
    password_hash: str,
    role: OperatorRole | None = None,
    now: datetime | None = None,
) -> tuple[Operator, bool]:
    """Add the operator, or give an existing one this password hash; True when added.

    A new operator gets `role` (the default role if None); an existing one keeps theirs unless
    `role` is given. A new password ends every session the operator has on the dashboard.
    """
    moment = now or utcnow()
    operator = await get_operator_by_email(session, email=email)
    created = operator is None
    if operator is None:
        operator = Operator(
            email=email, password_hash=password_hash, role=role or DEFAULT_ROLE, created_at=moment
        )
    else:
        operator.password_hash = password_hash
        if role is not None:
            operator.role = role
    session.add(operator)
    await session.flush()
    if not created:
        assert operator.id is not None
        await end_operator_sessions(
            session, operator_id=operator.id, now=moment, reason=EndReason.password
        )
    return operator, created
