"""Operators (issuer staff) who sign in to the dashboard: an e-mail and an argon2 password hash."""

from __future__ import annotations

import hashlib
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from models.errors import InvalidInput
from models.i18n import N_
from models.types import UTCDateTime, utcnow
from models.validation import normalize_email

MIN_PASSWORD_LENGTH = 12
# Long enough for any passphrase, short enough that hashing it costs nothing extra.
MAX_PASSWORD_LENGTH = 1024

# Argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile).
_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so that both answers take as long.
_DUMMY_HASH = _hasher.hash("kortkontor: no such operator")


class Operator(SQLModel, table=True):
    """A dashboard user, identified by e-mail (stored lower-case)."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    password_hash: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def password_epoch(self) -> str:
        """A short fingerprint of the hash: a session made before a password change dies."""
        return hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]


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
    verify_password(_DUMMY_HASH, "not the password")


async def get_operator_by_email(session: AsyncSession, *, email: str) -> Operator | None:
    """The operator with this (normalised) e-mail."""
    result = await session.exec(select(Operator).where(Operator.email == email))
    return result.one_or_none()


async def set_operator(
    session: AsyncSession, *, email: str, password_hash: str, now: datetime | None = None
) -> tuple[Operator, bool]:
    """Add the operator, or give an existing one this password hash; True when added."""
    operator = await get_operator_by_email(session, email=email)
    created = operator is None
    if operator is None:
        operator = Operator(email=email, password_hash=password_hash, created_at=now or utcnow())
    else:
        operator.password_hash = password_hash
    session.add(operator)
    await session.flush()
    return operator, created
