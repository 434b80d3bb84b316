from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    Identity,
    Index,
    PrimaryKeyConstraint,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from audiences.core.db import Base


class AudienceEvent(Base):
    """A change to an audience or its members: when, by which key, what, how many, and in
    which request. Kept without a key to the audience, so a delete is recorded too."""

    __tablename__ = "audience_events"
    __table_args__ = (
        PrimaryKeyConstraint("account_id", "event_id"),
        ForeignKeyConstraint(["account_id"], ["accounts.account_id"], ondelete="CASCADE"),
        Index("ix_audience_events_account_id_audience_id", "account_id", "audience_id", "event_id"),
    )

    account_id: Mapped[int] = mapped_column(BigInteger)
    event_id: Mapped[int] = mapped_column(BigInteger, Identity())
    audience_id: Mapped[int] = mapped_column(BigInteger)
    audience_external_id: Mapped[str] = mapped_column(String(255))
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    operation: Mapped[str] = mapped_column(String(32))
    consumer_key: Mapped[str | None] = mapped_column(String(255))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB)
