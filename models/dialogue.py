"""Where each chat conversation stands, kept in the database so it survives restarts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow

# Bumped by every UPDATE, which also checks it: a worker that wrote from a stale copy of the
# row gets StaleDataError instead of overwriting a newer state (see bot.dialogue).
_VERSION = Column("version", Integer, nullable=False, server_default="0")


class DialogueState(SQLModel, table=True):
    """One chat's current step and its scratch data."""

    __tablename__ = "dialogue_state"
    __table_args__ = (UniqueConstraint("channel", "chat_key"),)
    __mapper_args__ = {"version_id_col": _VERSION}

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    chat_key: str = Field(max_length=64)
    step: str = Field(default="start", max_length=50)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # The newest update handled (the recent ids themselves are in `data`, see bot.dialogue).
    last_update_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    version: int = Field(default=0, sa_column=_VERSION)
