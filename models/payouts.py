"""What administrators are paid for: one line per handout or extra meeting, in öre."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


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
