"""What administrators are paid for: one line per handout or extra meeting, in öre, and the
monthly statements that lock the lines once exported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.meetings import ALL_FAILURE_REASONS, FailureReason
from models.types import UTCDateTime, utcnow


@dataclass(frozen=True, slots=True)
class Tariffs:
    """What each kind of line pays, in öre (the defaults: 500 kr and 250 kr), and which failure
    reasons make the card's next meeting a paid extra meeting (by default every one)."""

    handout_ore: int = 50_000
    extra_meeting_ore: int = 25_000
    extra_meeting_reasons: frozenset[FailureReason] = ALL_FAILURE_REASONS


class PayoutKind(StrEnum):
    """Why a line is paid."""

    handout = "handout"
    extra_meeting = "extra_meeting"
    adjustment = "adjustment"


class PayoutLine(SQLModel, table=True):
    """One amount owed to an admin; never edited once its statement is locked."""

    __tablename__ = "payout_line"
    # A meeting earns each kind at most once, however often an outcome is retried.
    __table_args__ = (UniqueConstraint("meeting_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    admin_id: int = Field(foreign_key="admin.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    card_id: int | None = Field(default=None, foreign_key="card.id")
    kind: PayoutKind = Field(sa_column=Column(String(20), nullable=False))
    amount_ore: int
    occurred_at: datetime = Field(sa_type=UTCDateTime, index=True)
    note: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set once, when the statement that pays the line is locked; the line is frozen from then.
    statement_id: int | None = Field(default=None, foreign_key="payout_statement.id", index=True)


class PayoutStatement(SQLModel, table=True):
    """An admin's locked statement for one month (Stockholm time): its lines point at it."""

    __tablename__ = "payout_statement"
    __table_args__ = (UniqueConstraint("admin_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    admin_id: int = Field(foreign_key="admin.id", index=True)
    month: str = Field(max_length=7, index=True)  # YYYY-MM
    total_ore: int
    locked_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # How the administrator was paid when the statement was locked (models.network.Payee's
    # values, and the company's organisation number); None on statements locked before payees.
    payee: str | None = Field(default=None, max_length=20)
    org_number: str | None = Field(default=None, max_length=11)
